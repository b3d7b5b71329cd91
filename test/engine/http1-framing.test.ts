// Properties of the HTTP/1.1 framing code the proxy trusts (pure functions, no sockets):
// a chunked body is found to end at the same byte however the stream is cut into reads,
// its payload decodes to what was sent, and head parsing round-trips valid fields, refuses
// control characters in any field and framing names spelled with an underscore, and never
// lets Connection name Host or the framing as hop-by-hop.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChunkError, ChunkScanner } from '../../appliance/engine/embedded/chunked-scanner.js';
import { HeadError, parseRequestHead } from '../../appliance/engine/embedded/h1-head.js';

const TOKEN_CHARS = "!#$%&'*+.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-";
const token = fc.string({ unit: fc.constantFrom(...TOKEN_CHARS), minLength: 1, maxLength: 20 });
const fieldValue = fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 0, maxLength: 40 });

function encodeChunked(payloads: Buffer[], ext: boolean, trailers: string[]): Buffer {
  const parts: Buffer[] = [];
  for (const p of payloads) {
    if (p.length === 0) continue;
    parts.push(Buffer.from(`${p.length.toString(16)}${ext ? ';name=value' : ''}\r\n`), p, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`0\r\n${trailers.map((t) => `${t}\r\n`).join('')}\r\n`));
  return Buffer.concat(parts);
}

describe('ChunkScanner', () => {
  it('finds the end and the payload of any chunked body, however it is cut into reads', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 3000 }), { maxLength: 8 }),
        fc.boolean(),
        fc.array(fc.tuple(token, fieldValue).map(([n, v]) => `${n}: ${v}`), { maxLength: 3 }),
        fc.array(fc.integer({ min: 1, max: 4000 }), { minLength: 1, maxLength: 10 }),
        (raw, ext, trailers, cuts) => {
          const payloads = raw.map((r) => Buffer.from(r));
          const body = encodeChunked(payloads, ext, trailers);
          const next = Buffer.from('GET /next HTTP/1.1\r\n\r\n');
          const stream = Buffer.concat([body, next]);
          const scanner = new ChunkScanner();
          const decoded: Buffer[] = [];
          let offset = 0;
          let end = -1;
          let cut = 0;
          while (offset < stream.length && end < 0) {
            const size = cuts[cut++ % cuts.length] as number;
            const piece = stream.subarray(offset, Math.min(stream.length, offset + size));
            const stop = scanner.scan(piece, 0, piece.length, (b, s, e) => decoded.push(Buffer.from(b.subarray(s, e))));
            if (scanner.done) end = offset + stop;
            offset += piece.length;
          }
          expect(end).toBe(body.length);
          expect(Buffer.concat(decoded).equals(Buffer.concat(payloads))).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses sizes that are not hex, and data not followed by CRLF', () => {
    for (const bad of ['zz\r\n', '\r\n', '3\nabc\r\n', '3\r\nabcd\r\n', '1234567890abcdef0\r\n']) {
      expect(() => new ChunkScanner().scan(Buffer.from(bad), 0, bad.length)).toThrow(ChunkError);
    }
  });
});

describe('parseRequestHead', () => {
  it('round-trips valid fields', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(token, fieldValue), { maxLength: 30 }), (fields) => {
        const kept = fields.filter(([n]) => !['host', 'content-length', 'transfer-encoding', 'content_length', 'transfer_encoding'].includes(n.toLowerCase()));
        const text = `GET /x HTTP/1.1\r\nHost: a\r\n${kept.map(([n, v]) => `${n}: ${v}`).join('\r\n')}`.replace(/\r\n$/, '');
        const head = parseRequestHead(text);
        expect(head.names.slice(1)).toEqual(kept.map(([n]) => n));
        expect(head.values.slice(1)).toEqual(kept.map(([, v]) => v));
      }),
      { numRuns: 300 },
    );
  });

  it('never lets Connection name Host or the framing as hop-by-hop, and keeps the other tokens', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('Host', 'content-LENGTH', 'Transfer-Encoding', 'close', 'X-Drop', 'keep-alive'), { minLength: 1, maxLength: 6 }), (tokens) => {
        const head = parseRequestHead(`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nConnection: ${tokens.join(', ')}`);
        for (const name of ['host', 'content-length', 'transfer-encoding']) expect(head.connection.has(name)).toBe(false);
        for (const t of tokens.map((x) => x.toLowerCase()).filter((x) => ['close', 'x-drop', 'keep-alive'].includes(x))) expect(head.connection.has(t)).toBe(true);
        expect(head.close).toBe(tokens.includes('close'));
      }),
      { numRuns: 100 },
    );
  });

  it('refuses the framing names spelled with an underscore, in any case, and keeps other underscore names', () => {
    for (const name of ['Transfer_Encoding', 'transfer_encoding', 'CONTENT_LENGTH', 'Content_length']) {
      expect(() => parseRequestHead(`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n${name}: 3`)).toThrow(HeadError);
    }
    expect(parseRequestHead('GET / HTTP/1.1\r\nHost: a\r\nX_Foo: 1').names).toEqual(['Host', 'X_Foo']);
  });

  it('refuses a control character anywhere in a field', () => {
    fc.assert(
      fc.property(token, fieldValue, fc.integer({ min: 0, max: 0x1f }).filter((c) => c !== 0x09), fc.nat(), (name, value, ctl, at) => {
        const pos = value.length === 0 ? 0 : at % value.length;
        const dirty = `${value.slice(0, pos)}${String.fromCharCode(ctl)}${value.slice(pos)}`;
        expect(() => parseRequestHead(`GET / HTTP/1.1\r\nHost: a\r\n${name}: ${dirty}`)).toThrow(HeadError);
      }),
      { numRuns: 300 },
    );
  });
});
