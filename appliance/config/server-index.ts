// The real servers of each virtual service, found without scanning every server of the site:
// one index per stored configuration, built on first use and kept while that revision's
// object lives (revisions are never modified in place). The API's views and lists and the
// data plane's snapshot (snapshot.ts) share it, so a revision groups its servers once; the
// views would otherwise cost VIPs x servers per read, a million steps at a thousand VIPs.
import type { StoredConfig, StoredRealServer } from './model.js';

/** `[id, server]` of each virtual service's real servers, in the stored order. */
export type ServerIndex = ReadonlyMap<string, readonly [string, StoredRealServer][]>;

const indexes = new WeakMap<StoredConfig['realServers'], Map<string, [string, StoredRealServer][]>>();
const NONE: readonly [string, StoredRealServer][] = Object.freeze([]);

/** The index of a stored configuration's real servers by virtual service (built once per revision). */
export function serverIndex(config: StoredConfig): ServerIndex {
  let index = indexes.get(config.realServers);
  if (!index) {
    index = new Map();
    for (const entry of Object.entries(config.realServers)) {
      const list = index.get(entry[1].virtualServiceId);
      if (list) list.push(entry);
      else index.set(entry[1].virtualServiceId, [entry]);
    }
    indexes.set(config.realServers, index);
  }
  return index;
}

/** `[id, server]` of every real server of `virtualServiceId`, in the stored order. */
export function serversOf(config: StoredConfig, virtualServiceId: string): readonly [string, StoredRealServer][] {
  return serverIndex(config).get(virtualServiceId) ?? NONE;
}
