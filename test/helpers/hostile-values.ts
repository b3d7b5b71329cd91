// The hostile values the contract fuzzer puts into requests, as fast-check arbitraries: free
// text that stays inside a schema's length bounds but is full of lone surrogates, NULs and
// direction marks; JSON fragments of the wrong type, at the boundaries, nested 10,000 levels
// or carrying __proto__; raw path segments (traversal, percent garbage, 5,000 characters);
// whole bodies that are not JSON at all; If-Match values that must never match; and
// Authorization headers that must never authenticate. Each comes with a note saying what it is.
import fc from 'fast-check';
import type { Schema } from './schema-arbitrary.js';

/** A value and what it is. */
export interface Noted<T> {
  value: T;
  note: string;
}

/** Length as JSON Schema counts it (code points; a lone surrogate is one). */
export function codePoints(s: string): number {
  return [...s].length;
}

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
const anyUnit = fc.oneof({ weight: 3, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) }, { weight: 1, arbitrary: loneSurrogate });

/** Strings a parser, a certificate library or a log line may choke on. */
export const NASTY_STRINGS = [
  'a\ud800',
  '\udc00',
  'x\udfff\ud800y',
  '\u0000',
  'nul\u0000inside',
  '\u202egnp.exe',
  '\ufeffbom',
  'é',
  '😀',
  'Ω≈ç√∫',
  '<script>alert(1)</script>',
  "'; DROP TABLE users;--",
  '../../../etc/passwd',
  '${jndi:ldap://127.0.190.9/x}',
  '%s%n%x',
  'CN=a,O=b+OU=c',
  '#leading',
  '\\',
  '"',
  '\r\nx-injected: 1',
  ' ',
  '__proto__',
  'constructor',
] as const;

/** Free text inside a string schema's length bounds: ordinary, nasty, or random code units (lone surrogates included). */
export function hostileText(schema: Schema): fc.Arbitrary<string> {
  const min = (schema.minLength as number | undefined) ?? 0;
  const max = (schema.maxLength as number | undefined) ?? 10_000;
  const fits = (s: string) => codePoints(s) >= min && codePoints(s) <= max;
  const pad = (s: string) => (codePoints(s) < min ? s + 'x'.repeat(min - codePoints(s)) : s);
  return fc.oneof(
    { weight: 2, arbitrary: fc.string({ minLength: min, maxLength: Math.min(max, Math.max(min, 30)) }) },
    { weight: 3, arbitrary: fc.constantFrom(...NASTY_STRINGS).map(pad).filter(fits) },
    { weight: 2, arbitrary: fc.string({ unit: anyUnit, minLength: min, maxLength: Math.min(max, Math.max(min, 20)) }).filter(fits) },
    { weight: 1, arbitrary: fc.constant(null).map(() => 'a\ud800'.repeat(Math.max(1, Math.floor(max / 2)))).filter(fits) },
  );
}

function nest(open: string, close: string, depth: number): string {
  return `${open.repeat(depth)}null${close.repeat(depth)}`;
}

/** JSON fragments of the wrong type or at the edges of numbers. */
export const wrongTypes: fc.Arbitrary<Noted<string>> = fc.constantFrom<Noted<string>>(
  { value: '"text"', note: 'a string' },
  { value: '1', note: 'the number 1' },
  { value: '-1', note: '-1' },
  { value: '0', note: '0' },
  { value: '1.5', note: 'a fraction' },
  { value: '-0', note: '-0' },
  { value: '1e400', note: '1e400 (Infinity when parsed)' },
  { value: '9007199254740993', note: '2^53+1' },
  { value: '65536', note: '65536' },
  { value: 'true', note: 'true' },
  { value: 'null', note: 'null' },
  { value: '[]', note: 'an empty array' },
  { value: '{}', note: 'an empty object' },
  { value: '""', note: 'an empty string' },
  { value: `[${'1,'.repeat(9_999)}1]`, note: 'an array of 10,000 numbers' },
);

/** JSON fragments nested deeper than any recursive walk of a request should go. */
export const deepNesting: fc.Arbitrary<Noted<string>> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(10_000, 100_000).map((depth) => ({ value: nest('{"a":', '}', depth), note: `objects nested ${depth} levels` })) },
  { weight: 1, arbitrary: fc.constantFrom(10_000, 100_000).map((depth) => ({ value: nest('[', ']', depth), note: `arrays nested ${depth} levels` })) },
);

