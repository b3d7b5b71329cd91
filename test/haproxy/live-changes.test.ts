// The HAProxy engine under steady load: 50 live configuration changes of every kind (zero
// failed requests, zero reset connections, and how many needed a reload), a revision that
// renders to a configuration HAProxy refuses (4xx, traffic unaffected), and HAProxy's
// worker killed (the supervisor restores service; the gap is measured). Addresses
// 127.0.120.x belong to this file.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnprocessableError, type ApplianceClient } from '../../openapi/sdk/index.js';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';
import { backendFleet, type HttpBackend } from '../engine/helpers/backends.js';
import { get, steadyLoad, type Reply } from '../engine/helpers/traffic.js';
import { createVip, overviewOf } from '../engine/helpers/vips.js';
import { until } from '../engine/helpers/wait.js';

const NET = '127.0.120';
const VIP = `${NET}.217`;
let app: TestAppliance;
let client: ApplianceClient;
const fleet = backendFleet(NET);

/** The value of an unlabelled gauge in the Prometheus text. */
async function gauge(name: string): Promise<number> {
  const text = String(await client.getMetrics());
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
}

beforeAll(async () => {
  app = await startTestAppliance({ engine: 'haproxy', host: `${NET}.1` });
  client = app.client();
});

afterAll(async () => {
  await app?.dispose();
  await fleet.closeAll();
});

describe('50 live changes under load', () => {
  it('zero failed requests, zero resets; runtime API where HAProxy 2.6 allows, counted reloads otherwise', async () => {
    const [a, b, c, d] = (await Promise.all([fleet.start('a', 10), fleet.start('b', 11), fleet.start('c', 12), fleet.start('d', 13)])) as [HttpBackend, HttpBackend, HttpBackend, HttpBackend];
    const cert = await client.createCertificate({ label: 'live', selfSigned: { commonName: 'live-1.test', subjectAltNames: [VIP] } });
    const vip = await createVip(client, { label: 'live', ipAddress: VIP, ports: [8001], protocol: 'http', healthCheck: { type: 'http', interval: 1 } }, [
      { label: 'a', address: a.host, port: a.port },
      { label: 'b', address: b.host, port: b.port },
    ]);
    const tls = await createVip(client, { label: 'live-tls', ipAddress: VIP, ports: [8443], protocol: 'http2', certificateId: cert.id }, [{ label: 'a', address: a.host, port: a.port }]);
    const reloadsBefore = await gauge('lbappliance_engine_reloads');
    const runtimeBefore = await gauge('lbappliance_engine_runtime_applies');
    const load = steadyLoad(`http://${VIP}:8001/`, 6);
    const changes: (() => Promise<unknown>)[] = [];
    let extra = '';
    for (let i = 0; i < 8; i++) {
      const target = i % 2 ? c : d;
      changes.push(async () => (extra = (await client.createRealServer(vip.id, { label: `x${i}`, address: target.host, port: target.port })).id));
      changes.push(() => client.updateRealServer(vip.id, vip.servers.a as string, { weight: 20 + i * 25 }));
      changes.push(() => client.updateRealServer(vip.id, vip.servers.b as string, { adminState: i % 2 ? 'online' : 'drain' }));
      changes.push(() => client.updateRealServer(vip.id, extra, { adminState: 'halt' }));
      changes.push(() => client.deleteRealServer(vip.id, extra));
    }
    // Changes only a reload can make: algorithm, persistence, health checks, a new listener.
    changes.push(() => client.updateVirtualService(vip.id, { algorithm: 'leastconn' }));
    changes.push(() => client.updateVirtualService(vip.id, { persistence: { mode: 'source-ip', timeout: 60 } }));
    changes.push(() => client.updateVirtualService(vip.id, { healthCheck: { type: 'connect', interval: 2 } }));
    changes.push(() => client.updateVirtualService(vip.id, { ports: [8001, 8002] }));
    changes.push(() => client.updateVirtualService(vip.id, { algorithm: 'roundrobin', persistence: { mode: 'none' } }));
    for (let i = 0; i < 3; i++) changes.push(() => client.replaceCertificate(cert.id, { label: 'live', selfSigned: { commonName: `live-${i + 2}.test`, subjectAltNames: [VIP] } }));
    changes.push(() => client.updateRealServer(vip.id, vip.servers.b as string, { adminState: 'online' }));
    changes.push(() => client.updateRealServer(vip.id, vip.servers.a as string, { weight: 100 }));
    expect(changes).toHaveLength(50);
    for (const change of changes) {
      await change();
      await new Promise((r) => setTimeout(r, 30));
    }
    const report = await load.stop();
    const reloads = (await gauge('lbappliance_engine_reloads')) - reloadsBefore;
    const runtime = (await gauge('lbappliance_engine_runtime_applies')) - runtimeBefore;
    console.log(`HAProxy engine, 50 changes under load: ${report.ok} ok, ${report.failed} failed; ${runtime} applied through the runtime API, ${reloads} needed a reload`);
    expect(report.errors).toEqual({});
    expect(report.failed).toBe(0);
    expect(report.ok).toBeGreaterThan(500);
    // Server additions, removals, weights, states and certificates take no reload.
    expect(reloads).toBeLessThanOrEqual(5);
    expect(runtime).toBeGreaterThanOrEqual(43);
    expect((await get(`http://${VIP}:8002/`)).status).toBe(200);
    void tls;
  }, 120_000);
});

