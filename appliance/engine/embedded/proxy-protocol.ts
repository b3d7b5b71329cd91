// The PROXY protocol (HAProxy's proxy-protocol.txt, versions 1 and 2) for the embedded
// engine: the header a VIP with `sendProxy` writes first on every connection to a real
// server, and the strict reader of the header a VIP with `acceptProxy` expects first on every
// client connection (from a load balancer in front). The reader accepts exactly what the
// specification allows and refuses anything else with a reason: a v1 line must be at most
// 107 bytes with single spaces, canonical addresses of the family it names and ports without
// leading zeros; a v2 header must carry the signature, version 2, a known command and, for
// PROXY over TCP, an address block as long as its family needs. The address it yields is the
// client's for X-Forwarded-For, source-IP persistence and logs.
import { isIPv4, isIPv6, type Socket } from 'node:net';

/** One end of a proxied connection. */
export interface Endpoint {
  address: string;
  port: number;
}

/** What a header says: the client and the address it connected to, or nothing (LOCAL, UNKNOWN: the connection's own). */
export interface ProxiedAddresses {
  source: Endpoint;
  destination: Endpoint;
}

/** The result of reading a header from the start of a buffer. */
export type HeaderRead = { kind: 'incomplete' } | { kind: 'invalid'; reason: string } | { kind: 'ok'; length: number; version: 1 | 2; addresses: ProxiedAddresses | null };

/** The 12-byte signature that opens a v2 header. */
export const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V1_PREFIX = Buffer.from('PROXY ');
/** The longest v1 line, CRLF included (proxy-protocol.txt 2.1). */
const V1_MAX = 107;
/** The longest v2 header we read (16-byte fixed part and at most this much after it). */
const V2_MAX_BODY = 4096;

function unmapped(address: string): string {
  return address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
}

function family(address: string): 4 | 6 {
  return isIPv4(unmapped(address)) ? 4 : 6;
}

/** The v1 text header for a connection from `source` to `destination`. */
export function encodeV1(source: Endpoint, destination: Endpoint): Buffer {
  let src = unmapped(source.address);
  let dst = unmapped(destination.address);
  // Both ends are of one family in a header: an IPv4 end beside an IPv6 one is written mapped.
  const six = family(src) === 6 || family(dst) === 6;
  if (six) {
    if (isIPv4(src)) src = `::ffff:${src}`;
    if (isIPv4(dst)) dst = `::ffff:${dst}`;
  }
  return Buffer.from(`PROXY ${six ? 'TCP6' : 'TCP4'} ${src} ${dst} ${source.port} ${destination.port}\r\n`, 'latin1');
}

function ipv4Bytes(address: string): Buffer {
  return Buffer.from(address.split('.').map(Number));
}

