// What operators see: System Overview colours as health and admin states change, a VIP
// that cannot bind, and Prometheus counters that match known traffic. Addresses 127.0.75.x (127.0.125.x when test/haproxy
// re-runs it on the HAProxy engine) belong to this file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { ApplianceProblemError, type ApplianceClient } from '../../openapi/sdk/index.js';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';
import { backendFleet } from './helpers/backends.js';
import { get } from './helpers/traffic.js';
import { createVip, overviewOf } from './helpers/vips.js';
import { until } from './helpers/wait.js';
import { ENGINE, subnet } from './helpers/engine-under-test.js';

const NET = subnet('127.0.75');
const VIP = `${NET}.217`;
const FAST_CHECK = { type: 'http' as const, path: '/', interval: 1, timeout: 1, rise: 1, fall: 1 };
let app: TestAppliance;
let client: ApplianceClient;
const fleet = backendFleet(NET);

const backend = (name: string, last: number) => fleet.start(name, last);

/** The value of one sample in the Prometheus text format (0 when absent). */
function sample(text: string, name: string, labels: Record<string, string>): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const inside = line.slice(name.length + 1, line.indexOf('}'));
    const have = inside.split(',');
    if (want.every((w) => have.includes(w))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

beforeAll(async () => {
  app = await startTestAppliance({ engine: ENGINE, host: `${NET}.1` });
  client = app.client();
});

afterAll(async () => {
  await app?.dispose();
  await fleet.closeAll();
});

describe('System Overview', () => {
  it('colours VIPs and servers from health and admin state', async () => {
    const [a, b] = [await backend('o-a', 10), await backend('o-b', 11)];
    const vip = await createVip(client, { label: 'obs', ipAddress: VIP, ports: [8001], protocol: 'http', healthCheck: FAST_CHECK }, [
      { label: 'a', address: a.host, port: a.port },
      { label: 'b', address: b.host, port: b.port },
    ]);
    const colours = async () => {
      const o = await overviewOf(client, vip.id);
      return { vip: o.colour, state: o.state, a: o.realServers.find((r) => r.label === 'a')?.colour, b: o.realServers.find((r) => r.label === 'b')?.colour };
    };
    await until('both servers up', async () => (await colours()).vip === 'green' && (await colours()).b === 'green');
    const up = await overviewOf(client, vip.id);
    expect(up).toMatchObject({ state: 'up', listening: true, error: null });
    expect(up.realServers.every((r) => r.health === 'up' && r.lastCheck?.ok === true && r.lastCheck.detail === 'HTTP 200')).toBe(true);
    await b.kill();
    await until('b down: VIP degraded', async () => {
      const c = await colours();
      return c.vip === 'yellow' && c.state === 'degraded' && c.b === 'red' && c.a === 'green';
    });
    await client.updateRealServer(vip.id, vip.servers.a as string, { adminState: 'drain' });
    expect((await colours()).a).toBe('yellow');
    await client.updateRealServer(vip.id, vip.servers.a as string, { adminState: 'halt' });
    expect(await colours()).toMatchObject({ a: 'blue', vip: 'red', state: 'down' });
    await client.updateRealServer(vip.id, vip.servers.a as string, { adminState: 'online' });
    await b.revive();
    await until('both back up', async () => (await colours()).vip === 'green');
  });

  it('shows redirect, disabled and unbindable VIPs', async () => {
    const redirect = await createVip(client, { label: 'obs-redirect', ipAddress: VIP, ports: [8002], protocol: 'http', forceHttps: true });
    expect(await overviewOf(client, redirect.id)).toMatchObject({ colour: 'green', state: 'redirect', listening: true });
    const disabled = await createVip(client, { label: 'obs-off', ipAddress: VIP, ports: [8003], protocol: 'http', enabled: false });
    expect(await overviewOf(client, disabled.id)).toMatchObject({ colour: 'grey', state: 'disabled', listening: false });
    expect((await get(`http://${VIP}:8003/`).catch((e: NodeJS.ErrnoException) => e.code)) as string).toBe('ECONNREFUSED');
    await client.updateVirtualService(disabled.id, { enabled: true });
    expect(await overviewOf(client, disabled.id)).toMatchObject({ listening: true });
    // An address this host does not have: the VIP is stored, reported red with the reason.
    const away = await createVip(client, { label: 'obs-away', ipAddress: '2001:db8::75', ports: [8004], protocol: 'http' });
    const o = await overviewOf(client, away.id);
    expect(o).toMatchObject({ colour: 'red', state: 'down', listening: false });
    expect(o.error).toContain('EADDRNOTAVAIL');
  });

  it('refuses a VIP whose port another program holds, before storing it (apply fails, not the VIP later)', async () => {
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(8006, VIP, resolve));
    try {
      const before = (await client.getConfig()).revision;
      const err = (await client.createVirtualService({ label: 'obs-taken', ipAddress: VIP, ports: [8007, 8006], protocol: 'http' }).catch((e: unknown) => e)) as ApplianceProblemError;
      expect(err).toBeInstanceOf(ApplianceProblemError);
      expect([err.status, err.code, err.field]).toEqual([409, 'LB_ADDRESS_IN_USE', '/ports/1']);
      expect(err.problem.detail).toContain(`${VIP}:8006 is already held by another program`);
      expect((await client.getConfig()).revision).toBe(before);
      // An unrelated write still goes through, and the port is taken once the program lets go.
      await createVip(client, { label: 'obs-free', ipAddress: VIP, ports: [8007], protocol: 'http' });
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
    const vs = await createVip(client, { label: 'obs-taken', ipAddress: VIP, ports: [8006], protocol: 'http' });
    expect(await overviewOf(client, vs.id)).toMatchObject({ listening: true });
  });
});

describe('metrics', () => {
  it('count known traffic per VIP and real server', async () => {
    const [a, b] = [await backend('m-a', 20), await backend('m-b', 21)];
    await createVip(client, { label: 'counted', ipAddress: VIP, ports: [8005], protocol: 'http', healthCheck: FAST_CHECK }, [
      { label: 'ma', address: a.host, port: a.port },
      { label: 'mb', address: b.host, port: b.port },
    ]);
    await until('first checks done', async () => {
      const t = String(await client.getMetrics());
      return ['ma', 'mb'].every((rs) => sample(t, 'lbappliance_health_transitions_total', { virtual_service: 'counted', real_server: rs, to: 'up' }) === 1);
    });
    // Which server answered each request: the counts below must match it exactly. (With the
    // engine's worker processes each balances on its own, so the split need not be 11/11.)
    const servedBy: string[] = [];
    const served = <T extends { headers: Record<string, unknown> }>(r: T): T => (servedBy.push(String(r.headers['x-backend'])), r);
    for (let i = 0; i < 20; i++) expect(served(await get(`http://${VIP}:8005/`)).status).toBe(200);
    expect(served(await get(`http://${VIP}:8005/status?code=404`)).status).toBe(404);
    const upload = Buffer.alloc(100_000, 1);
    expect(served(await get(`http://${VIP}:8005/echo`, { method: 'POST', body: upload })).body.length).toBe(upload.length);
    const text = String(await client.getMetrics());
    const vs = { virtual_service: 'counted' };
    expect(sample(text, 'lbappliance_virtual_service_requests_total', { ...vs, code: '2xx' })).toBe(21);
    expect(sample(text, 'lbappliance_virtual_service_requests_total', { ...vs, code: '4xx' })).toBe(1);
    expect(sample(text, 'lbappliance_virtual_service_connections_total', vs)).toBe(22);
    expect(sample(text, 'lbappliance_real_server_requests_total', { ...vs, real_server: 'ma' }) + sample(text, 'lbappliance_real_server_requests_total', { ...vs, real_server: 'mb' })).toBe(22);
    expect(sample(text, 'lbappliance_real_server_requests_total', { ...vs, real_server: 'ma' })).toBe(servedBy.filter((n) => n === 'm-a').length);
    expect(sample(text, 'lbappliance_real_server_requests_total', { ...vs, real_server: 'mb' })).toBe(servedBy.filter((n) => n === 'm-b').length);
    expect(sample(text, 'lbappliance_virtual_service_bytes_total', { ...vs, direction: 'in' })).toBeGreaterThan(upload.length);
    expect(sample(text, 'lbappliance_virtual_service_bytes_total', { ...vs, direction: 'out' })).toBeGreaterThan(upload.length);
    const toServers = sample(text, 'lbappliance_real_server_bytes_total', { ...vs, real_server: 'ma', direction: 'out' }) + sample(text, 'lbappliance_real_server_bytes_total', { ...vs, real_server: 'mb', direction: 'out' });
    expect(toServers).toBeGreaterThan(upload.length);
    expect(sample(text, 'lbappliance_real_server_connections_total', { ...vs, real_server: 'ma' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'lbappliance_health_transitions_total', { ...vs, real_server: 'ma', to: 'up' })).toBe(1);
    expect(sample(text, 'lbappliance_health_check_duration_seconds_count', { ...vs, real_server: 'ma' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'lbappliance_virtual_service_listening', vs)).toBe(1);
    await b.kill();
    await until('transition to down counted', async () => sample(String(await client.getMetrics()), 'lbappliance_health_transitions_total', { ...vs, real_server: 'mb', to: 'down' }) === 1);
  });
});
