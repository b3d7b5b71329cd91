// A write that replaces VIPs in place is applied as a step: every layer of the engine follows
// only the VIPs it changed (config/snapshot-step.ts, issue 17). This drives a real appliance
// (the embedded engine with two worker processes; test/haproxy re-runs it on HAProxy) through
// seeded random one-change writes of every kind a step carries, and after each write checks,
// against a model kept here and not against the engine, that every VIP answers on its ports
// from the servers it should, refuses where it should not listen, and that every server shows
// the health its check gives. Addresses 127.0.79.x (127.0.129.x on HAProxy) belong to this file.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApplianceClient } from '../../openapi/sdk/index.js';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';
import { seededRandom } from '../helpers/seeded-random.js';
import { backendFleet } from './helpers/backends.js';
import { get } from './helpers/traffic.js';
import { overviewOf } from './helpers/vips.js';
import { until } from './helpers/wait.js';
import { ENGINE, subnet } from './helpers/engine-under-test.js';

const NET = subnet('127.0.79');
const BACKENDS = ['b1', 'b2', 'b3'];
/** A server nobody listens for: its check fails. */
const DEAD = BACKENDS.length;
const VIPS = 6;

interface ServerModel {
  id: string;
  backend: number;
  weight: number;
  adminState: 'online' | 'drain' | 'halt';
}
interface VipModel {
  id: string;
  address: string;
  ports: number[];
  enabled: boolean;
  protocol: 'http' | 'tcp';
  sourceIp: boolean;
  servers: ServerModel[];
}

let app: TestAppliance;
let client: ApplianceClient;
const fleet = backendFleet(NET);
const ports: number[] = [];

beforeAll(async () => {
  app = await startTestAppliance({ engine: ENGINE, host: `${NET}.1`, env: { LBAPPLIANCE_ENGINE_WORKERS: '2' } });
  client = app.client();
  for (const [i, name] of BACKENDS.entries()) ports.push((await fleet.start(name, 201 + i)).port);
});

afterAll(async () => {
  await app?.dispose();
  await fleet.closeAll();
});