function ipv6Bytes(address: string): Buffer {
  const a = unmapped(address);
  if (isIPv4(a)) return Buffer.concat([Buffer.alloc(10), Buffer.from([0xff, 0xff]), ipv4Bytes(a)]);
  const [head, tail] = a.includes('::') ? (a.split('::') as [string, string]) : [a, ''];
  const groups = (part: string): string[] => (part === '' ? [] : part.split(':'));
  let left = groups(head);
  let right = groups(tail);
  // An embedded IPv4 tail (::ffff:1.2.3.4 written in full, 64:ff9b::1.2.3.4) is two groups.
  const expand = (list: string[]): string[] => list.flatMap((g) => (g.includes('.') ? ((b) => [((b[0]! << 8) | b[1]!).toString(16), ((b[2]! << 8) | b[3]!).toString(16)])(ipv4Bytes(g)) : [g]));
  left = expand(left);
  right = expand(right);
  const all = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const out = Buffer.alloc(16);
  all.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

/** The v2 binary header (command PROXY, TCP over IPv4 or IPv6) for a connection from `source` to `destination`. */
export function encodeV2(source: Endpoint, destination: Endpoint): Buffer {
  const six = family(source.address) === 6 || family(destination.address) === 6;
  const body = six ? Buffer.alloc(36) : Buffer.alloc(12);
  if (six) {
    ipv6Bytes(source.address).copy(body, 0);
    ipv6Bytes(destination.address).copy(body, 16);
    body.writeUInt16BE(source.port, 32);
    body.writeUInt16BE(destination.port, 34);
  } else {
    ipv4Bytes(unmapped(source.address)).copy(body, 0);
    ipv4Bytes(unmapped(destination.address)).copy(body, 4);
    body.writeUInt16BE(source.port, 8);
    body.writeUInt16BE(destination.port, 10);
  }
  const head = Buffer.alloc(16);
  V2_SIGNATURE.copy(head, 0);
  head[12] = 0x21; // version 2, command PROXY
  head[13] = six ? 0x21 : 0x11; // AF_INET6 or AF_INET, SOCK_STREAM
  head.writeUInt16BE(body.length, 14);
  return Buffer.concat([head, body]);
}

/** The header of `version` for a connection from `source` to `destination`. */
export function encodeHeader(version: 'v1' | 'v2', source: Endpoint, destination: Endpoint): Buffer {
  return version === 'v1' ? encodeV1(source, destination) : encodeV2(source, destination);
}

const PORT = /^(0|[1-9][0-9]{0,4})$/;

function v1Port(text: string): number | null {
  if (!PORT.test(text)) return null;
  const n = Number(text);
  return n <= 65535 ? n : null;
}

function v1Address(text: string, proto: 'TCP4' | 'TCP6'): string | null {
  if (proto === 'TCP4') {
    // Dotted quad without leading zeros (a leading zero reads as octal to some parsers).
    return isIPv4(text) && text.split('.').every((o) => o === '0' || !o.startsWith('0')) ? text : null;
  }
  return isIPv6(text) && !text.includes('%') ? text.toLowerCase() : null;
}

function parseV1(buf: Buffer): HeaderRead {
  const end = buf.indexOf('\r\n', 0, 'latin1');
  if (end < 0) {
    // A bare LF, or more bytes than a line may have, will never become a header.
    if (buf.includes(0x0a)) return { kind: 'invalid', reason: 'PROXY v1 line not ended by CRLF' };
    return buf.length >= V1_MAX ? { kind: 'invalid', reason: `PROXY v1 line longer than ${V1_MAX} bytes` } : { kind: 'incomplete' };
  }
  if (end + 2 > V1_MAX) return { kind: 'invalid', reason: `PROXY v1 line longer than ${V1_MAX} bytes` };
  const line = buf.subarray(0, end).toString('latin1');
  if (!/^[\x20-\x7e]*$/.test(line)) return { kind: 'invalid', reason: 'PROXY v1 line with a control character' };
  const parts = line.split(' ');
  if (parts[1] === 'UNKNOWN') return { kind: 'ok', length: end + 2, version: 1, addresses: null };
  if (parts.length !== 6) return { kind: 'invalid', reason: 'PROXY v1 line needs protocol, two addresses and two ports, separated by single spaces' };
  const proto = parts[1];
  if (proto !== 'TCP4' && proto !== 'TCP6') return { kind: 'invalid', reason: `PROXY v1 protocol ${JSON.stringify(proto)} is not TCP4, TCP6 or UNKNOWN` };
  const src = v1Address(parts[2]!, proto);
  const dst = v1Address(parts[3]!, proto);
  if (src === null || dst === null) return { kind: 'invalid', reason: `PROXY v1 address ${JSON.stringify(src === null ? parts[2] : parts[3])} is not a canonical ${proto === 'TCP4' ? 'IPv4' : 'IPv6'} address` };
  const sport = v1Port(parts[4]!);
  const dport = v1Port(parts[5]!);
  if (sport === null || dport === null) return { kind: 'invalid', reason: `PROXY v1 port ${JSON.stringify(sport === null ? parts[4] : parts[5])} is not a port number` };
  return { kind: 'ok', length: end + 2, version: 1, addresses: { source: { address: src, port: sport }, destination: { address: dst, port: dport } } };
}

function ipv6Text(b: Buffer): string {
  // An IPv4-mapped address is the IPv4 client it stands for.
  if (b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) return [...b.subarray(12, 16)].join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  // The canonical text (RFC 5952): node's URL parser compresses it.
  const text = new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
  return unmapped(text);
}

function parseV2(buf: Buffer): HeaderRead {
  if (buf.length < 16) return { kind: 'incomplete' };
  const verCmd = buf[12]!;
  if (verCmd >> 4 !== 2) return { kind: 'invalid', reason: `PROXY v2 header of version ${verCmd >> 4}` };
  const command = verCmd & 0x0f;
  if (command > 1) return { kind: 'invalid', reason: `PROXY v2 command ${command} is neither LOCAL nor PROXY` };
  const famProto = buf[13]!;
  const len = buf.readUInt16BE(14);
  if (len > V2_MAX_BODY) return { kind: 'invalid', reason: `PROXY v2 header of ${len} bytes (at most ${V2_MAX_BODY})` };
  if (buf.length < 16 + len) return { kind: 'incomplete' };
  const length = 16 + len;
  const body = buf.subarray(16, length);
  if (command === 0) return { kind: 'ok', length, version: 2, addresses: null }; // LOCAL: the connection's own addresses
  const fam = famProto >> 4;
  const proto = famProto & 0x0f;
  if (fam > 3 || proto > 2) return { kind: 'invalid', reason: `PROXY v2 address family/protocol byte 0x${famProto.toString(16).padStart(2, '0')} is not defined` };
  // UNSPEC, UNIX sockets or datagrams: nothing a TCP VIP can take a client address from.
  if (fam === 0 || fam === 3 || proto !== 1) return { kind: 'ok', length, version: 2, addresses: null };
  const need = fam === 1 ? 12 : 36;
  if (len < need) return { kind: 'invalid', reason: `PROXY v2 ${fam === 1 ? 'IPv4' : 'IPv6'} address block of ${len} bytes (needs ${need})` };
  if (fam === 1) {
    const ip = (at: number) => [...body.subarray(at, at + 4)].join('.');
    return { kind: 'ok', length, version: 2, addresses: { source: { address: ip(0), port: body.readUInt16BE(8) }, destination: { address: ip(4), port: body.readUInt16BE(10) } } };
  }
  return {
    kind: 'ok',
    length,
    version: 2,
    addresses: { source: { address: ipv6Text(body.subarray(0, 16)), port: body.readUInt16BE(32) }, destination: { address: ipv6Text(body.subarray(16, 32)), port: body.readUInt16BE(34) } },
  };
}

/** Reads a v1 or v2 header from the start of `buf` (the first bytes of a connection). */
export function parseHeader(buf: Buffer): HeaderRead {
  if (buf.length === 0) return { kind: 'incomplete' };
  if (buf[0] === V2_SIGNATURE[0]) {
    const n = Math.min(buf.length, 12);
    if (!buf.subarray(0, n).equals(V2_SIGNATURE.subarray(0, n))) return { kind: 'invalid', reason: 'no PROXY protocol header (bad v2 signature)' };
    return n < 12 ? { kind: 'incomplete' } : parseV2(buf);
  }
  const n = Math.min(buf.length, V1_PREFIX.length);
  if (!buf.subarray(0, n).equals(V1_PREFIX.subarray(0, n))) return { kind: 'invalid', reason: 'no PROXY protocol header at the start of the connection' };
  return n < V1_PREFIX.length ? { kind: 'incomplete' } : parseV1(buf);
}

const PROXIED = Symbol('lbappliance.proxied');

type Marked = Socket & { [PROXIED]?: ProxiedAddresses | null; _parent?: Marked };

/**
 * Reads the header off a client connection, then calls `done` with the socket paused and
 * the bytes after the header put back; the addresses it names are remembered on the socket
 * (proxiedAddresses). A connection without a valid header, or whose header is not complete
 * within `timeoutMs`, is closed and `refused` hears why.
 */
export function readProxyHeader(socket: Socket, timeoutMs: number, done: () => void, refused: (reason: string) => void): void {
  let buf: Buffer = Buffer.alloc(0);
  const finish = (reason: string | null) => {
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('end', onEnd);
    if (reason !== null) {
      refused(reason);
      socket.destroy();
    }
  };
  const onData = (chunk: Buffer) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    const read = parseHeader(buf);
    if (read.kind === 'incomplete') return;
    if (read.kind === 'invalid') return finish(read.reason);
    finish(null);
    socket.pause();
    (socket as Marked)[PROXIED] = read.addresses;
    const rest = buf.subarray(read.length);
    if (rest.length > 0) socket.unshift(rest);
    done();
  };
  const onEnd = () => finish('connection ended before a complete PROXY protocol header');
  const timer = setTimeout(() => finish('no complete PROXY protocol header in time'), timeoutMs);
  socket.on('data', onData);
  socket.once('end', onEnd);
  socket.on('error', () => socket.destroy());
  socket.resume();
}

/** The addresses a PROXY header gave a client connection (on a TLS socket: of the TCP connection under it), or null. */
export function proxiedAddresses(socket: Socket | undefined | null): ProxiedAddresses | null {
  const s = socket as Marked | undefined | null;
  if (!s) return null;
  return s[PROXIED] ?? s._parent?.[PROXIED] ?? null;
}

/** The header a VIP with `sendProxy` opens a server connection with, for a client connection; null when off. */
export function headerFor(version: 'off' | 'v1' | 'v2', socket: Socket | undefined | null): Buffer | null {
  if (version === 'off' || !socket) return null;
  const p = proxiedAddresses(socket);
  const source = p?.source ?? { address: socket.remoteAddress ?? '0.0.0.0', port: socket.remotePort ?? 0 };
  const destination = p?.destination ?? { address: socket.localAddress ?? '0.0.0.0', port: socket.localPort ?? 0 };
  return encodeHeader(version, source, destination);
}
