// The bytes a viewer's /bytes/<n> download sends: a position-dependent pattern with no short
// period, so a dropped, repeated or shifted block changes what a client compares.
import { Readable } from 'node:stream';

/** The pattern's bytes from `offset` for `length` bytes. */
export function patternBytes(offset: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  for (let k = 0; k < length; k++) {
    const i = offset + k;
    out[k] = (Math.imul((i ^ (i >>> 11)) >>> 0, 0x9e3779b1) >>> 24) ^ (i >>> 16);
  }
  return out;
}

/** A stream of the first `total` pattern bytes, in 64 KiB chunks. */
export function patternStream(total: number): Readable {
  const CHUNK = 64 * 1024;
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= total) {
        this.push(null);
        return;
      }
      const n = Math.min(CHUNK, total - sent);
      this.push(patternBytes(sent, n));
      sent += n;
    },
  });
}
