// The persistence table of issue 15 (item 3) on an HA pair of embedded appliances: entries
// of an http-cookie VIP's source-IP fallback, kept by network (/24), reach the passive node's
// table (read through its API), and a client cleared on the active node is cleared on the
// passive one too, so a takeover cannot bring it back. Addresses 127.0.246.200-209 belong to
// this file (nodes .201 and .202, VIP .200, backends .203-.204, clients .205-.206).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestAppliance } from '../helpers/appliance-process.js';
import { get } from '../engine/helpers/traffic.js';
import { startHttpBackend, type HttpBackend } from '../engine/helpers/backends.js';
import { clientOf, pair, PRIMARY_PASSWORD, SECONDARY_PASSWORD, startNode, stateOf, until } from './helpers/pair.js';

const NODE_A = '127.0.246.201';
const NODE_B = '127.0.246.202';
const VIP = '127.0.246.200';
let a: TestAppliance;
let b: TestAppliance;
let backends: HttpBackend[] = [];
let vsId = '';

beforeAll(async () => {
  const started = await Promise.all([startNode(NODE_A, PRIMARY_PASSWORD), startNode(NODE_B, SECONDARY_PASSWORD), startHttpBackend({ name: 'rs1', host: '127.0.246.203', port: 8080 }), startHttpBackend({ name: 'rs2', host: '127.0.246.204', port: 8080 })]);
  a = started[0] as TestAppliance;
  b = started[1] as TestAppliance;
  backends = started.slice(2) as HttpBackend[];
  const c = clientOf(a);
  const vs = await c.createVirtualService({ label: 'ha-fallback', ipAddress: VIP, ports: [8080], protocol: 'http', persistence: { mode: 'http-cookie', sourceIpFallback: true, ipv4PrefixLength: 24 }, healthCheck: { type: 'none' } });
  vsId = vs.id;
  for (const be of backends) await c.createRealServer(vs.id, { label: be.name, address: be.host, port: be.port });
  await pair(a, b);
  await until('active and passive', async () => (await stateOf(a)) === 'active' && (await stateOf(b)) === 'passive');
  await until('the VIP up on the primary', async () => (await get(`http://${VIP}:8080/`).catch(() => ({ status: 0 }))).status === 200);
}, 120_000);

afterAll(async () => {
  await Promise.all([a?.dispose(), b?.dispose(), ...backends.map((s) => s.close())]);
});

describe('persistence table on an HA pair', () => {
  it('the passive node holds the network entry the active one made, and forgets it when the active one clears it', async () => {
    const first = await get(`http://${VIP}:8080/`, { localAddress: '127.0.246.205' });
    const server = first.body.toString();
    // Another address of the same /24, without the cookie: the same server.
    expect((await get(`http://${VIP}:8080/`, { localAddress: '127.0.246.206' })).body.toString()).toBe(server);
    // (The readiness probe of beforeAll came from 127.0.0.1: its own entry, 127.0.0.0/24, is left alone.)
    const NETWORK = '127.0.246.0/24';
    const entry = async (node: TestAppliance) => (await clientOf(node).listPersistenceEntries(vsId)).items.find((e) => e.client === NETWORK);
    const onA = await entry(a);
    expect(onA).toEqual({ client: NETWORK, realServerId: backends.find((be) => be.name === server) && expect.stringMatching(/^rs-/), expiresInSeconds: expect.any(Number) });
    const servers = (await clientOf(a).listRealServers(vsId)).items;
    expect(servers.find((rs) => rs.id === onA?.realServerId)?.label).toBe(server);
    await until('the entry on the passive node', async () => (await entry(b)) !== undefined);
    expect((await entry(b))?.realServerId).toBe(onA?.realServerId);
    await clientOf(a).deletePersistenceEntry(vsId, '127.0.246.99');
    expect(await entry(a)).toBeUndefined();
    await until('the entry gone on the passive node', async () => (await entry(b)) === undefined);
    // The full table the stream resends every few seconds does not bring it back.
    await new Promise((r) => setTimeout(r, 6000));
    expect(await entry(b)).toBeUndefined();
    expect((await clientOf(b).listPersistenceEntries(vsId)).items.map((e) => e.client)).toEqual(['127.0.0.0/24']);
  }, 60_000);
});
