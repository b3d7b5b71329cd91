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

/**
 * The index of `config`, derived from the index of `base` when `config` is `base` with the
 * real servers `changed` (null: removed) and no collection replaced whole: only the lists of
 * the VIPs those servers belong to are rebuilt. Null when that cannot be done exactly (no
 * index of `base`, or a server that moved to another VIP: its place in the stored order is
 * not known here), for the caller to build it whole.
 */
export function deriveServerIndex(config: StoredConfig, base: StoredConfig, changed: Readonly<Record<string, StoredRealServer | null>>): ServerIndex | null {
  const existing = indexes.get(config.realServers);
  if (existing) return existing;
  const from = indexes.get(base.realServers);
  if (!from) return null;
  const index = new Map(from);
  const copied = new Set<string>();
  const listOf = (vsId: string): [string, StoredRealServer][] => {
    let list = index.get(vsId);
    if (!copied.has(vsId)) {
      list = list ? [...list] : [];
      index.set(vsId, list);
      copied.add(vsId);
    }
    return list as [string, StoredRealServer][];
  };
  for (const [id, next] of Object.entries(changed)) {
    const before = base.realServers[id];
    if (before && next && before.virtualServiceId !== next.virtualServiceId) return null;
    const list = listOf((next ?? before)!.virtualServiceId);
    const at = before ? list.findIndex(([rsId]) => rsId === id) : -1;
    if (next && at >= 0) list[at] = [id, next];
    else if (next) list.push([id, next]); // a new id comes last in the stored order, and so last among its VIP's
    else if (at >= 0) list.splice(at, 1);
  }
  for (const vsId of copied) if (index.get(vsId)?.length === 0) index.delete(vsId);
  indexes.set(config.realServers, index);
  return index;
}

/** `[id, server]` of every real server of `virtualServiceId`, in the stored order. */
export function serversOf(config: StoredConfig, virtualServiceId: string): readonly [string, StoredRealServer][] {
  return serverIndex(config).get(virtualServiceId) ?? NONE;
}
