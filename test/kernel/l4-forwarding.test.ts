// Layer 4 VIPs in the kernel (issue 14), in network namespaces: a real appliance process in
// its own namespace programs nftables; two real servers in theirs; this test is the client.
// Direct routing, nat, snat and udp VIPs carry traffic; the servers see the client's address
// (DR, nat) or the appliance's (snat); DR replies do not cross the appliance.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApplianceClient } from '../../openapi/sdk/index.js';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';
import { needProgram } from '../helpers/programs.js';
import { download, once, udpQuery } from './helpers/l4-client.js';
import { buildNetwork, rulesetOf, type L4Network } from './helpers/l4-topology.js';

let net: L4Network;
let app: TestAppliance;
let client: ApplianceClient;

beforeAll(async () => {
  needProgram('nft');
  net = await buildNetwork('f', 0);
  for (const s of net.servers) await net.startServer(s, [104, 8104]);
  for (let i = 0; i < 4; i++) await net.addVip(net.natVip(i));
  for (let i = 0; i < 2; i++) await net.addVip(net.drVip(i));
  app = await startTestAppliance({ engine: 'embedded', host: net.appAddress, wrap: ['ip', 'netns', 'exec', net.appNs] });
  client = app.client();
});

afterAll(async () => {
  await app?.dispose();
  await net?.teardown();
});

const l4 = { forwardedFor: false, healthCheck: { type: 'connect', interval: 1, timeout: 1, rise: 1, fall: 1 } } as const;

/** Creates a VIP with both servers; resolves once the overview says it is programmed with both up. */
async function vipWithServers(body: Record<string, unknown>, serverPort: number | null = null): Promise<string> {
  const vs = await client.createVirtualService({ ...l4, ...body } as never);
  for (const s of net.servers) await client.createRealServer(vs.id, { label: s.name, address: s.address, port: serverPort });
  await waitFor(async () => {
    const o = (await client.getOverview()).virtualServices.find((v) => v.id === vs.id);
    return o?.listening === true && o.realServers.every((r) => r.health === 'up');
  }, `VIP ${body.label as string} programmed with its servers up`);
  return vs.id;
}

async function waitFor(cond: () => Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}\n${await rulesetOf(net.appNs)}\n${(await client.getOverview().catch(() => null)) ? JSON.stringify((await client.getOverview()).virtualServices, null, 1) : ''}`);
}

describe('layer 4 forwarding', () => {
  it('direct routing: both servers answer, each sees the client address, replies bypass the appliance', async () => {
    await vipWithServers({ label: 'dr', ipAddress: net.drVip(0), ports: [104], protocol: 'tcp', forwarding: 'direct-routing' });
    const seen = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const g = await once(net.drVip(0), 104, net.drClient);
      expect(g.seen).toBe(net.drClient);
      seen.add(g.server);
    }
    expect([...seen].sort()).toEqual(['S1', 'S2']);
    // 8 MiB down: the appliance's interface carries the requests and ACKs, not the data.
    const before = await net.appBytes();
    const got = await download(net.drVip(0), 104, net.drClient, 8 << 20);
    const after = await net.appBytes();
    expect(got).toBe(8 << 20);
    expect(after.rx - before.rx + (after.tx - before.tx)).toBeLessThan(2 << 20);
  });

  it('nat: the server sees the client address, and the data comes back through the appliance', async () => {
    await vipWithServers({ label: 'nat', ipAddress: net.natVip(0), ports: [80], protocol: 'tcp', forwarding: 'nat' }, 104);
    const seen = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const g = await once(net.natVip(0), 80, net.natClient);
      expect(g.seen).toBe(net.natClient);
      seen.add(g.server);
    }
    expect([...seen].sort()).toEqual(['S1', 'S2']);
    const before = await net.appBytes();
    expect(await download(net.natVip(0), 80, net.natClient, 4 << 20)).toBe(4 << 20);
    const after = await net.appBytes();
    expect(after.tx - before.tx).toBeGreaterThan(4 << 20);
  });

  it('snat: the server sees the appliance address', async () => {
    await vipWithServers({ label: 'snat', ipAddress: net.natVip(1), ports: [104], protocol: 'tcp', forwarding: 'snat' });
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const g = await once(net.natVip(1), 104, net.natClient);
      expect(g.seen).toBe(net.appAddress);
      seen.add(g.server);
    }
    expect([...seen].sort()).toEqual(['S1', 'S2']);
  });

  it('udp over nat and direct routing: datagrams reach both servers with the client address', async () => {
    const check = { ...l4.healthCheck, port: 104 };
    await vipWithServers({ label: 'udp-nat', ipAddress: net.natVip(2), ports: [8104], protocol: 'udp', forwarding: 'nat', healthCheck: check });
    await vipWithServers({ label: 'udp-dr', ipAddress: net.drVip(1), ports: [8104], protocol: 'udp', forwarding: 'direct-routing', healthCheck: check });
    for (const [vip, from] of [[net.natVip(2), net.natClient], [net.drVip(1), net.drClient]] as const) {
      const seen = new Set<string>();
      for (let i = 0; i < 30; i++) {
        const g = await udpQuery(vip, 8104, from);
        expect(g.seen).toBe(from);
        seen.add(g.server);
      }
      expect([...seen].sort()).toEqual(['S1', 'S2']);
    }
  });
});
