// How a source-IP persistence table names a client: its address, or the network it is in
// when the VIP keeps clients by network (persistence.ipv4PrefixLength / ipv6PrefixLength),
// written as the API shows it (`10.1.2.0/24`, `2001:db8:1:2::/64`). Both engines key their
// tables this way (the HAProxy engine reads its stick table's masked keys back into it), so
// the API lists and clears entries alike on either.
import { isIPv4, isIPv6 } from 'node:net';

/** The prefix lengths a VIP keeps clients by. */
export interface ClientPrefixes {
  ipv4PrefixLength: number;
  ipv6PrefixLength: number;
}

function ipv6Groups(address: string): number[] | null {
  if (!isIPv6(address)) return null;
  const url = new URL(`http://[${address}]/`).hostname.slice(1, -1);
  const [head, tail] = url.includes('::') ? (url.split('::') as [string, string]) : [url, ''];
  const part = (p: string): number[] => (p === '' ? [] : p.split(':').flatMap((g) => (g.includes('.') ? ((o) => [(o[0]! << 8) | o[1]!, (o[2]! << 8) | o[3]!])(g.split('.').map(Number)) : [parseInt(g, 16)])));
  const left = part(head);
  const right = part(tail);
  return [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
}

function ipv6FromGroups(groups: number[]): string {
  return new URL(`http://[${groups.map((g) => g.toString(16)).join(':')}]/`).hostname.slice(1, -1);
}

/** The address as a client key (IPv4-mapped IPv6 as IPv4), or null when it is no address. */
export function plainAddress(address: string): string | null {
  const a = address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
  if (isIPv4(a)) return a;
  const groups = ipv6Groups(a);
  if (!groups) return null;
  // An IPv4-mapped address (however written) is the IPv4 client it stands for.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join('.');
  return ipv6FromGroups(groups);
}

/** The table key of a client address under the VIP's prefixes (the address itself at full length). */
export function clientKey(address: string, prefixes: ClientPrefixes): string {
  const a = plainAddress(address) ?? address;
  if (isIPv4(a)) {
    const bits = prefixes.ipv4PrefixLength;
    if (bits >= 32) return a;
    const n = a.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    const net = (n & mask) >>> 0;
    return `${[24, 16, 8, 0].map((s) => (net >>> s) & 0xff).join('.')}/${bits}`;
  }
  const bits = prefixes.ipv6PrefixLength;
  const groups = ipv6Groups(a);
  if (!groups || bits >= 128) return a;
  const masked = groups.map((g, i) => {
    const keep = Math.max(0, Math.min(16, bits - i * 16));
    return keep === 0 ? 0 : g & ((0xffff << (16 - keep)) & 0xffff);
  });
  return `${ipv6FromGroups(masked)}/${bits}`;
}

/** The network address of a key (`10.1.2.0` of `10.1.2.0/24`). */
export function keyAddress(key: string): string {
  const slash = key.indexOf('/');
  return slash < 0 ? key : key.slice(0, slash);
}

/** Whether a VIP's persistence keeps a source-IP table: `source-ip`, or `http-cookie` with `sourceIpFallback`. */
export function keepsSourceTable(p: { mode: string; sourceIpFallback?: boolean }): boolean {
  return p.mode === 'source-ip' || (p.mode === 'http-cookie' && p.sourceIpFallback === true);
}
