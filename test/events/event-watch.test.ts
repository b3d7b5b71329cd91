// The event watch hears health changes from the engine's onHealth hook, not from a timer:
// with its reading interval set to an hour, a real embedded engine's server going down and
// coming back is still one event each, published as the check decides it. A new server's
// first verdict is news only when it is down, and a passive node's changes are not news.
// The store is reduced to what the watch reads (its current revision). Addresses
// 127.0.134.101-103 belong to this file.
import { createServer, type Server } from 'node:net';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyConfig, type RevisionRecord } from '../../appliance/config/model.js';
import { EmbeddedEngine } from '../../appliance/engine/embedded/embedded-engine.js';
import type { HaStatusView } from '../../appliance/ha/controller.js';
import { EventWatch } from '../../appliance/events/event-watch.js';
import { OperationalEvents, type RealServerHealthEvent } from '../../appliance/events/operational-events.js';
import type { HttpBackend } from '../engine/helpers/backends.js';
import { configSnapshot, vipSnapshot } from '../engine/helpers/snapshots.js';
import { until } from '../engine/helpers/wait.js';

const VIP = '127.0.134.101';
const DOWN = '127.0.134.102';
const UP = '127.0.134.103';
const PORT = 11112;
const HOUR = 3_600_000;

let engine: EmbeddedEngine;
let watch: EventWatch;
let upServer: Server;
let downServer: Server | null = null;
const published: RealServerHealthEvent[] = [];

function listen(host: string): Promise<Server> {
  const server = createServer((s) => s.destroy());
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(PORT, host, () => resolve(server));
  });
}

/** The configuration the watch names servers from: one VIP, a server that is down and one that is up. */
function current(): RevisionRecord {
  const config = emptyConfig();
  (config.virtualServices as Record<string, unknown>)['vs-watch0000001'] = { label: 'PACS' };
  (config.realServers as Record<string, unknown>)['rs-down'] = { label: 'pacs-1', address: DOWN, port: PORT };
  (config.realServers as Record<string, unknown>)['rs-up'] = { label: 'pacs-2', address: UP, port: PORT };
  return { revision: 1, createdAt: new Date().toISOString(), user: 'test', operation: 'test', config };
}

beforeAll(async () => {
  upServer = await listen(UP);
  engine = new EmbeddedEngine({ logger: pino({ level: 'silent' }), registry: new Registry() });
  await engine.start();
  const events = new OperationalEvents(pino({ level: 'silent' }));
  events.subscribe((e) => {
    if (e.kind === 'real-server-health') published.push(e);
  });
  const store = { current: current() };
  watch = new EventWatch({ events, store, engine, haStatus: () => ({ lastTransition: null }) as unknown as HaStatusView, intervalMs: HOUR, certificateIntervalMs: HOUR });
  watch.start();
  const healthCheck = { ...vipSnapshot('x', VIP, 1, []).healthCheck, type: 'connect' as const, interval: 1, timeout: 1, rise: 1, fall: 1 };
  const servers = [{ name: 'down', host: DOWN, port: PORT }, { name: 'up', host: UP, port: PORT }] as HttpBackend[];
  await engine.apply(configSnapshot(1, vipSnapshot('vs-watch0000001', VIP, PORT, servers, { protocol: 'tcp', healthCheck })));
});

afterAll(async () => {
  watch?.stop();
  await engine?.stop(100);
  upServer?.close();
  downServer?.close();
});

describe('the event watch', { timeout: 120_000 }, () => {
  it('publishes a health change when the engine reports it, without waiting for its interval', async () => {
    const down = await until('the down event', () => published.find((e) => e.realServer.id === 'rs-down'), 60_000);
    expect(down).toMatchObject({ severity: 'error', from: 'unknown', to: 'down', virtualService: { id: 'vs-watch0000001', name: 'PACS' }, realServer: { name: 'pacs-1', address: DOWN, port: PORT } });
    expect(down.message).toMatch(/^real server pacs-1 \(127\.0\.134\.102:11112\) of PACS is down: .*(refused|ECONNREFUSED)/i);
    downServer = await listen(DOWN);
    const up = await until('the up event', () => published.find((e) => e.realServer.id === 'rs-down' && e.to === 'up'), 60_000);
    expect(up).toMatchObject({ severity: 'notice', from: 'down', message: 'real server pacs-1 (127.0.134.102:11112) of PACS is up' });
  });

  it('a new server coming up is no news, nor is a change on the passive node', async () => {
    // pacs-2 was up from its first check: never announced.
    expect(engine.status().virtualServices.get('vs-watch0000001')?.realServers.get('rs-up')?.health).toBe('up');
    expect(published.filter((e) => e.realServer.id === 'rs-up')).toEqual([]);
    await engine.setActive(false);
    upServer.close();
    await until('pacs-2 down on the passive node', () => engine.status().virtualServices.get('vs-watch0000001')?.realServers.get('rs-up')?.health === 'down', 60_000);
    await new Promise((r) => setTimeout(r, 1500));
    expect(published.filter((e) => e.realServer.id === 'rs-up')).toEqual([]);
    expect(published.map((e) => `${e.realServer.name} ${e.to}`)).toEqual(['pacs-1 down', 'pacs-1 up']);
  });
});
