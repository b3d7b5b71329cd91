// An HA pair of two appliances running the HAProxy engine: HAProxy's own `peers` replicate
// the source-IP stick table between the nodes (on the pair's replication port), so that when
// the active node is killed the passive one takes the VIP over and every source-IP client
// keeps its server; a reload of the active node keeps them too. Addresses: block 9 of the HA
// plan (nodes 127.0.100.91/.92, VIP 127.0.101.90, servers .91-.93), clients 127.0.102.91-102.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestAppliance } from '../helpers/appliance-process.js';
import { get } from '../engine/helpers/traffic.js';
import { startHttpBackend, type HttpBackend } from '../engine/helpers/backends.js';
import { addressBlock, clientOf, pair, PRIMARY_PASSWORD, SECONDARY_PASSWORD, startNode, stateOf, until } from '../ha/helpers/pair.js';
import { clientLoop, outageAfter, type ClientLoop } from '../ha/helpers/load.js';

const net = addressBlock(9);
const DEAD_TIME_MS = 1500;
const SOURCES = Array.from({ length: 12 }, (_, i) => `127.0.102.${91 + i}`);

/**
 * Every source-IP client keeps its server over the takeover and over a reload: the replicated
 * stick table holds placed clients, and a client the new HAProxy process meets before its
 * table is back is placed by the same consistent hash of its address (see
 * appliance/engine/haproxy/README.md, "Source-IP persistence over reloads and takeovers").
 */
const SETTLE_MS = 300;

/** How many clients were served by their server in every request since `since`; all must be. */
function kept(loops: ClientLoop[], before: Map<string, string>, since: number, what: string): number {
  let n = 0;
  for (const l of loops) {
    const served = l.samples.filter((s) => s.startedAt > since && s.ok);
    expect(served.length, l.source).toBeGreaterThan(0);
    if (served.every((s) => s.server === before.get(l.source))) n++;
  }
  console.log(`${what}: ${n} of ${loops.length} source-IP clients kept their server`);
  expect(n, what).toBe(loops.length);
  return n;
}

let a: TestAppliance;
let b: TestAppliance;
let backends: HttpBackend[] = [];

beforeAll(async () => {
  const started = await Promise.all([
    startNode(net.a, PRIMARY_PASSWORD, { engine: 'haproxy' }),
    startNode(net.b, SECONDARY_PASSWORD, { engine: 'haproxy' }),
    ...net.backends.map((host, i) => startHttpBackend({ name: `rs${i + 1}`, host, port: 8080 })),
  ]);
  a = started[0] as TestAppliance;
  b = started[1] as TestAppliance;
  backends = started.slice(2) as HttpBackend[];
  const c = clientOf(a);
  const vs = await c.createVirtualService({ label: 'PACS-sticky', ipAddress: net.vip, ports: [8080], protocol: 'http', persistence: { mode: 'source-ip' } });
  for (const [i, host] of net.backends.entries()) await c.createRealServer(vs.id, { label: `rs${i + 1}`, address: host, port: 8080 });
  await pair(a, b, { deadTimeMs: DEAD_TIME_MS });
  await until('the VIP up on the primary', async () => (await get(`http://${net.vip}:8080/`)).status === 200);
}, 120_000);

afterAll(async () => {
  await Promise.all([a?.dispose(), b?.dispose(), ...backends.map((s) => s.close())]);
});

describe('an HA pair on the HAProxy engine', () => {
  it('both nodes run HAProxy; the secondary is passive with the same configuration', async () => {
    const [oa, ob] = await Promise.all([clientOf(a).getOverview(), clientOf(b).getOverview()]);
    expect([oa.node.engine, ob.node.engine]).toEqual(['haproxy', 'haproxy']);
    expect([await stateOf(a), await stateOf(b)]).toEqual(['active', 'passive']);
    expect(await clientOf(b).getConfig()).toEqual(await clientOf(a).getConfig());
  });

  it('kill -9 of the active node: the passive one takes the VIP over and every source-IP client keeps its server', async () => {
    const loops = SOURCES.map((source) => clientLoop(`http://${net.vip}:8080/`, source));
    await until('every client served', () => loops.every((l) => l.samples.filter((s) => s.ok).length >= 3));
    const before = new Map(loops.map((l) => [l.source, l.samples.filter((s) => s.ok).at(-1)!.server]));
    // The clients are spread over more than one server, so keeping them is not luck.
    expect(new Set(before.values()).size).toBeGreaterThan(1);
    // Let HAProxy's peers push the entries to the passive node.
    await new Promise((r) => setTimeout(r, 1000));
    const killedAt = Date.now();
    await a.kill();
    // HAProxy's worker may serve for a moment after the appliance died (it gets its parent-death
    // signal): wait for the takeover, then for every client served after it.
    await until('the passive node active', async () => (await stateOf(b)) === 'active', 20_000);
    const tookOverAt = Date.now();
    await until('every client served again', () => loops.every((l) => l.samples.some((s) => s.startedAt > tookOverAt && s.ok)), 20_000);
    await new Promise((r) => setTimeout(r, SETTLE_MS + 500));
    await Promise.all(loops.map((l) => l.stop()));
    const gap = Math.max(...loops.map((l) => outageAfter(l.samples, killedAt)?.gapMs ?? 0));
    console.log(`HAProxy engine pair: failover gap ${gap} ms (dead time ${DEAD_TIME_MS} ms)`);
    expect(gap).toBeLessThan(DEAD_TIME_MS + 2000);
    expect(await stateOf(b)).toBe('active');
    kept(loops, before, tookOverAt, 'after the takeover');
  }, 90_000);

  it('a reload of the active HAProxy (a listener added on the primary) keeps every source-IP client on its server', async () => {
    a = await a.restart();
    await until('the restarted primary passive', async () => (await stateOf(a)) === 'passive');
    const loops = SOURCES.map((source) => clientLoop(`http://${net.vip}:8080/`, source));
    await until('every client served', () => loops.every((l) => l.samples.filter((s) => s.ok).length >= 3));
    const before = new Map(loops.map((l) => [l.source, l.samples.filter((s) => s.ok).at(-1)!.server]));
    const primary = clientOf(a);
    const vs = (await primary.listVirtualServices()).items.find((v) => v.label === 'PACS-sticky')!;
    await primary.updateVirtualService(vs.id, { ports: [8080, 8082] });
    // The active node (the secondary) reloads when the revision reaches it: from then on.
    await until('the new port served by the active node', async () => (await get(`http://${net.vip}:8082/`).catch(() => ({ status: 0 }))).status === 200);
    const changedAt = Date.now();
    await new Promise((r) => setTimeout(r, SETTLE_MS + 500));
    await Promise.all(loops.map((l) => l.stop()));
    kept(loops, before, changedAt, 'after the reload');
    expect(await stateOf(b)).toBe('active');
  }, 90_000);
});