function refuses(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

/** Checks every VIP against the model: answers, refusals, health. */
async function checkAll(vips: VipModel[], released: { host: string; port: number }[], at: string): Promise<void> {
  for (const vip of vips) {
    if (!vip.enabled) {
      for (const port of vip.ports) expect(await refuses(vip.address, port), `${at}: disabled ${vip.id} refuses :${port}`).toBe(true);
      continue;
    }
    // Every server's check has its verdict first (a dead one down, the others up), then traffic.
    let seen = '';
    const overview = await until(`${at}: health of ${vip.id}`, async () => {
      const o = await overviewOf(client, vip.id);
      seen = o.realServers.map((r) => `${r.id}:${r.health}`).join(' ');
      const ids = o.realServers.map((r) => r.id).sort();
      if (ids.join() !== vip.servers.map((s) => s.id).sort().join()) return null;
      return vip.servers.every((s) => {
        const health = o.realServers.find((r) => r.id === s.id)?.health;
        // HAProxy stops checking a server in maintenance (halt): it has no verdict there.
        return health === (s.backend === DEAD ? 'down' : 'up') || (s.adminState === 'halt' && health === 'unknown');
      }) ? o : null;
    }, 8000).catch((err: Error) => {
      throw new Error(`${err.message}; wanted ${JSON.stringify(vip)}, seen ${seen}`);
    });
    expect(overview.realServers.length).toBe(vip.servers.length);
    const serving = new Set(vip.servers.filter((s) => s.backend !== DEAD && s.adminState === 'online' && s.weight > 0).map((s) => BACKENDS[s.backend]));
    for (const port of vip.ports) {
      for (let k = 0; k < 3; k++) {
        const reply = await get(`http://${vip.address}:${port}/`);
        if (serving.size === 0) {
          // Nothing to serve: never a backend's answer.
          expect(BACKENDS.includes(reply.body.toString()), `${at}: ${vip.id}:${port} with no server`).toBe(false);
          continue;
        }
        expect(reply.status, `${at}: ${vip.id}:${port}`).toBe(200);
        expect([...serving], `${at}: ${vip.id}:${port} answered by`).toContain(reply.body.toString());
      }
    }
  }
  for (const { host, port } of released) expect(await refuses(host, port), `${at}: released ${host}:${port} refuses`).toBe(true);
}

describe('writes applied as steps', () => {
  it('leave every VIP answering exactly as a whole apply would, over 45 seeded one-change writes', async () => {
    const random = seededRandom(17);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const vips: VipModel[] = [];
    let nextPort = 8100;
    for (let i = 0; i < VIPS; i++) {
      const address = `${NET}.${10 + i}`;
      const vs = await client.createVirtualService({ label: `step-${i}`, ipAddress: address, ports: [nextPort++], protocol: 'http', healthCheck: { type: 'connect', interval: 1, timeout: 1, rise: 1, fall: 1 } });
      const model: VipModel = { id: vs.id, address, ports: [...vs.ports], enabled: true, protocol: 'http', sourceIp: false, servers: [] };
      for (let k = 0; k < 2; k++) {
        const backend = (i + k) % BACKENDS.length;
        const rs = await client.createRealServer(vs.id, { label: `s${i}-${k}`, address: addressOf(backend), port: portOf(backend), weight: 10 });
        model.servers.push({ id: rs.id, backend, weight: 10, adminState: 'online' });
      }
      vips.push(model);
    }
    await checkAll(vips, [], 'created');
    const kinds: Record<string, number> = {};
    for (let w = 0; w < 45; w++) {
      const vip = pick(vips);
      const released: { host: string; port: number }[] = [];
      const kind = pick(['weight', 'backend', 'add', 'remove', 'enabled', 'port', 'protocol', 'persistence', 'admin'] as const);
      kinds[kind] = (kinds[kind] ?? 0) + 1;
      const server = pick(vip.servers);
      switch (kind) {
        case 'weight':
          server.weight = 1 + Math.floor(random() * 100);
          await client.updateRealServer(vip.id, server.id, { weight: server.weight });
          break;
        case 'backend':
          server.backend = (server.backend + 1) % (BACKENDS.length + 1);
          await client.updateRealServer(vip.id, server.id, { address: addressOf(server.backend), port: portOf(server.backend) });
          break;
        case 'add': {
          const backend = Math.floor(random() * (BACKENDS.length + 1));
          const rs = await client.createRealServer(vip.id, { label: `a${w}`, address: addressOf(backend), port: portOf(backend), weight: 10 });
          vip.servers.push({ id: rs.id, backend, weight: 10, adminState: 'online' });
          break;
        }
        case 'remove':
          if (vip.servers.length < 2) continue;
          await client.deleteRealServer(vip.id, server.id);
          vip.servers = vip.servers.filter((s) => s !== server);
          break;
        case 'enabled':
          vip.enabled = !vip.enabled;
          await client.updateVirtualService(vip.id, { enabled: vip.enabled });
          break;
        case 'port': {
          const old = vip.ports[0]!;
          vip.ports = [nextPort++];
          await client.updateVirtualService(vip.id, { ports: vip.ports });
          released.push({ host: vip.address, port: old });
          break;
        }
        case 'protocol':
          vip.protocol = vip.protocol === 'http' ? 'tcp' : 'http';
          await client.updateVirtualService(vip.id, { protocol: vip.protocol });
          break;
        case 'persistence':
          vip.sourceIp = !vip.sourceIp;
          await client.updateVirtualService(vip.id, { persistence: vip.sourceIp ? { mode: 'source-ip', timeout: 60 } : { mode: 'none' } });
          break;
        case 'admin':
          server.adminState = server.adminState === 'online' ? pick(['drain', 'halt'] as const) : 'online';
          await client.updateRealServer(vip.id, server.id, { adminState: server.adminState });
          break;
      }
      await checkAll(vips, released, `write ${w} (${kind} on ${vip.id})`);
    }
    // The writes must have been of every kind.
    expect(Object.keys(kinds).length).toBe(9);
  }, 180_000);
});

/** The port backend `index` listens on (the fleet picks free ones). */
function portOf(index: number): number {
  return index === DEAD ? 9 : (ports[index] as number);
}

function addressOf(index: number): string {
  return `${NET}.${201 + index}`;
}