describe('a revision HAProxy refuses', () => {
  it('is answered 422 naming the cause, and traffic runs on untouched', async () => {
    const s = await fleet.start('r', 20);
    const vip = await createVip(client, { label: 'refusal', ipAddress: VIP, ports: [8003], protocol: 'http' }, [{ label: 's', address: s.host, port: s.port }]);
    const before = (await client.getConfig()).revision;
    const load = steadyLoad(`http://${VIP}:8003/`, 4);
    while (load.report.ok < 100) await new Promise((r) => setTimeout(r, 10));
    // HAProxy resolves server names when it loads its configuration: one that does not resolve is refused.
    const err = await client.createRealServer(vip.id, { label: 'nowhere', address: 'no-such-host.invalid', port: 80 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnprocessableError);
    expect((err as UnprocessableError).code).toBe('LB_ENGINE_REFUSED');
    expect((err as UnprocessableError).message).toContain('no-such-host.invalid');
    // (A cookie name such as `A#B` is no longer refused: it is escaped into the configuration;
    // test/engine/fuzzed-vip.test.ts proves HAProxy sets the cookie under that very name.)
    const okAfter = load.report.ok;
    while (load.report.ok < okAfter + 100) await new Promise((r) => setTimeout(r, 10));
    const report = await load.stop();
    expect(report.failed).toBe(0);
    expect((await client.getConfig()).revision).toBe(before);
    expect((await client.listRealServers(vip.id)).items.map((r) => r.label)).toEqual(['s']);
  });
});

describe('HAProxy worker killed under load', () => {
  it('the supervisor restores service with the last good configuration; the API reports it', async () => {
    const s = await fleet.start('k', 30);
    await createVip(client, { label: 'crash', ipAddress: VIP, ports: [8004], protocol: 'http' }, [{ label: 's', address: s.host, port: s.port }]);
    const masterPid = Number((await readFile(join(app.dataDir, 'haproxy', 'master.pid'), 'utf8')).trim());
    const children = (await readFile(`/proc/${masterPid}/task/${masterPid}/children`, 'utf8')).trim().split(/\s+/).map(Number);
    expect(children.length).toBeGreaterThanOrEqual(1);
    let killedAt = 0;
    let firstFail = 0;
    let firstOkAfterFail = 0;
    const load = steadyLoad(`http://${VIP}:8004/`, 4, (r: Reply | Error) => {
      if (!killedAt) return;
      const now = performance.now();
      if (r instanceof Error || r.status !== 200) firstFail ||= now;
      else if (firstFail && !firstOkAfterFail) firstOkAfterFail = now;
    });
    while (load.report.ok < 200) await new Promise((r) => setTimeout(r, 10));
    killedAt = performance.now();
    for (const pid of children) process.kill(pid, 'SIGKILL');
    await until('service back after the kill', () => firstOkAfterFail > 0 || (firstFail === 0 && performance.now() - killedAt > 3000), 15_000);
    const okBack = load.report.ok;
    while (load.report.ok < okBack + 200) await new Promise((r) => setTimeout(r, 10));
    const report = await load.stop();
    const firstFailToFirstOk = firstFail ? firstOkAfterFail - firstFail : 0;
    console.log(`HAProxy worker killed under load: ${report.failed} failed requests (${JSON.stringify(report.errors)}); gap from the first failure to the first success ${firstFailToFirstOk.toFixed(0)} ms`);
    expect(firstFailToFirstOk).toBeLessThan(2000);
    expect(await gauge('lbappliance_engine_restarts')).toBe(1);
    const crashId = (await client.listVirtualServices()).items.find((v) => v.label === 'crash')?.id as string;
    await until('the overview shows the VIP listening again', async () => (await overviewOf(client, crashId)).listening);
    expect(app.output.some((l) => l.includes('haproxy restarted'))).toBe(true);
    expect((await get(`http://${VIP}:8004/`)).status).toBe(200);
  }, 60_000);
});
