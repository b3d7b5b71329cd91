// Open connections per real server of the layer 4 VIPs, for the overview and the metrics:
// a direct-routing flow is an element of the VIP's flow map whose value is the server's mark
// (closed flows linger there for a few seconds); a nat or snat connection is a conntrack
// entry whose mark is the server's (read from /proc/net/nf_conntrack, not TIME_WAIT/CLOSE).
import { readFile } from 'node:fs/promises';
import { nftList } from './nft.js';
import { vipName } from './ruleset.js';

/** Open connections by server mark. */
export type ConnectionCounts = Map<number, number>;

/** Counts the connections of the VIPs given. */
export async function countConnections(table: string, vips: { id: string; directRouting: boolean }[]): Promise<ConnectionCounts> {
  const counts: ConnectionCounts = new Map();
  const add = (mark: number) => counts.set(mark, (counts.get(mark) ?? 0) + 1);
  for (const v of vips.filter((x) => x.directRouting)) {
    try {
      const [map] = (await nftList('map', 'netdev', table, `flows_${vipName(v.id)}`)).flatMap((o) => ('map' in o ? [o.map as { elem?: unknown[] }] : []));
      for (const e of map?.elem ?? []) {
        const pair = Array.isArray(e) ? e : null;
        const value = pair?.[1];
        if (typeof value === 'number') add(value);
      }
    } catch {
      // not programmed
    }
  }
  if (vips.some((v) => !v.directRouting)) {
    const text = await readFile('/proc/net/nf_conntrack', 'utf8').catch(() => '');
    for (const line of text.split('\n')) {
      const mark = /\bmark=(\d+)/.exec(line);
      if (!mark || mark[1] === '0' || /\b(TIME_WAIT|CLOSE)\b/.test(line)) continue;
      add(Number(mark[1]));
    }
  }
  return counts;
}
