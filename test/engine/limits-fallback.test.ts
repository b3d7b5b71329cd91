// The fallback ("sorry") server and page, and connection limits per VIP and per real server,
// end to end through a real appliance process (issue 15, item 5): a VIP whose servers cannot
// serve answers from its fallback server or with the built-in maintenance page (503); a
// server at its maxConnections makes requests and sessions wait in the VIP's queue (seen in
// the overview and the metrics) until it has room or queueTimeout passes; a VIP at its own
// maxConnections holds or refuses new clients (refusals counted in the metrics). Every bad
// value is refused naming its field, the revision unchanged. Addresses 127.0.215.x
// (127.0.216.x when test/haproxy re-runs this file on the HAProxy engine) belong to this file.
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApplianceClient, ApplianceProblemError } from '../../openapi/sdk/index.js';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';
import { startHttpBackend, startTcpBackend, type HttpBackend, type TcpBackend } from './helpers/backends.js';
import { ENGINE, HAPROXY } from './helpers/engine-under-test.js';
import { get } from './helpers/traffic.js';
import { createVip, overviewOf } from './helpers/vips.js';
import { until } from './helpers/wait.js';
import { refusedWrite } from '../helpers/refused-write.js';

const NET = HAPROXY ? '127.0.216' : '127.0.215';
const VIP = `${NET}.217`;
let app: TestAppliance;
let client: ApplianceClient;
let web: HttpBackend;
let sorry: HttpBackend;
let echo: TcpBackend;
let sorryTcp: TcpBackend;

function sample(text: string, name: string, labels: Record<string, string>): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const have = line.slice(name.length + 1, line.indexOf('}')).split(',');
    if (want.every((w) => have.includes(w))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

/** A TCP client that collects what it reads and tells when it was closed. */
function tcpClient(port: number): { socket: Socket; text: () => string; closed: Promise<void>; connected: Promise<void> } {
  const socket = connect({ host: VIP, port });
  let text = '';
  socket.on('data', (c: Buffer) => (text += c.toString()));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const connected = new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return { socket, text: () => text, closed, connected };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  app = await startTestAppliance({ engine: ENGINE, host: `${NET}.1` });
  client = app.client();
  web = await startHttpBackend({ name: 'web', host: `${NET}.6` });
  sorry = await startHttpBackend({ name: 'sorry', host: `${NET}.7` });
  echo = await startTcpBackend({ name: 'echo', host: `${NET}.8`, mode: 'echo' });
  sorryTcp = await startTcpBackend({ name: 'sorry-tcp', host: `${NET}.9`, mode: 'name' });
});

afterAll(async () => {
  await app?.dispose();
  await Promise.all([web?.close(), sorry?.close(), echo?.close(), sorryTcp?.close()]);
});

describe('fallback', () => {
  it('answers with the built-in maintenance page (503, HTML) while no real server can serve, and from the servers again after', async () => {
    const vs = await createVip(client, { label: 'page', ipAddress: VIP, ports: [8001], protocol: 'http', fallback: { mode: 'page' } }, [
      { label: 'web', address: web.host, port: web.port, adminState: 'halt' },
    ]);
    const r = await get(`http://${VIP}:8001/study`);
    expect(r.status).toBe(503);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.body.toString()).toContain('Service temporarily unavailable');
    expect(await overviewOf(client, vs.id)).toMatchObject({ fallback: 'page', state: 'down' });
    await client.updateRealServer(vs.id, vs.servers.web as string, { adminState: 'online' });
    await until('served by the real server again', async () => (await get(`http://${VIP}:8001/`)).body.toString() === 'web');
  });

  it('sends HTTP requests to the fallback server when every real server is down or halted', async () => {
    await createVip(client, { label: 'sorry-http', ipAddress: VIP, ports: [8002], protocol: 'http', fallback: { mode: 'server', address: sorry.host, port: sorry.port } }, [
      { label: 'web', address: web.host, port: web.port, adminState: 'halt' },
    ]);
    const r = await get(`http://${VIP}:8002/x`);
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('sorry');
    expect(sorry.seen.some((s) => s.url === '/x')).toBe(true);
  });

  it('joins TCP sessions to the fallback server, and to the real server once it serves', async () => {
    const vs = await createVip(client, { label: 'sorry-tcp', ipAddress: VIP, ports: [8003], protocol: 'tcp', fallback: { mode: 'server', address: sorryTcp.host, port: sorryTcp.port } }, [
      { label: 'echo', address: echo.host, port: echo.port, adminState: 'halt' },
    ]);
    const c = tcpClient(8003);
    await until('the fallback server answered', () => c.text() === 'sorry-tcp\n');
    c.socket.destroy();
    await client.updateRealServer(vs.id, vs.servers.echo as string, { adminState: 'online' });
    await until('the real server echoes', async () => {
      const e = tcpClient(8003);
      await e.connected;
      e.socket.write('ping');
      await sleep(300);
      e.socket.destroy();
      return e.text() === 'ping';
    });
  });

  it('without a fallback the answer stays the engine\'s own 503', async () => {
    await createVip(client, { label: 'no-fallback', ipAddress: VIP, ports: [8004], protocol: 'http' }, [{ label: 'web', address: web.host, port: web.port, adminState: 'halt' }]);
    const r = await get(`http://${VIP}:8004/`);
    expect(r.status).toBe(503);
    expect(r.body.toString()).not.toContain('Service temporarily unavailable');
  });
});

