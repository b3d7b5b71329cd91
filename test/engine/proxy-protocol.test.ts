// The embedded engine's PROXY protocol codec (appliance/engine/embedded/proxy-protocol.ts)
// and the client keys of source-IP tables (appliance/engine/client-network.ts), without a
// process: every v1 and v2 header it writes is read back the same, a header split anywhere
// is incomplete until its last byte, and each malformed form is refused with its reason.
import { describe, expect, it } from 'vitest';
import { encodeV1, encodeV2, parseHeader, V2_SIGNATURE } from '../../appliance/engine/embedded/proxy-protocol.js';
import { clientKey, plainAddress } from '../../appliance/engine/client-network.js';

const cases = [
  { source: { address: '10.1.2.3', port: 40000 }, destination: { address: '127.0.246.217', port: 104 } },
  { source: { address: '2001:db8::7', port: 1 }, destination: { address: '::1', port: 65535 } },
  { source: { address: '::ffff:10.1.2.3', port: 5 }, destination: { address: '2001:db8:0:0:1::1', port: 6 } },
];

describe('PROXY protocol codec', () => {
  for (const c of cases) {
    for (const [name, encode] of [['v1', encodeV1], ['v2', encodeV2]] as const) {
      it(`${name} from ${c.source.address} reads back, and is incomplete when cut short`, () => {
        const bytes = encode(c.source, c.destination);
        const read = parseHeader(Buffer.concat([bytes, Buffer.from('GET /')]));
        expect(read).toMatchObject({ kind: 'ok', length: bytes.length, version: name === 'v1' ? 1 : 2 });
        const got = read.kind === 'ok' ? read.addresses : null;
        expect(got?.source.port).toBe(c.source.port);
        expect(got?.destination.port).toBe(c.destination.port);
        expect(plainAddress(got?.source.address ?? '')).toBe(plainAddress(c.source.address));
        expect(plainAddress(got?.destination.address ?? '')).toBe(plainAddress(c.destination.address));
        for (let n = 1; n < bytes.length; n++) expect(parseHeader(bytes.subarray(0, n)).kind, `cut at ${n}`).toBe('incomplete');
      });
    }
  }

  it('writes the exact v1 line and v2 block of the specification', () => {
    expect(encodeV1(cases[0]!.source, cases[0]!.destination).toString()).toBe('PROXY TCP4 10.1.2.3 127.0.246.217 40000 104\r\n');
    expect(encodeV2(cases[0]!.source, cases[0]!.destination).toString('hex')).toBe(`${V2_SIGNATURE.toString('hex')}2111000c0a010203 7f00f6d99c400068`.replace(' ', ''));
  });

  it('reads LOCAL (v2) and UNKNOWN (v1) as no address: the connection keeps its own', () => {
    const local = Buffer.concat([V2_SIGNATURE, Buffer.from([0x20, 0x00, 0x00, 0x00])]);
    expect(parseHeader(local)).toEqual({ kind: 'ok', length: 16, version: 2, addresses: null });
    expect(parseHeader(Buffer.from('PROXY UNKNOWN\r\n'))).toEqual({ kind: 'ok', length: 15, version: 1, addresses: null });
  });

  it('refuses each malformed header with its reason', () => {
    const v2 = (patch: (b: Buffer) => void) => {
      const b = encodeV2(cases[0]!.source, cases[0]!.destination);
      patch(b);
      return b;
    };
    const bad: [Buffer | string, RegExp][] = [
      ['GET / HTTP/1.1\r\n', /no PROXY protocol header/],
      ['PROXY TCP4 10.1.2.256 1.2.3.4 1 2\r\n', /not a canonical IPv4/],
      ['PROXY TCP4 010.1.2.3 1.2.3.4 1 2\r\n', /not a canonical IPv4/],
      ['PROXY TCP6 10.1.2.3 1.2.3.4 1 2\r\n', /not a canonical IPv6/],
      ['PROXY TCP4 10.1.2.3 1.2.3.4 01 2\r\n', /not a port number/],
      ['PROXY TCP4 10.1.2.3 1.2.3.4 1 65536\r\n', /not a port number/],
      ['PROXY TCP4  10.1.2.3 1.2.3.4 1 2\r\n', /single spaces/],
      ['PROXY UDP4 10.1.2.3 1.2.3.4 1 2\r\n', /is not TCP4, TCP6 or UNKNOWN/],
      ['PROXY TCP4 10.1.2.3 1.2.3.4 1 2\n', /not ended by CRLF/],
      [`PROXY TCP4 ${'1'.repeat(110)}`, /longer than 107 bytes/],
      [v2((b) => (b[5] = 0x0e)), /bad v2 signature/],
      [v2((b) => (b[12] = 0x31)), /version 3/],
      [v2((b) => (b[12] = 0x22)), /command 2/],
      [v2((b) => (b[13] = 0x41)), /not defined/],
      [v2((b) => b.writeUInt16BE(4, 14)), /address block of 4 bytes/],
    ];
    for (const [input, reason] of bad) {
      const read = parseHeader(Buffer.isBuffer(input) ? input : Buffer.from(input, 'latin1'));
      expect(read.kind, String(input)).toBe('invalid');
      expect(read.kind === 'invalid' ? read.reason : '', String(input)).toMatch(reason);
    }
  });
});

describe('client keys', () => {
  it('keeps whole addresses at full length and networks under shorter prefixes', () => {
    expect(clientKey('10.1.2.33', { ipv4PrefixLength: 32, ipv6PrefixLength: 128 })).toBe('10.1.2.33');
    expect(clientKey('::ffff:10.1.2.33', { ipv4PrefixLength: 24, ipv6PrefixLength: 64 })).toBe('10.1.2.0/24');
    expect(clientKey('10.1.2.33', { ipv4PrefixLength: 1, ipv6PrefixLength: 64 })).toBe('0.0.0.0/1');
    expect(clientKey('2001:db8:1:2:3:4:5:6', { ipv4PrefixLength: 24, ipv6PrefixLength: 64 })).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:db8:1:2:3:4:5:6', { ipv4PrefixLength: 24, ipv6PrefixLength: 52 })).toBe('2001:db8:1::/52');
    expect(clientKey('2001:DB8::1', { ipv4PrefixLength: 24, ipv6PrefixLength: 128 })).toBe('2001:db8::1');
  });
});
