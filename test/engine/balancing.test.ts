// Balancing and persistence through a real appliance: weights, weight 0, leastconn, backup
// servers, drain and halt, cookie and source-IP persistence and their fallback when the
// server dies. Addresses 127.0.72.x (127.0.122.x when test/haproxy
// re-runs it on the HAProxy engine) belong to this file.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApplianceClient } from '../../openapi/sdk/index.js';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';
import { backendFleet, startTcpBackend, type TcpBackend } from './helpers/backends.js';
import { get } from './helpers/traffic.js';
import { createVip, healthOf } from './helpers/vips.js';
import { until } from './helpers/wait.js';
import { ENGINE, subnet } from './helpers/engine-under-test.js';

const NET = subnet('127.0.72');
const VIP = `${NET}.217`;
const FAST_CHECK = { type: 'connect' as const, interval: 1, timeout: 1, rise: 1, fall: 1 };
let app: TestAppliance;
let client: ApplianceClient;
const fleet = backendFleet(NET);
const tcpBackends: TcpBackend[] = [];

const backend = (name: string, last: number) => fleet.start(name, last);

function tally(names: string[]): Record<string, number> {
  const t: Record<string, number> = {};
  for (const n of names) t[n] = (t[n] ?? 0) + 1;
  return t;
}

async function names(url: string, n: number, headers: Record<string, string> = {}, localAddress?: string): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await get(url, { headers, localAddress });
    expect(r.status).toBe(200);
    out.push(r.body.toString());
  }
  return out;
}

function cookieOf(setCookie: string[] | undefined): string {
  const c = setCookie?.[0];
  if (!c) throw new Error('no Set-Cookie');
  return c.split(';')[0] as string;
}

beforeAll(async () => {
  app = await startTestAppliance({ engine: ENGINE, host: `${NET}.1` });
  client = app.client();
});

afterAll(async () => {
  await app?.dispose();
  await fleet.closeAll();
  await Promise.all(tcpBackends.map((b) => b.close()));
});

describe('weights', () => {
  it('spreads requests by weight; weight 0 takes none', async () => {
    const [a, b, c] = [await backend('w-a', 10), await backend('w-b', 11), await backend('w-c', 12)];
    await createVip(client, { label: 'weights', ipAddress: VIP, ports: [8001], protocol: 'http' }, [
      { label: 'a', address: a.host, port: a.port, weight: 50 },
      { label: 'b', address: b.host, port: b.port, weight: 150 },
      { label: 'c', address: c.host, port: c.port, weight: 0 },
    ]);
    const t = tally(await names(`http://${VIP}:8001/`, 400));
    expect(t['w-c']).toBeUndefined();
    expect(t['w-a']).toBeGreaterThanOrEqual(90);
    expect(t['w-a']).toBeLessThanOrEqual(110);
    expect(t['w-b']).toBeGreaterThanOrEqual(290);
  });
});

describe('leastconn', () => {
  it('sends new requests to the server with fewer open connections', async () => {
    const [a, b] = [await backend('lc-a', 20), await backend('lc-b', 21)];
    await createVip(client, { label: 'leastconn', ipAddress: VIP, ports: [8002], protocol: 'http', algorithm: 'leastconn' }, [
      { label: 'a', address: a.host, port: a.port },
      { label: 'b', address: b.host, port: b.port },
    ]);
    // Two held requests occupy one server each (equal weights, ties rotate)...
    const held: IncomingMessage[] = [];
    const hold = () =>
      new Promise<IncomingMessage>((resolve, reject) => {
        const req = httpRequest(`http://${VIP}:8002/hold`, { agent: false }, resolve);
        req.on('error', reject);
        req.end();
      });
    held.push(await hold());
    const first = String(held[0]?.headers['x-backend']);
    // ...so everything short goes to the other one while the first is busy. HAProxy frees a
    // stream (and its server's count) a moment after the response's last byte leaves, on
    // whichever thread ran it: a request sent in that moment finds the two servers tied and
    // may go either way, so each short request waits a little after the one before it.
    const pause = () => new Promise((r) => setTimeout(r, 50));
    const short: string[] = [];
    for (let i = 0; i < 10; i++) {
      short.push(...(await names(`http://${VIP}:8002/`, 1)));
      await pause();
    }
    const t = tally(short);
    const other = first === 'lc-a' ? 'lc-b' : 'lc-a';
    expect(t[other]).toBe(10);
    held.push(await hold(), await hold());
    // Now the other server holds two and the first one: new requests go to the first.
    expect(tally(held.slice(1).map((r) => String(r.headers['x-backend'])))).toEqual({ [other]: 1, [first]: 1 });
    a.releaseHolds();
    b.releaseHolds();
    for (const r of held) r.resume();
  });
});

describe('backup servers', () => {
  it('serve only when every primary is down, and hand back when one returns', async () => {
    const [p, s] = [await backend('primary', 30), await backend('backup', 31)];
    const vip = await createVip(client, { label: 'failover', ipAddress: VIP, ports: [8003], protocol: 'http', healthCheck: FAST_CHECK }, [
      { label: 'primary', address: p.host, port: p.port },
      { label: 'backup', address: s.host, port: s.port, backup: true },
    ]);
    expect(tally(await names(`http://${VIP}:8003/`, 20))).toEqual({ primary: 20 });
    await p.kill();
    // The first request after the crash finds the primary refusing and is retried on the backup.
    expect(tally(await names(`http://${VIP}:8003/`, 20))).toEqual({ backup: 20 });
    await p.revive();
    await until('primary back up', async () => (await healthOf(client, vip.id, vip.servers.primary as string)) === 'up');
    expect(tally(await names(`http://${VIP}:8003/`, 10))).toEqual({ primary: 10 });
  });
});

