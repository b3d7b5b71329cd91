// The heartbeat and the second path: a blocked heartbeat alone moves nothing while the peer's
// API answers; a partition of both paths makes the passive node take over, and when it heals
// exactly one node stays active, by the documented rule (the later takeover keeps the VIPs;
// with preferPrimary the primary does). Forged, stray and replayed heartbeat packets change
// nothing: a passive node whose peer died still takes over in time while they arrive.
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeHeartbeat } from '../../appliance/ha/heartbeat-packet.js';
import type { TestAppliance } from '../helpers/appliance-process.js';
import { needProgram } from '../helpers/programs.js';
import { get } from '../engine/helpers/traffic.js';
import { startHttpBackend, type HttpBackend } from '../engine/helpers/backends.js';
import { drop, removeAll, type DropRule } from './helpers/firewall.js';
import { addressBlock, clientOf, pair, PRIMARY_PASSWORD, SECONDARY_PASSWORD, startNode, stateOf, until } from './helpers/pair.js';

const net = addressBlock(3);
/** This file's own heartbeat port, so its packet filter rules touch no other suite. */
const HB_PORT = 16694;
const INTERVAL_MS = 200;
const DEAD_TIME_MS = 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let a: TestAppliance;
let b: TestAppliance;
let backend: HttpBackend;
const rules: DropRule[] = [];

async function states(): Promise<[string | null, string | null]> {
  return Promise.all([stateOf(a), stateOf(b)]);
}

/** Waits until exactly one node is active, and it stays so for a while. */
async function exactlyOneActive(): Promise<'a' | 'b'> {
  const one = async () => {
    const [sa, sb] = await states();
    return sa === 'active' && sb === 'passive' ? 'a' : sb === 'active' && sa === 'passive' ? 'b' : null;
  };
  const first = await until('exactly one active node', one, 15_000);
  for (let i = 0; i < 8; i++) {
    await sleep(INTERVAL_MS);
    expect(await one()).toBe(first);
  }
  return first;
}

async function rejected(node: TestAppliance, reason: string): Promise<number> {
  const m = new RegExp(`lbappliance_ha_heartbeats_rejected_total\\{reason="${reason}"\\} (\\d+)`).exec(await clientOf(node).getMetrics());
  return m ? Number(m[1]) : 0;
}

beforeAll(async () => {
  [a, b, backend] = (await Promise.all([startNode(net.a, PRIMARY_PASSWORD), startNode(net.b, SECONDARY_PASSWORD), startHttpBackend({ name: 'rs1', host: net.backends[0]!, port: 8080 })])) as [
    TestAppliance,
    TestAppliance,
    HttpBackend,
  ];
  const vs = await clientOf(a).createVirtualService({ label: 'PACS', ipAddress: net.vip, ports: [8080], protocol: 'http' });
  await clientOf(a).createRealServer(vs.id, { label: 'rs1', address: net.backends[0]!, port: 8080 });
  await pair(a, b, { heartbeatPort: HB_PORT, heartbeatIntervalMs: INTERVAL_MS, deadTimeMs: DEAD_TIME_MS });
  expect(await states()).toEqual(['active', 'passive']);
}, 120_000);

afterEach(async () => {
  await removeAll(rules);
});

afterAll(async () => {
  await removeAll(rules);
  await Promise.all([a?.dispose(), b?.dispose(), backend?.close()]);
});

