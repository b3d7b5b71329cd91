// Layer 4 weights and backup servers in the kernel (issue 14), in network namespaces, for
// direct routing and nat: servers weighted 3:1 take new connections roughly 3:1; a backup
// server takes new connections only while every primary is down, and gives them back as
// soon as one primary returns. A real appliance process programs nftables in its namespace;
// three real servers in theirs; this test is the client. Names start with `ins-`, addresses
// 198.18.64.0/22 (its own block).
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApplianceClient } from '../../openapi/sdk/index.js';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';
import { needProgram } from '../helpers/programs.js';
import { once } from './helpers/l4-client.js';
import { buildNetwork, rulesetOf, type L4Network, type ServerHost } from './helpers/l4-topology.js';

let net: L4Network;
let app: TestAppliance;
let client: ApplianceClient;
const processes = new Map<string, ChildProcess>();

beforeAll(async () => {
  needProgram('nft');
  net = await buildNetwork('w', 64, { prefix: 'ins', servers: 3 });
  for (const s of net.servers) processes.set(s.name, await net.startServer(s, [104]));
  for (let i = 0; i < 2; i++) await net.addVip(net.natVip(i));
  for (let i = 0; i < 2; i++) await net.addVip(net.drVip(i));
  app = await startTestAppliance({ engine: 'embedded', host: net.appAddress, wrap: ['ip', 'netns', 'exec', net.appNs] });
  client = app.client();
}, 120_000);

afterAll(async () => {
  await app?.dispose();
  await net?.teardown();
});

const check = { type: 'connect', interval: 1, timeout: 1, rise: 1, fall: 1 } as const;

async function waitFor(cond: () => Promise<boolean>, what: string, ms = 45_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}\n${await rulesetOf(net.appNs)}`);
}

/** Resolves once the VIP is programmed with exactly this health per server label. */
async function programmedWith(vsId: string, health: Record<string, string>): Promise<void> {
  await waitFor(async () => {
    const vs = (await client.getOverview()).virtualServices.find((v) => v.id === vsId);
    const now = Object.fromEntries((vs?.realServers ?? []).map((r) => [r.label, r.health]));
    return vs?.listening === true && Object.entries(health).every(([label, h]) => now[label] === h);
  }, `${vsId} programmed with ${JSON.stringify(health)}`);
}

/** Which servers `n` new connections reach (each from a new source port: a new flow). */
async function spread(vip: string, from: string, n: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const g = await once(vip, 104, from, 10_000);
    counts[g.server] = (counts[g.server] ?? 0) + 1;
  }
  return counts;
}

/** Stops a server's process (its port refuses: the check marks it down). */
async function stopServer(s: ServerHost): Promise<void> {
  const child = processes.get(s.name);
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}

async function startServer(s: ServerHost): Promise<void> {
  processes.set(s.name, await net.startServer(s, [104]));
}

const modes = [
  { forwarding: 'direct-routing', vip: (i: number) => net.drVip(i), from: () => net.drClient },
  { forwarding: 'nat', vip: (i: number) => net.natVip(i), from: () => net.natClient },
] as const;

describe.each(modes)('$forwarding', { timeout: 240_000 }, ({ forwarding, vip, from }) => {
  it('servers weighted 3:1 take new connections roughly 3:1', async () => {
    const vs = await client.createVirtualService({ label: `w-${forwarding}`, ipAddress: vip(0), ports: [104], protocol: 'tcp', forwarding, forwardedFor: false, healthCheck: check } as never);
    const [s1, s2] = net.servers;
    await client.createRealServer(vs.id, { label: 'S1', address: s1!.address, port: null, weight: 3 } as never);
    await client.createRealServer(vs.id, { label: 'S2', address: s2!.address, port: null, weight: 1 } as never);
    await programmedWith(vs.id, { S1: 'up', S2: 'up' });
    const n = 240;
    const counts = await spread(vip(0), from(), n);
    console.log(`${forwarding} weights 3:1 over ${n} connections: ${JSON.stringify(counts)}`);
    expect(Object.keys(counts).sort()).toEqual(['S1', 'S2']);
    // Expected 180:60; binomial sd is about 6.7, so these bounds are beyond 4 sd either way.
    const share = (counts.S1 ?? 0) / n;
    expect(share).toBeGreaterThan(0.62);
    expect(share).toBeLessThan(0.87);
    await client.deleteVirtualService(vs.id);
  });

  it('a backup takes new connections only while every primary is down, and gives them back when one returns', async () => {
    const vs = await client.createVirtualService({ label: `b-${forwarding}`, ipAddress: vip(1), ports: [104], protocol: 'tcp', forwarding, forwardedFor: false, healthCheck: check } as never);
    const [s1, s2, s3] = net.servers;
    await client.createRealServer(vs.id, { label: 'S1', address: s1!.address, port: null });
    await client.createRealServer(vs.id, { label: 'S2', address: s2!.address, port: null });
    await client.createRealServer(vs.id, { label: 'S3', address: s3!.address, port: null, backup: true } as never);
    try {
      await programmedWith(vs.id, { S1: 'up', S2: 'up', S3: 'up' });
      // Every primary up: the backup takes nothing.
      const all = await spread(vip(1), from(), 40);
      expect(Object.keys(all).sort()).toEqual(['S1', 'S2']);

      // One primary down: the other primary takes everything, the backup still nothing.
      await stopServer(s1!);
      await programmedWith(vs.id, { S1: 'down', S2: 'up', S3: 'up' });
      expect(await spread(vip(1), from(), 20)).toEqual({ S2: 20 });

      // Every primary down: the backup takes over.
      await stopServer(s2!);
      await programmedWith(vs.id, { S1: 'down', S2: 'down', S3: 'up' });
      expect(await spread(vip(1), from(), 20)).toEqual({ S3: 20 });

      // One primary back: it takes new connections back from the backup at once.
      await startServer(s1!);
      await programmedWith(vs.id, { S1: 'up', S2: 'down', S3: 'up' });
      expect(await spread(vip(1), from(), 20)).toEqual({ S1: 20 });

      // Both back: the primaries share, the backup waits again.
      await startServer(s2!);
      await programmedWith(vs.id, { S1: 'up', S2: 'up', S3: 'up' });
      const again = await spread(vip(1), from(), 40);
      expect(Object.keys(again).sort()).toEqual(['S1', 'S2']);
    } finally {
      for (const s of [s1!, s2!]) if (processes.get(s.name)?.exitCode !== null || processes.get(s.name)?.signalCode !== null) await startServer(s).catch(() => undefined);
      await client.deleteVirtualService(vs.id).catch(() => undefined);
    }
  });
});
