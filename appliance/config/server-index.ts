// The real servers of each virtual service, found without scanning every server of the site:
// one index per stored configuration, built on first use and kept while that revision's
// object lives (revisions are never modified in place). The overview and the lists would
// otherwise cost VIPs x servers per read, a million steps at a thousand VIPs.
import type { StoredConfig, StoredRealServer } from './model.js';

const indexes = new WeakMap<StoredConfig['realServers'], Map<string, [string, StoredRealServer][]>>();
const NONE: readonly [string, StoredRealServer][] = Object.freeze([]);

/** `[id, server]` of every real server of `virtualServiceId`, in the stored order. */
export function serversOf(config: StoredConfig, virtualServiceId: string): readonly [string, StoredRealServer][] {
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
  return index.get(virtualServiceId) ?? NONE;
}