describe('heartbeat and second path', () => {
  it('a blocked heartbeat alone moves nothing while the peer\'s API answers', async () => {
    rules.push(await drop(['-p', 'udp', '-s', net.a, '-d', net.b, '--dport', String(HB_PORT)]), await drop(['-p', 'udp', '-s', net.b, '-d', net.a, '--dport', String(HB_PORT)]));
    await sleep(3 * DEAD_TIME_MS);
    expect(await states()).toEqual(['active', 'passive']);
    const status = await clientOf(b).getHaStatus();
    expect(status.peer!.heartbeatAgeMs).toBeGreaterThan(2 * DEAD_TIME_MS);
    expect(status.peer!.apiReachable).toBe(true);
    expect((await get(`http://${net.vip}:8080/`)).status).toBe(200);
    await removeAll(rules);
    await until('heartbeats again', async () => ((await clientOf(b).getHaStatus()).peer!.heartbeatAgeMs ?? 1e9) < DEAD_TIME_MS);
  });

  it('both paths lost: the passive node takes over; healed: exactly one stays active, the later takeover', async () => {
    rules.push(await drop(['-s', net.a, '-d', net.b]), await drop(['-s', net.b, '-d', net.a]));
    await until('the secondary to take over', async () => (await stateOf(b)) === 'active', 10_000);
    expect(await stateOf(a)).toBe('active');
    await removeAll(rules);
    expect(await exactlyOneActive()).toBe('b');
    await until('the VIP served by the secondary', async () => (await get(`http://${net.vip}:8080/`)).status === 200, 10_000);
  });

  it('with preferPrimary the primary keeps the VIPs after a partition heals', async () => {
    await clientOf(a).updateHaPair({ preferPrimary: true });
    // The secondary holds the VIPs after the last test; a partition makes the primary take them too.
    rules.push(await drop(['-s', net.a, '-d', net.b]), await drop(['-s', net.b, '-d', net.a]));
    await until('the primary to take over', async () => (await stateOf(a)) === 'active', 10_000);
    await removeAll(rules);
    expect(await exactlyOneActive()).toBe('a');
    await until('the VIP served by the primary', async () => (await get(`http://${net.vip}:8080/`)).status === 200, 10_000);
    await clientOf(a).updateHaPair({ preferPrimary: false });
  });

  it('forged, stray and replayed heartbeats change nothing', async () => {
    expect(await states()).toEqual(['active', 'passive']);
    const pairId = (JSON.parse(await readFile(join(b.dataDir, 'ha', 'state.json'), 'utf8')) as { pair: { pairId: string } }).pair.pairId;
    // Real heartbeats of the active node, captured on the wire.
    const capture = spawn(needProgram('python3'), [join(import.meta.dirname, 'helpers', 'capture-udp.py'), net.b, String(HB_PORT), '8'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const captured: Buffer[] = [];
    createInterface({ input: capture.stdout }).on('line', (l) => captured.push(Buffer.from(l.trim(), 'hex')));
    await new Promise((r) => capture.once('exit', r));
    expect(captured.length).toBe(8);
    const socket = createSocket('udp4');
    const send = (packet: Buffer, to: string) => new Promise((r) => socket.send(packet, HB_PORT, to, r));
    let seq = 1000n;
    const forged = (state: 'active' | 'passive', role: 'primary' | 'secondary') =>
      encodeHeartbeat({ role, state, pairId, bootId: randomBytes(8).toString('hex'), seq: seq++, sentAt: Date.now(), term: 999, revision: 999, usersDigest: '00'.repeat(8) }, randomBytes(32));
    try {
      // A forged "the secondary is active with a higher term" does not make the active primary yield.
      const before = await rejected(a, 'bad-mac');
      for (let i = 0; i < 20; i++) await send(forged('active', 'secondary'), net.a);
      await sleep(3 * INTERVAL_MS);
      expect(await states()).toEqual(['active', 'passive']);
      expect(await rejected(a, 'bad-mac')).toBeGreaterThanOrEqual(before + 20);
      // The active node dies. Replays of its real heartbeats, forgeries claiming it is alive and
      // stray bytes arrive at the passive node all along: it still takes over in time.
      const killedAt = Date.now();
      await a.kill();
      let flooding = true;
      const flood = (async () => {
        while (flooding) {
          for (const p of captured) await send(p, net.b);
          await send(forged('active', 'primary'), net.b);
          await send(randomBytes(96), net.b);
          await send(Buffer.from('hello'), net.b);
          await sleep(20);
        }
      })();
      await until('the secondary to take over', async () => (await stateOf(b)) === 'active', 10_000);
      const tookMs = Date.now() - killedAt;
      flooding = false;
      await flood;
      expect(tookMs).toBeLessThan(DEAD_TIME_MS + 1000);
      expect(await rejected(b, 'replayed')).toBeGreaterThan(0);
      expect(await rejected(b, 'bad-mac')).toBeGreaterThan(0);
      expect(await rejected(b, 'malformed')).toBeGreaterThan(0);
      expect((await clientOf(b).getHaStatus()).peer!.heartbeatAgeMs).toBeGreaterThan(DEAD_TIME_MS);
    } finally {
      socket.close();
    }
    // Replayed after the dead node restarted (a new boot of its heartbeat), the old packets are still refused.
    a = await a.restart();
    await until('the primary back, passive', async () => (await stateOf(a)) === 'passive');
    const refusedBefore = (await rejected(b, 'replayed')) + (await rejected(b, 'stale-clock'));
    const s2 = createSocket('udp4');
    for (const p of captured) await new Promise((r) => s2.send(p, HB_PORT, net.b, r));
    s2.close();
    await sleep(3 * INTERVAL_MS);
    expect((await rejected(b, 'replayed')) + (await rejected(b, 'stale-clock'))).toBe(refusedBefore + captured.length);
    expect(await exactlyOneActive()).toBe('b');
  });
});
