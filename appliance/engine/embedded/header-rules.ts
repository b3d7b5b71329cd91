// Small helpers of the HTTP proxies: the client's address as servers expect it, and the
// appliance's persistence cookie found in a Cookie header.

/** The client address as servers expect it (IPv4-mapped IPv6 as plain IPv4). */
export function clientAddress(remote: string | undefined): string {
  if (!remote) return '';
  return remote.startsWith('::ffff:') && remote.includes('.') ? remote.slice(7) : remote;
}

/** The value of one cookie in a Cookie header, or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  const at = header.indexOf(`${name}=`);
  if (at < 0) return undefined;
  if (at > 0) {
    const before = header.charCodeAt(at - 1);
    if (before !== 0x20 && before !== 0x3b) return cookieValue(header.slice(at + name.length), name);
  }
  const end = header.indexOf(';', at);
  return header.slice(at + name.length + 1, end < 0 ? undefined : end).trim();
}

/** A Cookie header without one cookie (empty when nothing else is left). */
export function withoutCookie(header: string, name: string): string {
  return header
    .split(';')
    .map((p) => p.trim())
    .filter((p) => p.length > 0 && !p.startsWith(`${name}=`))
    .join('; ');
}