describe('connection limits', () => {
  it('a real server at its maxConnections makes the next request wait in the VIP queue (overview, metrics) until it has room', async () => {
    const vs = await createVip(client, { label: 'rs-limit', ipAddress: VIP, ports: [8005], protocol: 'http', healthCheck: { type: 'none' } }, [
      { label: 'web', address: web.host, port: web.port, maxConnections: 1 },
    ]);
    const held = get(`http://${VIP}:8005/hold`);
    await until('the first request is held at the server', () => web.seen.some((s) => s.url === '/hold') && web.inFlight >= 1);
    const seenBefore = web.seen.length;
    const queued = get(`http://${VIP}:8005/after`);
    await until('the second request is queued', async () => (await overviewOf(client, vs.id)).queued === 1);
    expect(sample(String(await client.getMetrics()), 'lbappliance_virtual_service_queued', { virtual_service: 'rs-limit' })).toBe(1);
    // It has not reached the server while the first one holds its only slot.
    await sleep(300);
    expect(web.seen.slice(seenBefore).some((s) => s.url === '/after')).toBe(false);
    expect((await overviewOf(client, vs.id)).realServers[0]).toMatchObject({ maxConnections: 1 });
    web.releaseHolds();
    await held;
    const r = await queued;
    expect([r.status, r.body.toString()]).toEqual([200, 'web']);
    await until('the queue is empty', async () => (await overviewOf(client, vs.id)).queued === 0);
  });

  it('a request that waits longer than queueTimeout gets 503', async () => {
    await createVip(client, { label: 'rs-timeout', ipAddress: VIP, ports: [8006], protocol: 'http', healthCheck: { type: 'none' }, limits: { queueTimeout: 1 } }, [
      { label: 'web', address: web.host, port: web.port, maxConnections: 1 },
    ]);
    const held = get(`http://${VIP}:8006/hold`);
    await until('the first request is held at the server', () => web.inFlight >= 1);
    const started = Date.now();
    const r = await get(`http://${VIP}:8006/late`);
    expect(r.status).toBe(503);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    web.releaseHolds();
    await held;
  });

  it('a VIP at maxConnections with whenFull refuse closes the next client at once and counts it', async () => {
    await createVip(client, { label: 'vip-refuse', ipAddress: VIP, ports: [8007], protocol: 'tcp', healthCheck: { type: 'none' }, limits: { maxConnections: 1, whenFull: 'refuse' } }, [
      { label: 'echo', address: echo.host, port: echo.port },
    ]);
    const first = tcpClient(8007);
    await first.connected;
    first.socket.write('one');
    await until('the first client is served', () => first.text() === 'one');
    const second = tcpClient(8007);
    second.socket.write('two');
    await second.closed;
    expect(second.text()).toBe('');
    await until('the refusal is counted', async () => sample(String(await client.getMetrics()), 'lbappliance_virtual_service_refused_total', { virtual_service: 'vip-refuse' }) === 1);
    first.socket.write('-still');
    await until('the first client is still served', () => first.text() === 'one-still');
    first.socket.destroy();
  });

  it('a VIP at maxConnections with whenFull queue holds the next client until a served one closes', async () => {
    await createVip(client, { label: 'vip-queue', ipAddress: VIP, ports: [8008], protocol: 'tcp', healthCheck: { type: 'none' }, limits: { maxConnections: 1 } }, [
      { label: 'echo', address: echo.host, port: echo.port },
    ]);
    const first = tcpClient(8008);
    await first.connected;
    first.socket.write('one');
    await until('the first client is served', () => first.text() === 'one');
    const second = tcpClient(8008);
    second.socket.write('two');
    await sleep(500);
    expect(second.text()).toBe('');
    first.socket.destroy();
    await until('the second client is served once the first left', () => second.text() === 'two');
    second.socket.destroy();
  });
});

