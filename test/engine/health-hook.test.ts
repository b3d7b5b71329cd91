// Engine.onHealth, driven through the Engine interface of every engine the factory builds:
// the embedded engine, HAProxy, and the kernel plane's checks beside a proxy engine (the
// layered engine). A server nobody listens on is announced down once (its first verdict,
// with the check's reason), comes up once a listener appears (one call per change, however
// many checks pass), a listener that left hears nothing, and a passive node's changes say
// so. The worker-process mode runs its checks in this same checker: test/events covers it
// through a real appliance. Real sockets; addresses 127.0.135.x belong to this file.
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { EmbeddedEngine } from '../../appliance/engine/embedded/embedded-engine.js';
import { HaproxyEngine } from '../../appliance/engine/haproxy/haproxy-engine.js';
import { KernelPlane } from '../../appliance/engine/kernel/kernel-plane.js';
import { LayeredEngine } from '../../appliance/engine/layered-engine.js';
import type { Engine, HealthTransition, VirtualServiceSnapshot } from '../../appliance/engine/types.js';
import type { HttpBackend } from './helpers/backends.js';
import { configSnapshot, vipSnapshot } from './helpers/snapshots.js';
import { until } from './helpers/wait.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

interface Variant {
  name: string;
  /** The last octet of the variant's addresses: VIP .N1, server .N2. */
  net: number;
  forwarding: VirtualServiceSnapshot['forwarding'];
  build(): Promise<Engine>;
}

const silent = pino({ level: 'silent' });

const VARIANTS: Variant[] = [
  { name: 'embedded', net: 10, forwarding: 'proxy', build: async () => new EmbeddedEngine({ logger: silent, registry: new Registry() }) },
  {
    name: 'haproxy',
    net: 20,
    forwarding: 'proxy',
    build: async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'lb-health-hook-'));
      dirs.push(dataDir);
      return new HaproxyEngine({ logger: silent, registry: new Registry(), dataDir });
    },
  },
  {
    // A nat VIP is the kernel plane's: its checks run there (programming nothing here: enabled false).
    name: 'kernel plane (layered engine)',
    net: 30,
    forwarding: 'nat',
    build: async () => {
      const registry = new Registry();
      return new LayeredEngine(new EmbeddedEngine({ logger: silent, registry }), new KernelPlane({ logger: silent, registry, enabled: false }));
    },
  },
];

/** Nobody listens on the server until the test starts one. */
function absentServer(host: string, port: number): HttpBackend {
  return { name: 'pacs', host, port } as HttpBackend;
}

function listen(host: string, port: number): Promise<Server> {
  const server = createServer((s) => s.destroy());
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

describe.each(VARIANTS)('onHealth of the $name engine', { timeout: 120_000 }, (variant) => {
  it('announces each change once, as the checks decide it, to listeners still subscribed', async () => {
    const vip = `127.0.135.${variant.net + 1}`;
    const host = `127.0.135.${variant.net + 2}`;
    const port = 11112;
    const engine = await variant.build();
    let server: Server | null = null;
    try {
      await engine.start();
      const seen: HealthTransition[] = [];
      const off = engine.onHealth((t) => seen.push(t));
      const leftEarly: HealthTransition[] = [];
      engine.onHealth((t) => leftEarly.push(t))();
      const healthCheck = { ...vipSnapshot('x', vip, 1, []).healthCheck, type: 'connect' as const, interval: 1, timeout: 1, rise: 1, fall: 1 };
      await engine.apply(configSnapshot(1, vipSnapshot('vs-hook00000001', vip, port, [absentServer(host, port)], { protocol: 'tcp', forwarding: variant.forwarding, persistence: { mode: 'none', cookieName: 'SERVERID', timeout: 600, sourceIpFallback: false, ipv4PrefixLength: 32, ipv6PrefixLength: 128 }, healthCheck })));
      const down = await until('the down transition', () => seen.find((t) => t.to === 'down'), 60_000);
      expect(down).toMatchObject({ virtualServiceId: 'vs-hook00000001', realServerId: 'rs-pacs', from: 'unknown', first: true, active: true });
      expect(down.detail).toMatch(/refused|ECONNREFUSED/i);
      expect(Number.isNaN(Date.parse(down.at))).toBe(false);
      server = await listen(host, port);
      const up = await until('the up transition', () => seen.find((t) => t.to === 'up'), 60_000);
      expect(up).toMatchObject({ virtualServiceId: 'vs-hook00000001', realServerId: 'rs-pacs', from: 'down', first: false, active: true });
      // One call per change, not one per check (the checks run every second).
      await new Promise((r) => setTimeout(r, 3000));
      expect(seen.map((t) => `${t.from}>${t.to}`)).toEqual(['unknown>down', 'down>up']);
      expect(leftEarly).toEqual([]);
      // A passive node's changes are marked so (the events layer keeps them to itself).
      await engine.setActive(false);
      server.close();
      server = null;
      const passive = await until('the passive down transition', () => seen.find((t) => t.from === 'up' && t.to === 'down'), 60_000);
      expect(passive.active).toBe(false);
      off();
      await engine.setActive(true);
    } finally {
      server?.close();
      await engine.stop(100);
    }
  });
});
