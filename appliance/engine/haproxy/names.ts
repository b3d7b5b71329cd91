// Names the HAProxy configuration uses for the appliance's objects. Proxies and servers are
// named by the stable ids of the config (never labels, which users may rename), so a
// runtime command, a stats row and a stick-table entry replicated by `peers` all point at
// the same object on both nodes of an HA pair.
import { createHash } from 'node:crypto';
import { cookieValueOf } from '../persistence-cookie.js';

/** The frontend that listens for a virtual service. */
export function frontendName(vsId: string): string {
  return `fe_${vsId}`;
}

/** The backend that balances a virtual service's real servers. */
export function backendName(vsId: string): string {
  return `be_${vsId}`;
}

/** The backend of a VIP's fallback server (not a `be_` proxy: its stats are not the VIP's). */
export function fallbackBackendName(vsId: string): string {
  return `fb_${vsId}`;
}

/** The server line name of a real server (unique inside its backend). */
export function serverName(rsId: string): string {
  return rsId;
}

/** The virtual service id of a proxy name, or null when the proxy is not one of ours. */
export function vsIdOfProxy(proxy: string): string | null {
  return proxy.startsWith('fe_') || proxy.startsWith('be_') ? proxy.slice(3) : null;
}

/** The persistence cookie value of a server: the same value the embedded engine uses. */
export function cookieValue(vsId: string, rsId: string): string {
  return cookieValueOf(vsId, rsId);
}

/** An address and port as HAProxy reads them (IPv6 in brackets). */
export function hostPort(address: string, port: number | null): string {
  const host = address.includes(':') ? `[${address}]` : address;
  return port === null ? host : `${host}:${port}`;
}

const PUID_SPACE = 0x7fffffff;

function puidOf(rsId: string): number {
  return (createHash('sha256').update(rsId).digest().readUInt32BE(0) % PUID_SPACE) + 1;
}

/**
 * The numeric id (HAProxy's `id`) of each real server of a backend, derived from the real
 * server ids so that every HAProxy process that carries the backend (the next worker after a
 * reload, the other node of a pair, a server added at runtime) numbers it alike: consistent
 * hashing places servers on its ring by this id. Two ids meeting on one number (1 chance in
 * 2^31 per pair) are told apart in the order of the real server ids.
 */
export function serverPuids(rsIds: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  const taken = new Set<number>();
  for (const id of [...rsIds].sort()) {
    let n = puidOf(id);
    while (taken.has(n)) n = (n % PUID_SPACE) + 1;
    taken.add(n);
    out.set(id, n);
  }
  return out;
}
