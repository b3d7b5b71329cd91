// One index of real servers by virtual service per stored revision, shared by the API's views
// (serversOf) and the data plane's snapshot (buildSnapshot): the snapshot's servers of each
// VIP are the index's, in the stored order, and a revision's index is built once and kept.
import { describe, expect, it } from 'vitest';
import type { StoredConfig, StoredRealServer, VirtualServiceSpec } from '../../appliance/config/model.js';
import { serverIndex, serversOf } from '../../appliance/config/server-index.js';
import { buildSnapshot } from '../../appliance/config/snapshot.js';

const vs = (label: string) => ({ label, ipAddress: '127.0.225.10', ports: [80], protocol: 'http', enabled: true }) as unknown as VirtualServiceSpec;
const rs = (label: string, virtualServiceId: string) => ({ label, address: '127.0.229.1', port: 9000, weight: 100, virtualServiceId }) as unknown as StoredRealServer;

function config(): StoredConfig {
  return {
    virtualServices: { 'vs-a': vs('A'), 'vs-b': vs('B'), 'vs-empty': vs('E') },
    // Interleaved across VIPs: each VIP's servers keep the stored order.
    realServers: { 'rs-3': rs('3', 'vs-b'), 'rs-1': rs('1', 'vs-a'), 'rs-2': rs('2', 'vs-b'), 'rs-0': rs('0', 'vs-a') },
    certificates: {},
  } as unknown as StoredConfig;
}

const noKey = async () => '';

describe('the real servers of each virtual service', () => {
  it('are the same in the snapshot as in the views, in the stored order', async () => {
    const c = config();
    const snapshot = await buildSnapshot(1, c, noKey);
    for (const v of snapshot.virtualServices) expect(v.realServers.map((r) => r.id)).toEqual(serversOf(c, v.id).map(([id]) => id));
    expect(serversOf(c, 'vs-a').map(([id]) => id)).toEqual(['rs-1', 'rs-0']);
    expect(serversOf(c, 'vs-b').map(([id]) => id)).toEqual(['rs-3', 'rs-2']);
    expect(serversOf(c, 'vs-empty')).toEqual([]);
  });

  it('are indexed once per revision: the snapshot builds the index the views then read', async () => {
    const c = config();
    await buildSnapshot(1, c, noKey);
    const index = serverIndex(c);
    expect(serverIndex(c)).toBe(index);
    expect(serversOf(c, 'vs-a')).toBe(index.get('vs-a'));
    // The next revision has its own map of servers, and so its own index.
    const next = { ...c, realServers: { ...c.realServers, 'rs-4': rs('4', 'vs-empty') } };
    expect(serverIndex(next)).not.toBe(index);
    expect(serversOf(next, 'vs-empty').map(([id]) => id)).toEqual(['rs-4']);
    expect(serversOf(c, 'vs-empty')).toEqual([]);
  });
});