/** JSON fragments that try the prototype chain. */
export const prototypeKeys: fc.Arbitrary<Noted<string>> = fc.constantFrom<Noted<string>>(
  { value: '{"__proto__":{"polluted":true}}', note: 'an object with a __proto__ key' },
  { value: '{"constructor":{"prototype":{"polluted":true}}}', note: 'an object with constructor.prototype' },
  { value: '{"__proto__":null}', note: 'an object whose __proto__ is null' },
);

/** JSON strings a parser, a certificate library or a log line may choke on. */
export const hostileStrings: fc.Arbitrary<Noted<string>> = fc.oneof(
  { weight: 3, arbitrary: fc.oneof(fc.constantFrom(...NASTY_STRINGS), fc.string({ unit: anyUnit, minLength: 1, maxLength: 30 })).map((s) => ({ value: JSON.stringify(s), note: `the string ${JSON.stringify(s)}` })) },
  { weight: 1, arbitrary: fc.constantFrom(300, 70_000).map((n) => ({ value: JSON.stringify('a\ud800'.repeat(n / 2)), note: `a string of ${n} characters with lone surrogates` })) },
);

/** Whole bodies that are not the JSON document an operation takes. */
export const garbageBodies: fc.Arbitrary<Noted<string | Buffer>> = fc.constantFrom<Noted<string | Buffer>>(
  { value: '', note: 'an empty body' },
  { value: '{', note: 'truncated JSON' },
  { value: '{"label": ', note: 'truncated JSON' },
  { value: '{"a":1,}', note: 'a trailing comma' },
  { value: "{'a':1}", note: 'single quotes' },
  { value: '{"a":NaN}', note: 'NaN' },
  { value: '{"a":1}{"b":2}', note: 'two documents' },
  { value: '\ufeff{}', note: 'a byte order mark' },
  { value: 'null', note: 'null' },
  { value: '[]', note: 'an array' },
  { value: '"text"', note: 'a string' },
  { value: '12', note: 'a number' },
  { value: '{"__proto__":{"polluted":true}}', note: 'only a __proto__ key' },
  { value: nest('{"a":', '}', 10_000), note: 'objects nested 10,000 levels' },
  { value: nest('[', ']', 10_000), note: 'arrays nested 10,000 levels' },
  { value: Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xed, 0xa0, 0x80, 0x22, 0x7d]), note: 'invalid UTF-8 inside a string' },
  { value: 'label=x&ipAddress=1', note: 'a form' },
);

/** Content types no operation takes (undefined: no Content-Type header), and odd spellings of JSON. */
export const foreignContentTypes: fc.Arbitrary<string | undefined> = fc.constantFrom<string | undefined>(
  undefined,
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/json; charset=utf-16',
  'application/xml',
  '*/*',
  'application/json;;;',
  'APPLICATION/JSON',
);

/** Raw path segments that address nothing legitimately (sent as they are, encoded or not). */
export const hostileSegments: fc.Arbitrary<Noted<string>> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom<Noted<string>>(
      { value: '%', note: 'a lone %' },
      { value: '%zz', note: 'bad percent escape' },
      { value: '..', note: 'a raw ..' },
      { value: '.', note: 'a raw .' },
      { value: '..%2F..%2Fconfig', note: 'encoded traversal' },
      { value: '%2e%2e', note: 'encoded ..' },
      { value: '%00', note: 'an encoded NUL' },
      { value: '%ED%A0%80', note: 'a lone surrogate in UTF-8 (invalid)' },
      { value: '%F0%9F%98%80', note: 'an emoji' },
      { value: 'a'.repeat(5_000), note: 'a 5,000-character id' },
      { value: 'a'.repeat(101), note: 'a 101-character id' },
      { value: '__proto__', note: '__proto__' },
      { value: 'constructor', note: 'constructor' },
      { value: '-1', note: '-1' },
      { value: '0', note: '0' },
      { value: '1e3', note: '1e3' },
      { value: '99999999999999999999999', note: 'a huge number' },
      { value: 'vs-0123456789AB', note: 'upper-case hex' },
      { value: 'a;b=c', note: 'a matrix parameter' },
      { value: '%20', note: 'a space' },
    ),
  },
  { weight: 1, arbitrary: fc.string({ unit: anyUnit, minLength: 1, maxLength: 12 }).map((s) => ({ value: encodeSegment(s), note: `the encoded string ${JSON.stringify(s)}` })) },
);

