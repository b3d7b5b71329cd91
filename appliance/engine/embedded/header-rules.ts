// What the HTTP/1 and HTTP/2 proxies do to headers, written once for both (issue 13): the
// client's address as servers expect it, the request fields a server gets (X-Forwarded-For
// and -Proto stated by the appliance, its persistence cookie taken out) and the Set-Cookie
// that makes a client stick to its server.
import type { Socket } from 'node:net';
import { proxiedAddresses } from './proxy-protocol.js';

/** The client address as servers expect it (IPv4-mapped IPv6 as plain IPv4). */
export function clientAddress(remote: string | undefined): string {
  if (!remote) return '';
  return remote.startsWith('::ffff:') && remote.includes('.') ? remote.slice(7) : remote;
}

/** The client of a connection: the address a PROXY protocol header named (acceptProxy), else the peer's. */
export function clientOf(socket: Socket | undefined | null): string {
  const proxied = proxiedAddresses(socket);
  return proxied ? clientAddress(proxied.source.address) : clientAddress(socket?.remoteAddress);
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

/** How request fields are rewritten for the server. */
export interface ForwardRules {
  /** Whether the appliance states X-Forwarded-For / -Proto (and drops the client's -Proto). */
  forwardedFor: boolean;
  /** The persistence cookie to take out of Cookie, or null. */
  cookieName: string | null;
}

/**
 * The request fields one request's server gets, field by field: `value` says what to send
 * for a field (null: leave it out), collecting the client's X-Forwarded-For; `added` gives
 * the X-Forwarded-For (that chain plus the client) and X-Forwarded-Proto lines to append.
 */
export class ForwardedFields {
  readonly #rules: ForwardRules;
  #xff: string | null = null;

  constructor(rules: ForwardRules) {
    this.#rules = rules;
  }

  /** The value to forward for a field named `name` (lower case), or null to leave it out. */
  value(name: string, value: string): string | null {
    const { forwardedFor, cookieName } = this.#rules;
    if (forwardedFor && name === 'x-forwarded-for') {
      this.#xff = this.#xff === null ? value : `${this.#xff}, ${value}`;
      return null;
    }
    if (forwardedFor && name === 'x-forwarded-proto') return null;
    if (cookieName !== null && name === 'cookie' && value.includes(`${cookieName}=`)) {
      const kept = withoutCookie(value, cookieName);
      return kept.length > 0 ? kept : null;
    }
    return value;
  }

  /** The X-Forwarded-* lines to append (names in `xff` and `proto` as the proxy writes them), '' when off. */
  added(client: string, proto: 'http' | 'https', names: { xff: string; proto: string }): string {
    if (!this.#rules.forwardedFor) return '';
    return `${names.xff}: ${this.#xff === null ? client : `${this.#xff}, ${client}`}\r\n${names.proto}: ${proto}\r\n`;
  }
}

/** The Set-Cookie value that keeps a client on the server whose cookie value is `value`. */
export function persistenceSetCookie(name: string, value: string, maxAgeSeconds: number, secure: boolean): string {
  return `${name}=${value}; Path=/; Max-Age=${maxAgeSeconds}; HttpOnly${secure ? '; Secure' : ''}`;
}
