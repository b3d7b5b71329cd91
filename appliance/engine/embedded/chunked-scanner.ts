// Reads the chunked transfer coding (RFC 9112 7.1) as bytes stream through: it finds where
// a chunked body ends, refuses malformed chunking, and can hand out just the payload (for
// an HTTP/1.0 client, which cannot receive chunks). Chunk data is skipped by length, so
// only the few bytes of size lines are looked at.

const enum S {
  Size,
  Ext,
  SizeLf,
  Data,
  DataCr,
  DataLf,
  TrailerStart,
  Trailer,
  TrailerLf,
  EndLf,
  Done,
}

/** Malformed chunked coding. */
export class ChunkError extends Error {}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** A streaming reader of one chunked body. */
export class ChunkScanner {
  #state = S.Size;
  #size = 0;
  #digits = 0;
  #remaining = 0;
  #lineBytes = 0;

  /** Whether the whole body (last chunk and trailers) has been seen. */
  get done(): boolean {
    return this.#state === S.Done;
  }

  /**
   * Scans `buf[start..end)`; returns the offset just past the body's end when it ends in
   * this range, else `end`. `onData` receives payload ranges. Throws ChunkError.
   */
  scan(buf: Buffer, start: number, end: number, onData?: (buf: Buffer, from: number, to: number) => void): number {
    let i = start;
    while (i < end) {
      switch (this.#state) {
        case S.Size: {
          const c = buf[i] as number;
          const v = hexValue(c);
          if (v >= 0) {
            if (++this.#digits > 15) throw new ChunkError('chunk size too large');
            this.#size = this.#size * 16 + v;
          } else if (this.#digits === 0) throw new ChunkError('missing chunk size');
          else if (c === 0x3b || c === 0x20 || c === 0x09) this.#state = S.Ext;
          else if (c === 0x0d) this.#state = S.SizeLf;
          else throw new ChunkError('invalid chunk size');
          i++;
          break;
        }
        case S.Ext: {
          const c = buf[i] as number;
          if (c === 0x0d) this.#state = S.SizeLf;
          else if ((c < 0x20 && c !== 0x09) || c === 0x7f) throw new ChunkError('invalid chunk extension');
          else if (++this.#lineBytes > 4096) throw new ChunkError('chunk extension too long');
          i++;
          break;
        }
        case S.SizeLf:
          if (buf[i] !== 0x0a) throw new ChunkError('chunk size line not ended by CRLF');
          i++;
          this.#lineBytes = 0;
          if (this.#size === 0) this.#state = S.TrailerStart;
          else {
            this.#remaining = this.#size;
            this.#state = S.Data;
          }
          break;
        case S.Data: {
          const take = Math.min(this.#remaining, end - i);
          onData?.(buf, i, i + take);
          i += take;
          this.#remaining -= take;
          if (this.#remaining === 0) this.#state = S.DataCr;
          break;
        }
        case S.DataCr:
          if (buf[i] !== 0x0d) throw new ChunkError('chunk data not followed by CRLF');
          this.#state = S.DataLf;
          i++;
          break;
        case S.DataLf:
          if (buf[i] !== 0x0a) throw new ChunkError('chunk data not followed by CRLF');
          this.#state = S.Size;
          this.#size = 0;
          this.#digits = 0;
          i++;
          break;
        case S.TrailerStart:
          if (buf[i] === 0x0d) this.#state = S.EndLf;
          else this.#state = S.Trailer;
          i++;
          break;
        case S.Trailer: {
          const c = buf[i] as number;
          if (c === 0x0d) this.#state = S.TrailerLf;
          else if (c === 0x0a || c === 0) throw new ChunkError('bare LF in trailer');
          else if (++this.#lineBytes > 8192) throw new ChunkError('trailer too long');
          i++;
          break;
        }
        case S.TrailerLf:
          if (buf[i] !== 0x0a) throw new ChunkError('trailer line not ended by CRLF');
          this.#state = S.TrailerStart;
          i++;
          break;
        case S.EndLf:
          if (buf[i] !== 0x0a) throw new ChunkError('chunked body not ended by CRLF');
          this.#state = S.Done;
          return i + 1;
        case S.Done:
          return i;
      }
    }
    return end;
  }
}
