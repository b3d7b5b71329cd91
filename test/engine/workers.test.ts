// The embedded engine with two data-plane worker processes (LBAPPLIANCE_ENGINE_WORKERS=2):
// traffic and counters are summed over the workers, a connect failure seen by one worker
// takes the server out in all of them, source-IP clients keep their server whichever
// worker accepts them, and a worker that dies is replaced with the current config.
// Addresses 127.0.77.x belong to this file.
import { execFileSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ApplianceClient } from '../../openapi/sdk/index.js';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';
import { startHttpBackend, type HttpBackend } from './helpers/backends.js';
import { get } from './helpers/traffic.js';
import { createVip, healthOf, overviewOf } from './helpers/vips.js';
import { until } from './helpers/wait.js';

const VIP = '127.0.77.217';
let app: TestAppliance;
let client: ApplianceClient;
let a: HttpBackend;
let b: HttpBackend;
let vipId: string;
let servers: Record<string, string>;

function sample(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

function workerPids(): number[] {
  const out = execFileSync('sh', ['-c', `pgrep -P ${app.process.pid} || true`], { encoding: 'utf8' });
  return out.split('\n').filter(Boolean).map(Number);
}

beforeAll(async () => {
  app = await startTestAppliance({ engine: 'embedded', host: '127.0.77.1', env: { LBAPPLIANCE_ENGINE_WORKERS: '2' } });
  client = app.client();
  a = await startHttpBackend({ name: 'a', host: '127.0.77.6' });
  b = await startHttpBackend({ name: 'b', host: '127.0.77.7' });
  const vip = await createVip(client, { label: 'multi', ipAddress: VIP, ports: [8080], protocol: 'http', persistence: { mode: 'source-ip' }, healthCheck: { type: 'connect', interval: 1, timeout: 1, rise: 1, fall: 1 } }, [
    { label: 'a', address: a.host, port: a.port },
    { label: 'b', address: b.host, port: b.port },
  ]);
  vipId = vip.id;
  servers = vip.servers;
});

// A failure here has often been the appliance process itself going away: say what it said last.
afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail' && app) console.log(`appliance (exit ${app.process.exitCode ?? 'none'}, signal ${app.process.signalCode ?? 'none'}), last lines:\n${app.output.slice(-30).join('\n')}`);
});

afterAll(async () => {
  await app?.dispose();
  await Promise.all([a?.close(), b?.close()]);
});

describe('two worker processes', () => {
  it('run beside the engine and report the VIP listening', async () => {
    expect(workerPids()).toHaveLength(2);
    expect(await overviewOf(client, vipId)).toMatchObject({ listening: true });
  });

  it('keep source-IP clients on one server whichever worker accepts them, and sum their counters', async () => {
    const homes = new Map<string, Set<string>>();
    for (const c of ['127.0.77.100', '127.0.77.101', '127.0.77.102', '127.0.77.103']) {
      const seen = new Set<string>();
      for (let i = 0; i < 25; i++) seen.add((await get(`http://${VIP}:8080/`, { localAddress: c })).body.toString());
      homes.set(c, seen);
    }
    for (const seen of homes.values()) expect(seen.size).toBe(1);
    const text = String(await client.getMetrics());
    expect(sample(text, 'lbappliance_virtual_service_requests_total', 'virtual_service="multi",code="2xx"')).toBe(100);
    expect(sample(text, 'lbappliance_virtual_service_connections_total', 'virtual_service="multi"')).toBe(100);
    expect(sample(text, 'lbappliance_real_server_requests_total', 'virtual_service="multi",real_server="a"') + sample(text, 'lbappliance_real_server_requests_total', 'virtual_service="multi",real_server="b"')).toBe(100);
  });

  it('take a dead server out in every worker', async () => {
    await a.kill();
    for (let i = 0; i < 40; i++) expect((await get(`http://${VIP}:8080/`, { localAddress: `127.0.77.${110 + (i % 20)}` })).body.toString()).toBe('b');
    await until('a reported down', async () => (await healthOf(client, vipId, servers.a as string)) === 'down');
    await a.revive();
    await until('a back up', async () => (await healthOf(client, vipId, servers.a as string)) === 'up');
  });

  it('replace a worker that dies, with the current configuration, and keep what it counted', async () => {
    const connections = async () => sample(String(await client.getMetrics()), 'lbappliance_virtual_service_connections_total', 'virtual_service="multi"');
    // Both workers carried connections before (source-IP clients above); the counter is read, so both reported theirs.
    const before = await connections();
    expect(before).toBeGreaterThan(100);
    const [victim] = workerPids();
    process.kill(victim as number, 'SIGKILL');
    for (let i = 0; i < 20; i++) expect((await get(`http://${VIP}:8080/`)).status).toBe(200);
    expect(app.process.exitCode).toBeNull();
    await until('a replacement worker', () => {
      const pids = workerPids();
      return pids.length === 2 && !pids.includes(victim as number);
    });
    // A counter never goes back: the dead worker's connections stay counted beside the new ones.
    expect(await connections()).toBe(before + 20);
    // A change after the replacement reaches both workers.
    await client.updateRealServer(vipId, servers.b as string, { adminState: 'halt' });
    for (let i = 0; i < 20; i++) expect((await get(`http://${VIP}:8080/`, { localAddress: `127.0.77.${130 + i}` })).body.toString()).toBe('a');
    await client.updateRealServer(vipId, servers.b as string, { adminState: 'online' });
  });

  it('follow revisions sent as deltas (only the VIPs a worker does not hold), the replacement as well as the first', async () => {
    // A second VIP arrives as the only VIP of its revision's delta; the overview says listening
    // only when every worker has bound it.
    const second = await createVip(client, { label: 'second', ipAddress: '127.0.77.218', ports: [8080], protocol: 'http' }, [{ label: 'b2', address: b.host, port: b.port }]);
    await until('the second VIP listening in both workers', async () => (await overviewOf(client, second.id)).listening === true);
    for (let i = 0; i < 20; i++) expect((await get(`http://127.0.77.218:8080/`, { localAddress: `127.0.77.${150 + i}` })).body.toString()).toBe('b');
    // A change of the first VIP alone: both workers follow it, and the second VIP, unchanged, keeps serving.
    await client.updateRealServer(vipId, servers.a as string, { adminState: 'halt' });
    for (let i = 0; i < 20; i++) {
      expect((await get(`http://${VIP}:8080/`, { localAddress: `127.0.77.${170 + i}` })).body.toString()).toBe('b');
      expect((await get(`http://127.0.77.218:8080/`, { localAddress: `127.0.77.${170 + i}` })).status).toBe(200);
    }
    await client.updateRealServer(vipId, servers.a as string, { adminState: 'online' });
    await client.deleteVirtualService(second.id);
    await until('the second VIP gone from both workers', async () => {
      try {
        await get(`http://127.0.77.218:8080/`);
        return false;
      } catch {
        return true;
      }
    });
    expect(workerPids()).toHaveLength(2);
  });
});