describe('where the engines differ (README of each engine)', () => {
  it('a client queued under the VIP limit: the embedded engine closes it after queueTimeout, HAProxy keeps it in the listen backlog', async () => {
    await createVip(client, { label: 'vip-queue-timeout', ipAddress: VIP, ports: [8009], protocol: 'tcp', healthCheck: { type: 'none' }, limits: { maxConnections: 1, queueTimeout: 1 } }, [
      { label: 'echo', address: echo.host, port: echo.port },
    ]);
    const first = tcpClient(8009);
    await first.connected;
    first.socket.write('one');
    await until('the first client is served', () => first.text() === 'one');
    const second = tcpClient(8009);
    second.socket.write('two');
    const outcome = await Promise.race([second.closed.then(() => 'closed'), sleep(3000).then(() => 'waiting')]);
    expect(outcome).toBe(HAPROXY ? 'waiting' : 'closed');
    first.socket.destroy();
    if (HAPROXY) await until('the backlogged client is served once the first left', () => second.text() === 'two');
    second.socket.destroy();
  });

  it('a cookie client of the last, drained server: the embedded engine keeps serving it, HAProxy answers from the fallback', async () => {
    const vs = await createVip(client, { label: 'drain-fallback', ipAddress: VIP, ports: [8010], protocol: 'http', healthCheck: { type: 'none' }, persistence: { mode: 'http-cookie' }, fallback: { mode: 'page' } }, [
      { label: 'web', address: web.host, port: web.port },
    ]);
    const first = await get(`http://${VIP}:8010/`);
    const cookie = String(first.headers['set-cookie']?.[0] ?? '').split(';')[0] as string;
    expect(cookie).toMatch(/^SERVERID=/);
    await client.updateRealServer(vs.id, vs.servers.web as string, { adminState: 'drain' });
    await until('the drain is applied', async () => (await get(`http://${VIP}:8010/`)).status === 503);
    const r = await get(`http://${VIP}:8010/`, { headers: { cookie } });
    expect(r.status).toBe(HAPROXY ? 503 : 200);
  });
});

describe('bad values', () => {
  /** A write that must be refused, changing nothing (test/helpers/refused-write.ts). */
  const refused = (write: () => Promise<unknown>): Promise<ApplianceProblemError> => refusedWrite(client, write);
  const base = { label: 'bad', ipAddress: VIP, ports: [8100], protocol: 'http' as const };

  it('refuses each bad fallback or limit naming the field, the revision unchanged', async () => {
    expect(await refused(() => client.createVirtualService({ ...base, fallback: { mode: 'server' } }))).toMatchObject({ status: 422, code: 'LB_INVALID_COMBINATION', field: '/fallback/address' });
    expect(await refused(() => client.createVirtualService({ ...base, protocol: 'tcp', fallback: { mode: 'page' } }))).toMatchObject({ status: 422, code: 'LB_INVALID_COMBINATION', field: '/fallback/mode' });
    expect(await refused(() => client.createVirtualService({ ...base, fallback: { mode: 'page', address: '127.0.215.50' } }))).toMatchObject({ status: 422, field: '/fallback/address' });
    expect(await refused(() => client.createVirtualService({ ...base, fallback: { mode: 'none', port: 80 } }))).toMatchObject({ status: 422, field: '/fallback/port' });
    expect(await refused(() => client.createVirtualService({ ...base, fallback: { mode: 'server', address: '300.1.1.1' } }))).toMatchObject({ status: 400, field: '/fallback/address' });
    expect(await refused(() => client.createVirtualService({ ...base, limits: { maxConnections: 0 } }))).toMatchObject({ status: 400, field: '/limits/maxConnections' });
    expect(await refused(() => client.createVirtualService({ ...base, limits: { whenFull: 'drop' as never } }))).toMatchObject({ status: 400, field: '/limits/whenFull' });
    expect(await refused(() => client.createVirtualService({ ...base, limits: { queueTimeout: 0 } }))).toMatchObject({ status: 400, field: '/limits/queueTimeout' });
    const vs = await client.createVirtualService(base);
    expect(await refused(() => client.createRealServer(vs.id, { label: 'x', address: '127.0.215.51', port: 80, maxConnections: 0 }))).toMatchObject({ status: 400, field: '/maxConnections' });
    expect(await refused(() => client.updateVirtualService(vs.id, { fallback: { mode: 'server' } }))).toMatchObject({ status: 422, field: '/fallback/address' });
  });
});