/** Segments the HTTP router itself chokes on: broken percent escapes, an encoded lone surrogate, ids longer than its limit. */
export const routerBreakingSegments: fc.Arbitrary<Noted<string>> = fc.oneof(
  fc.constantFrom<Noted<string>>(
    { value: '%', note: 'a lone %' },
    { value: '%zz', note: 'bad percent escape' },
    { value: '%ED%A0%80', note: 'a lone surrogate in UTF-8 (invalid)' },
    { value: 'a'.repeat(5_000), note: 'a 5,000-character id' },
    { value: 'a'.repeat(101), note: 'a 101-character id' },
  ),
  fc.string({ unit: loneSurrogate, minLength: 1, maxLength: 3 }).map((s) => ({ value: encodeSegment(s), note: `the encoded string ${JSON.stringify(s)}` })),
);

/**
 * Hostile segments the router can still decode and match (no broken percent escapes, no
 * over-long ids): a request with one of these reaches the operation, so its credentials are
 * what decides the answer.
 */
export const routableSegments: fc.Arbitrary<Noted<string>> = hostileSegments.filter((s) => !/%(?![0-9A-Fa-f]{2})|%zz|%ED|^a{101,}$/.test(s.value) && !s.note.startsWith('the encoded string'));

/** encodeURIComponent that also encodes lone surrogates (as the WTF-8 bytes a sloppy client sends). */
export function encodeSegment(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (ch.length === 1 && c >= 0xd800 && c <= 0xdfff) out += [0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`).join('');
    else out += encodeURIComponent(ch);
  }
  return out;
}

/** Query values that are not what a parameter takes. */
export const hostileQueryValues: fc.Arbitrary<Noted<string>> = fc.constantFrom<Noted<string>>(
  { value: '', note: 'empty' },
  { value: '0', note: '0' },
  { value: '-1', note: '-1' },
  { value: '1001', note: '1001' },
  { value: 'abc', note: 'text' },
  { value: '1e3', note: '1e3' },
  { value: '1.5', note: 'a fraction' },
  { value: '%', note: 'a lone %' },
  { value: '%00', note: 'an encoded NUL' },
  { value: '%ED%A0%80', note: 'an encoded lone surrogate' },
  { value: 'a'.repeat(5_000), note: '5,000 characters' },
  { value: '99999999999999999999999', note: 'a huge number' },
);

/** If-Match values that match nothing the appliance ever sent (resolved relative to the current ETag where they say so). */
export type IfMatchKind = 'weak-of-current' | 'stale';

/** If-Match garbage (never the current strong ETag, never `*`). */
export const garbageIfMatch: fc.Arbitrary<string> = fc.constantFrom('garbage', '"', 'W/', '""', 'W/""', '"x", W/"y"', `"${'a'.repeat(300)}"`, '"\u00e9"', 'W/"*"', '**');

/** Authorization headers that must not authenticate anyone (apart from wrong passwords, which the test builds). */
export const garbageAuthorization: fc.Arbitrary<Noted<string>> = fc.constantFrom<Noted<string>>(
  { value: 'Basic', note: 'Basic without credentials' },
  { value: 'Basic !!!', note: 'Basic with non-base64' },
  { value: `Basic ${Buffer.from('nocolon').toString('base64')}`, note: 'Basic without a colon' },
  { value: `Basic ${Buffer.from(':').toString('base64')}`, note: 'Basic with empty user and password' },
  { value: `Basic ${'QUFB'.repeat(2_000)}`, note: 'Basic with 8,000 characters' },
  { value: 'Bearer abc', note: 'a bearer token' },
  { value: 'Digest username="loadbalancer"', note: 'Digest' },
  { value: 'Basic\tbG9hZGJhbGFuY2VyOng=', note: 'Basic with a tab' },
);
