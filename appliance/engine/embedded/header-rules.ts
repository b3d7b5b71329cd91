// Header rewriting between client and real server: hop-by-hop fields (RFC 9110 7.6.1) and
// the fields the Connection header names stay on their own hop, HTTP/2 pseudo-headers
// become a Host, X-Forwarded-For / -Proto tell the server who asked, and the appliance's
// own persistence cookie is taken out of what the server sees.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

const HOP_BY_HOP = new Set(['connection', 'proxy-connection', 'keep-alive', 'te', 'transfer-encoding', 'upgrade', 'http2-settings']);

function connectionTokens(value: string | string[] | undefined): Set<string> | null {
  if (value === undefined) return null;
  const text = Array.isArray(value) ? value.join(',') : value;
  const tokens = new Set<string>();
  for (const t of text.split(',')) {
    const name = t.trim().toLowerCase();
    if (name && name !== 'close' && name !== 'keep-alive') tokens.add(name);
  }
  return tokens.size > 0 ? tokens : null;
}

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

function withoutCookie(header: string, name: string): string | undefined {
  const kept = header
    .split(';')
    .map((p) => p.trim())
    .filter((p) => p.length > 0 && !p.startsWith(`${name}=`));
  return kept.length > 0 ? kept.join('; ') : undefined;
}

/** How a request is forwarded. */
export interface ForwardOptions {
  /** Insert X-Forwarded-For and X-Forwarded-Proto. */
  forwardedFor: boolean;
  client: string;
  tls: boolean;
  /** The persistence cookie to remove before the server sees the request. */
  cookieName: string | null;
}

/** The headers to send to the real server for a client request (HTTP/1.1 or HTTP/2). */
export function upstreamRequestHeaders(incoming: IncomingHttpHeaders, o: ForwardOptions): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const named = connectionTokens(incoming.connection);
  for (const name in incoming) {
    if (name.charCodeAt(0) === 0x3a) continue; // HTTP/2 pseudo-header
    if (HOP_BY_HOP.has(name) || named?.has(name)) continue;
    out[name] = incoming[name];
  }
  const authority = incoming[':authority'];
  if (out.host === undefined && typeof authority === 'string') out.host = authority;
  if (o.cookieName !== null && typeof out.cookie === 'string') {
    const rest = withoutCookie(out.cookie, o.cookieName);
    if (rest === undefined) delete out.cookie;
    else out.cookie = rest;
  }
  if (o.forwardedFor) {
    const prior = incoming['x-forwarded-for'];
    out['x-forwarded-for'] = prior ? `${Array.isArray(prior) ? prior.join(', ') : prior}, ${o.client}` : o.client;
    out['x-forwarded-proto'] = o.tls ? 'https' : 'http';
  }
  return out;
}

/** The headers to send to the client for a server response. */
export function clientResponseHeaders(incoming: IncomingHttpHeaders, setCookie: string | null): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const named = connectionTokens(incoming.connection);
  for (const name in incoming) {
    if (HOP_BY_HOP.has(name) || named?.has(name)) continue;
    out[name] = incoming[name];
  }
  if (setCookie !== null) {
    const prior = out['set-cookie'];
    out['set-cookie'] = prior === undefined ? [setCookie] : [...(Array.isArray(prior) ? prior : [String(prior)]), setCookie];
  }
  return out;
}
