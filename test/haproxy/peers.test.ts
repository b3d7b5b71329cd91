// HA with the HAProxy engine, at the engine interface the HA layer drives: two engines of a
// pair replicate source-IP persistence with HAProxy `peers` on TCP 7778 (each on its own
// loopback address), the passive one holds every entry without listening, and after it
// takes the VIPs over (setActive) clients keep their real server. A server added after the
// clients were placed changes where the consistent hash would put some of them, so only the
// replicated table can keep those where they were; clearing it at the end shows they would
// have moved. Addresses 127.0.128.x belong to this file.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HaproxyEngine } from '../../appliance/engine/haproxy/haproxy-engine.js';
import type { ConfigSnapshot } from '../../appliance/engine/types.js';
import { backendFleet, type HttpBackend } from '../engine/helpers/backends.js';
import { configSnapshot, vipSnapshot } from '../engine/helpers/snapshots.js';
import { get } from '../engine/helpers/traffic.js';
import { until } from '../engine/helpers/wait.js';

const NET = '127.0.128';
const VIP = `${NET}.217`;
const fleet = backendFleet(NET);
const dirs: string[] = [];
let a: HaproxyEngine;
let b: HaproxyEngine;
let servers: HttpBackend[];

function snapshot(count = 2, revision = 1): ConfigSnapshot {
  return configSnapshot(revision, vipSnapshot('vs-peers000001', VIP, 8080, servers.slice(0, count), { label: 'sticky', persistence: { mode: 'source-ip', cookieName: 'SERVERID', timeout: 600, sourceIpFallback: false, ipv4PrefixLength: 32, ipv6PrefixLength: 128 } }));
}

async function engine(name: string): Promise<HaproxyEngine> {
  const dataDir = await mkdtemp(join(tmpdir(), `lb-peers-${name}-`));
  dirs.push(dataDir);
  const e = new HaproxyEngine({ logger: pino({ level: 'silent' }), registry: new Registry(), dataDir, localPeerName: name });
  await e.start();
  return e;
}

const clients = Array.from({ length: 24 }, (_, i) => `${NET}.${100 + i}`);

async function homes(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const c of clients) out[c] = (await get(`http://${VIP}:8080/`, { localAddress: c })).body.toString();
  return out;
}

beforeAll(async () => {
  servers = [await fleet.start('p-a', 10), await fleet.start('p-b', 11), await fleet.start('p-c', 12)];
  a = await engine('node-a');
  b = await engine('node-b');
  expect(a.persistenceSync.kind).toBe('engine');
  await a.setReplication({ localName: 'node-a', localAddress: `${NET}.1`, port: 7778, peer: { name: 'node-b', address: `${NET}.2` } });
  await b.setReplication({ localName: 'node-b', localAddress: `${NET}.2`, port: 7778, peer: { name: 'node-a', address: `${NET}.1` } });
  await b.setActive(false);
  await a.apply(snapshot());
  await b.apply(snapshot());
});

afterAll(async () => {
  await a?.stop(100);
  await b?.stop(100);
  await fleet.closeAll();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('source-IP persistence across an HA pair on the HAProxy engine', () => {
  it('reaches the passive node through peers and holds after a takeover', async () => {
    const before = await homes();
    expect(new Set(Object.values(before))).toEqual(new Set(['p-a', 'p-b']));
    expect(await homes()).toEqual(before);
    // The passive node does not listen, but its table fills from the active one.
    expect(b.status().virtualServices.get('vs-peers000001')?.listening).toBe(false);
    await until('entries replicated to the passive node', async () => {
      const table = await b.runtimeApi.query('show table be_vs-peers000001');
      return clients.every((c) => table.includes(`key=::ffff:${c} `));
    }, 10_000);
    // A third server: the table keeps every placed client where it is.
    await a.apply(snapshot(3, 2));
    await b.apply(snapshot(3, 2));
    expect(await homes()).toEqual(before);
    // Takeover: the active node dies, the passive one binds the VIPs (a reload).
    await a.stop(0);
    await b.setActive(true);
    expect(await homes()).toEqual(before);
    // Without the table, the hash over three servers moves some of these clients to the new one.
    await b.runtimeApi.query('clear table be_vs-peers000001');
    expect(Object.values(await homes())).toContain('p-c');
  });
});
