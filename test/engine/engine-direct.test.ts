// The embedded engine driven directly through the Engine interface, as the HA controller
// will drive it: setActive releases and re-binds every VIP, the source-IP table exports,
// imports and reports changes, check() refuses a certificate it cannot serve, stop()
// releases everything. Real sockets; addresses 127.0.76.x belong to this file.
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedEngine } from '../../appliance/engine/embedded/embedded-engine.js';
import type { PersistenceChange } from '../../appliance/engine/types.js';
import type { ConfigSnapshot, VirtualServiceSnapshot } from '../../appliance/engine/types.js';
import { isApplianceError } from '../../appliance/errors.js';
import { startHttpBackend, type HttpBackend } from './helpers/backends.js';
import { configSnapshot, vipSnapshot } from './helpers/snapshots.js';
import { get } from './helpers/traffic.js';

const VIP = '127.0.76.217';
let engine: EmbeddedEngine;
let a: HttpBackend;
let b: HttpBackend;
let revision = 0;

function vip(id: string, port: number, servers: HttpBackend[], extra: Partial<VirtualServiceSnapshot> = {}): VirtualServiceSnapshot {
  return vipSnapshot(id, VIP, port, servers, extra);
}

function snapshot(...virtualServices: VirtualServiceSnapshot[]): ConfigSnapshot {
  return configSnapshot(++revision, ...virtualServices);
}

beforeAll(async () => {
  a = await startHttpBackend({ name: 'a', host: '127.0.76.6' });
  b = await startHttpBackend({ name: 'b', host: '127.0.76.7' });
  engine = new EmbeddedEngine({ logger: pino({ level: 'silent' }), registry: new Registry() });
  await engine.start();
});

afterAll(async () => {
  await engine?.stop(100);
  await Promise.all([a?.close(), b?.close()]);
});

describe('the embedded engine through its interface', () => {
  it('applies a snapshot: listening and serving when apply resolves', async () => {
    const report = await engine.apply(snapshot(vip('vs-one', 8001, [a, b])));
    expect(report.listenersChanged).toBe(1);
    expect((await get(`http://${VIP}:8001/`)).status).toBe(200);
    const st = engine.status().virtualServices.get('vs-one');
    expect(st?.listening).toBe(true);
    expect([...(st?.realServers.keys() ?? [])]).toEqual(['rs-a', 'rs-b']);
  });

  it('changes of servers and weights touch no listener', async () => {
    const report = await engine.apply(snapshot(vip('vs-one', 8001, [a], { algorithm: 'leastconn' })));
    expect(report.listenersChanged).toBe(0);
    expect(engine.status().virtualServices.get('vs-one')?.realServers.size).toBe(1);
  });

  it('releases every VIP when passive and binds again when active', async () => {
    await engine.setActive(false);
    expect(engine.status()).toMatchObject({ active: false });
    expect(engine.status().virtualServices.get('vs-one')?.listening).toBe(false);
    expect(await get(`http://${VIP}:8001/`).catch((e: NodeJS.ErrnoException) => e.code)).toBe('ECONNREFUSED');
    // A revision applied while passive is held ready and bound on takeover.
    await engine.apply(snapshot(vip('vs-one', 8001, [a, b]), vip('vs-two', 8002, [b])));
    expect(await get(`http://${VIP}:8002/`).catch((e: NodeJS.ErrnoException) => e.code)).toBe('ECONNREFUSED');
    await engine.setActive(true);
    expect((await get(`http://${VIP}:8001/`)).status).toBe(200);
    expect((await get(`http://${VIP}:8002/`)).body.toString()).toBe('b');
  });

  it('keeps a replicable source-IP table: change events, export and import', async () => {
    const changes: PersistenceChange[] = [];
    const onChange = (c: PersistenceChange) => changes.push(c);
    engine.persistence.on('change', onChange);
    const r = await get(`http://${VIP}:8001/`, { localAddress: '127.0.76.100' });
    const entries = engine.persistence.export().filter((e) => e.virtualServiceId === 'vs-one' && e.client === '127.0.76.100');
    expect(entries).toHaveLength(1);
    expect(entries[0]?.realServerId).toBe(`rs-${r.body.toString()}`);
    expect(changes.some((c) => c.type === 'set' && c.entry.client === '127.0.76.100')).toBe(true);
    // An entry replicated from the peer decides where that client goes.
    const other = r.body.toString() === 'a' ? 'b' : 'a';
    expect(engine.persistence.import([{ virtualServiceId: 'vs-one', client: '127.0.76.100', realServerId: `rs-${other}`, lastSeen: Date.now() + 1000 }])).toBe(1);
    for (let i = 0; i < 5; i++) expect((await get(`http://${VIP}:8001/`, { localAddress: '127.0.76.100' })).body.toString()).toBe(other);
    // Removing the server drops its entries, with a delete event for the peer.
    changes.length = 0;
    await engine.apply(snapshot(vip('vs-one', 8001, [r.body.toString() === 'a' ? a : b]), vip('vs-two', 8002, [b])));
    expect(changes.some((c) => c.type === 'delete' && c.entry.client === '127.0.76.100')).toBe(true);
    engine.persistence.off('change', onChange);
  });

  it('refuses a certificate it cannot serve, changing nothing', async () => {
    const bad = snapshot(vip('vs-tls', 8443, [a], { certificateId: 'cert-000000000000', certificate: { id: 'cert-000000000000', label: 'bad', chainPem: 'not a certificate', keyPem: 'not a key', fingerprintSha256: 'x' } }));
    const err = await engine.check(bad).catch((e: unknown) => e);
    expect(isApplianceError(err, 'LB_ENGINE_REFUSED')).toBe(true);
    expect(engine.status().virtualServices.has('vs-tls')).toBe(false);
  });

  it('removing a VIP closes only its listener', async () => {
    const report = await engine.apply(snapshot(vip('vs-one', 8001, [a])));
    expect(report.listenersChanged).toBe(1);
    expect(await get(`http://${VIP}:8002/`).catch((e: NodeJS.ErrnoException) => e.code)).toBe('ECONNREFUSED');
    expect((await get(`http://${VIP}:8001/`)).status).toBe(200);
  });
});

describe('a VIP the engine cannot set up (issue 19)', () => {
  it('fails that VIP with the reason and applies the rest', async () => {
    // Settings no contract-valid write makes (a hand-edited revision): no persistence, no health check.
    const broken = vip('vs-broken', 8006, [b], { persistence: undefined, healthCheck: undefined } as unknown as Partial<VirtualServiceSnapshot>);
    await engine.apply(snapshot(vip('vs-one', 8001, [a]), broken));
    const st = engine.status().virtualServices.get('vs-broken');
    expect(st?.listening).toBe(false);
    expect(st?.error).toMatch(/^cannot set up /);
    expect((await get(`http://${VIP}:8001/`)).status).toBe(200);
    // A snapshot without the fault applies it.
    await engine.apply(snapshot(vip('vs-one', 8001, [a]), vip('vs-broken', 8006, [b])));
    expect(engine.status().virtualServices.get('vs-broken')?.listening).toBe(true);
    expect((await get(`http://${VIP}:8006/`)).status).toBe(200);
  });
});