describe('drain and halt', () => {
  it('drain takes no new sessions but keeps persistent clients; halt takes nothing', async () => {
    const [a, b] = [await backend('d-a', 40), await backend('d-b', 41)];
    const vip = await createVip(client, { label: 'drain', ipAddress: VIP, ports: [8004], protocol: 'http', persistence: { mode: 'http-cookie', cookieName: 'LB' } }, [
      { label: 'a', address: a.host, port: a.port },
      { label: 'b', address: b.host, port: b.port },
    ]);
    // Find a cookie naming server a.
    let cookieA = '';
    for (let i = 0; i < 4 && !cookieA; i++) {
      const r = await get(`http://${VIP}:8004/`);
      if (r.body.toString() === 'd-a') cookieA = cookieOf(r.headers['set-cookie']);
    }
    expect(cookieA).toMatch(/^LB=/);
    await client.updateRealServer(vip.id, vip.servers.a as string, { adminState: 'drain' });
    expect(tally(await names(`http://${VIP}:8004/`, 10))).toEqual({ 'd-b': 10 });
    expect(tally(await names(`http://${VIP}:8004/`, 10, { cookie: cookieA }))).toEqual({ 'd-a': 10 });
    await client.updateRealServer(vip.id, vip.servers.a as string, { adminState: 'halt' });
    const r = await get(`http://${VIP}:8004/`, { headers: { cookie: cookieA } });
    expect(r.body.toString()).toBe('d-b');
    expect(cookieOf(r.headers['set-cookie'])).not.toBe(cookieA);
  });
});

describe('cookie persistence', () => {
  it('holds across 100 requests and falls back when the server dies', async () => {
    const [a, b] = [await backend('c-a', 50), await backend('c-b', 51)];
    await createVip(client, { label: 'cookie', ipAddress: VIP, ports: [8005], protocol: 'http', persistence: { mode: 'http-cookie' }, healthCheck: FAST_CHECK }, [
      { label: 'a', address: a.host, port: a.port },
      { label: 'b', address: b.host, port: b.port },
    ]);
    const first = await get(`http://${VIP}:8005/`);
    const cookie = cookieOf(first.headers['set-cookie']);
    expect(cookie).toMatch(/^SERVERID=[0-9a-f]{16}$/);
    const server = first.body.toString();
    expect(tally(await names(`http://${VIP}:8005/`, 100, { cookie }))).toEqual({ [server]: 100 });
    // The server never sees the appliance's own cookie.
    const dead = server === 'c-a' ? a : b;
    expect(dead.seen.at(-1)?.headers.cookie).toBeUndefined();
    await dead.kill();
    const moved = await get(`http://${VIP}:8005/`, { headers: { cookie } });
    expect(moved.status).toBe(200);
    expect(moved.body.toString()).not.toBe(server);
    const newCookie = cookieOf(moved.headers['set-cookie']);
    expect(tally(await names(`http://${VIP}:8005/`, 20, { cookie: newCookie }))).toEqual({ [moved.body.toString()]: 20 });
  });
});

describe('source-IP persistence', () => {
  it('keeps each client address on its server across 100 requests and moves it when the server dies', async () => {
    const [a, b] = [await backend('s-a', 60), await backend('s-b', 61)];
    await createVip(client, { label: 'sourceip', ipAddress: VIP, ports: [8006], protocol: 'http', persistence: { mode: 'source-ip', timeout: 60 }, healthCheck: FAST_CHECK }, [
      { label: 'a', address: a.host, port: a.port },
      { label: 'b', address: b.host, port: b.port },
    ]);
    // At least four clients, and as many more as it takes for both servers to have some: the
    // HAProxy engine places new source-IP clients by a hash of their address, which can put
    // four given addresses on one server (the embedded engine's round robin never does).
    const clients: string[] = [];
    const home: Record<string, string> = {};
    for (let last = 100; last < 132 && (clients.length < 4 || new Set(Object.values(home)).size < 2); last++) {
      const c = `${NET}.${last}`;
      const t = tally(await names(`http://${VIP}:8006/`, 25, {}, c));
      expect(Object.keys(t)).toHaveLength(1);
      home[c] = Object.keys(t)[0] as string;
      clients.push(c);
    }
    expect(new Set(Object.values(home)).size).toBe(2);
    for (const c of clients) expect(tally(await names(`http://${VIP}:8006/`, 25, {}, c))).toEqual({ [home[c] as string]: 25 });
    await a.kill();
    for (const c of clients) {
      const t = tally(await names(`http://${VIP}:8006/`, 10, {}, c));
      expect(t).toEqual({ 's-b': 10 });
    }
  });

  it('holds for TCP connections too', async () => {
    const x = await startTcpBackend({ name: 't-a', host: `${NET}.70`, mode: 'name' });
    const y = await startTcpBackend({ name: 't-b', host: `${NET}.71`, mode: 'name' });
    tcpBackends.push(x, y);
    await createVip(client, { label: 'tcp-sticky', ipAddress: VIP, ports: [8007], protocol: 'tcp', persistence: { mode: 'source-ip' } }, [
      { label: 'a', address: x.host, port: x.port },
      { label: 'b', address: y.host, port: y.port },
    ]);
    const once = (localAddress: string) =>
      new Promise<string>((resolve, reject) => {
        const s = connect({ host: VIP, port: 8007, localAddress });
        s.once('data', (d: Buffer) => {
          resolve(d.toString().trim());
          s.destroy();
        });
        s.once('error', reject);
      });
    const seen = new Set<string>();
    for (let i = 0; i < 30; i++) seen.add(await once(`${NET}.110`));
    expect(seen.size).toBe(1);
  });
});
