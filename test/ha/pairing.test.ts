// Pairing two real appliances: the secondary receives the primary's configuration and users,
// refuses writes (naming the primary) and changes nothing; writes on the primary reach it
// before they are acknowledged; manual takeover and breaking the pair leave both consistent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplianceProblemError } from '../../openapi/sdk/index.js';
import type { TestAppliance } from '../helpers/appliance-process.js';
import { get } from '../engine/helpers/traffic.js';
import { rawExchange } from '../helpers/raw-http.js';
import { startHttpBackend, type HttpBackend } from '../engine/helpers/backends.js';
import { addressBlock, clientOf, pair, PRIMARY_PASSWORD, SECONDARY_PASSWORD, startNode, stateOf, until } from './helpers/pair.js';

const net = addressBlock(1);
let a: TestAppliance;
let b: TestAppliance;
let backends: HttpBackend[];
let vipId: string;

async function problemOf(p: Promise<unknown>): Promise<ApplianceProblemError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplianceProblemError);
  return err as ApplianceProblemError;
}

beforeAll(async () => {
  [a, b, ...backends] = await Promise.all([
    startNode(net.a, PRIMARY_PASSWORD),
    startNode(net.b, SECONDARY_PASSWORD),
    ...net.backends.slice(0, 2).map((host, i) => startHttpBackend({ name: `rs${i + 1}`, host, port: 8080 })),
  ]) as [TestAppliance, TestAppliance, ...HttpBackend[]];
  const vs = await clientOf(a).createVirtualService({ label: 'PACS', ipAddress: net.vip, ports: [8080], protocol: 'http' });
  vipId = vs.id;
  await clientOf(a).createRealServer(vipId, { label: 'rs1', address: net.backends[0]!, port: 8080 });
  // The secondary's own configuration is replaced by the primary's at pairing.
  await clientOf(b, SECONDARY_PASSWORD).createVirtualService({ label: 'LOCAL', ipAddress: '127.0.101.19', ports: [8081], protocol: 'tcp' });
});

afterAll(async () => {
  await Promise.all([a?.dispose(), b?.dispose(), ...(backends ?? []).map((s) => s.close())]);
});

describe('an HA pair of two appliances', () => {
  it('refuses to pair with a wrong password or a certificate other than the expected one, and changes nothing', async () => {
    const wrongPassword = await problemOf(clientOf(a).createHaPair({ peerEndpoint: b.endpoint, peerPassword: 'not-the-password-123' }));
    expect(wrongPassword.status).toBe(502);
    expect(wrongPassword.code).toBe('LB_HA_PEER_REFUSED');
    expect(wrongPassword.message).toMatch(/LB_UNAUTHORIZED/);
    const fingerprint = `${'AB:'.repeat(31)}AB`;
    const wrongCert = await problemOf(clientOf(a).createHaPair({ peerEndpoint: b.endpoint, peerPassword: SECONDARY_PASSWORD, peerFingerprintSha256: fingerprint }));
    expect(wrongCert.code).toBe('LB_HA_PEER_FINGERPRINT');
    expect(wrongCert.field).toBe('/peerFingerprintSha256');
    const self = await problemOf(clientOf(a).createHaPair({ peerEndpoint: a.endpoint, peerPassword: PRIMARY_PASSWORD }));
    expect(self.code).toBe('LB_HA_STATE');
    expect(await clientOf(a).getHaPair()).toEqual({ state: 'standalone', role: null });
    expect(await clientOf(b, SECONDARY_PASSWORD).getHaPair()).toEqual({ state: 'standalone', role: null });
  });

  it('pairs: the secondary holds the primary\'s configuration and users, and is passive', async () => {
    const formed = await pair(a, b, { heartbeatIntervalMs: 200, deadTimeMs: 1000 });
    expect(formed).toMatchObject({ state: 'paired', role: 'primary', peerEndpoint: b.endpoint, heartbeatPort: 6694, replicationPort: 7778, deadTimeMs: 1000, preferPrimary: false });
    expect(formed.peerFingerprintSha256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    // The primary's users now log in on the secondary; its own password no longer does.
    const onB = await clientOf(b).getHaPair();
    expect(onB).toMatchObject({ state: 'paired', role: 'secondary', peerEndpoint: a.endpoint });
    await expect(clientOf(b, SECONDARY_PASSWORD).getHaPair()).rejects.toMatchObject({ code: 'LB_UNAUTHORIZED' });
    const [listA, listB] = await Promise.all([clientOf(a).listVirtualServices(), clientOf(b).listVirtualServices()]);
    expect(listB.revision).toBe(listA.revision);
    expect(listB.items.map((v) => v.label)).toEqual(['PACS']);
    // The secondary's own history is gone: only the primary's revision is kept there.
    expect((await clientOf(b).listRevisions()).items.map((r) => r.revision)).toEqual([listA.revision]);
    expect(await stateOf(a)).toBe('active');
    expect(await stateOf(b)).toBe('passive');
    const overview = await clientOf(b).getOverview();
    expect(overview.node).toMatchObject({ haRole: 'secondary', haState: 'passive' });
    await until('the heartbeat on both sides', async () => ((await clientOf(a).getOverview()).node.peerHeartbeatAgeMs ?? 1e9) < 1000 && ((await clientOf(b).getOverview()).node.peerHeartbeatAgeMs ?? 1e9) < 1000);
    expect((await get(`http://${net.vip}:8080/`)).body.toString()).toBe('rs1');
  });

  it('replicates a write before acknowledging it: the secondary has it at once', async () => {
    const res = await clientOf(a).request('createRealServer', { path: { virtualServiceId: vipId }, body: { label: 'rs2', address: net.backends[1]!, port: 8080 } });
    expect(res.headers['x-lbappliance-peer']).toBe('in-sync');
    const [onA, onB] = await Promise.all([clientOf(a).listRealServers(vipId), clientOf(b).listRealServers(vipId)]);
    const stored = (list: typeof onA) => ({ revision: list.revision, items: list.items.map(({ id, label, address, port, weight }) => ({ id, label, address, port, weight })) });
    expect(stored(onB)).toEqual(stored(onA));
    expect(onB.items.map((r) => r.label).sort()).toEqual(['rs1', 'rs2']);
  });

  it('the secondary refuses writes, names the primary and changes nothing', async () => {
    const before = await clientOf(b).listVirtualServices();
    const err = await problemOf(clientOf(b).createVirtualService({ label: 'X', ipAddress: net.vip, ports: [9090], protocol: 'tcp' }));
    expect(err.status).toBe(409);
    expect(err.code).toBe('LB_HA_NOT_PRIMARY');
    expect(err.problem.primaryEndpoint).toBe(a.endpoint);
    expect((await problemOf(clientOf(b).createUser({ username: 'nurse', password: 'nurse-password-123', role: 'read-only' }))).code).toBe('LB_HA_NOT_PRIMARY');
    expect((await problemOf(clientOf(b).updateHaPair({ deadTimeMs: 2000 }))).code).toBe('LB_HA_NOT_PRIMARY');
    // Refused before its body is read: an unsent or malformed body makes no difference.
    const authorization = `Basic ${Buffer.from(`loadbalancer:${PRIMARY_PASSWORD}`).toString('base64')}`;
    const unsent = await rawExchange(b.endpoint, `POST /api/v1/virtual-services HTTP/1.1\r\nHost: lb\r\nAuthorization: ${authorization}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"la`, { timeoutMs: 3000 });
    expect(unsent.status).toBe(409);
    expect(JSON.parse(unsent.body)).toMatchObject({ code: 'LB_HA_NOT_PRIMARY' });
    expect(await clientOf(b).listVirtualServices()).toEqual(before);
    expect((await clientOf(a).listVirtualServices()).revision).toBe(before.revision);
  });

  it('replicates users created on the primary', async () => {
    await clientOf(a).createUser({ username: 'radiology', password: 'radiology-password-1', role: 'read-only' });
    expect((await b.client({ username: 'radiology', password: 'radiology-password-1' }).listUsers()).items.map((u) => u.username)).toContain('radiology');
  });

  it('changes the timers on both nodes', async () => {
    const changed = await clientOf(a).updateHaPair({ deadTimeMs: 1200 });
    expect(changed.deadTimeMs).toBe(1200);
    expect((await clientOf(b).getHaPair()).deadTimeMs).toBe(1200);
    expect((await problemOf(clientOf(a).updateHaPair({ peerEndpoint: 'https://127.0.100.99:9443' }))).code).toBe('LB_VALIDATION');
  });

  it('hands the VIPs over on a manual takeover, and back', async () => {
    const status = await clientOf(b).takeoverHaPair();
    expect(status).toMatchObject({ role: 'secondary', state: 'active' });
    expect(await stateOf(a)).toBe('passive');
    await until('traffic through the secondary', async () => (await get(`http://${net.vip}:8080/`)).status === 200);
    // The primary does not take them back by itself (preferPrimary is false).
    await new Promise((r) => setTimeout(r, 1500));
    expect([await stateOf(a), await stateOf(b)]).toEqual(['passive', 'active']);
    // Writes still go to the primary, passive or not, and reach the active secondary.
    await clientOf(a).updateRealServer(vipId, (await clientOf(a).listRealServers(vipId)).items.find((r) => r.label === 'rs2')!.id, { weight: 5 });
    expect((await clientOf(b).listRealServers(vipId)).items.find((r) => r.label === 'rs2')!.weight).toBe(5);
    await clientOf(a).takeoverHaPair();
    expect([await stateOf(a), await stateOf(b)]).toEqual(['active', 'passive']);
    expect((await clientOf(a).getHaStatus()).term).toBeGreaterThan((await clientOf(b).getHaStatus()).peer!.term! - 1);
  });

  it('shows the pair in the metrics', async () => {
    const text = await clientOf(b).getMetrics();
    expect(text).toMatch(/lbappliance_ha_role\{role="secondary"\} 1/);
    expect(text).toMatch(/lbappliance_ha_active 0/);
    expect(text).toMatch(/lbappliance_ha_heartbeats_accepted_total \d+/);
  });

  it('breaks the pair: both standalone with the same configuration, only the active one carries the VIPs', async () => {
    await clientOf(a).deleteHaPair();
    expect(await clientOf(a).getHaPair()).toEqual({ state: 'standalone', role: null });
    await until('the secondary to leave', async () => (await clientOf(b).getHaPair()).state === 'standalone');
    expect((await clientOf(b).getOverview()).node).toMatchObject({ haRole: 'standalone', haState: 'passive' });
    expect((await clientOf(a).getOverview()).node).toMatchObject({ haRole: 'standalone', haState: 'standalone' });
    expect((await clientOf(b).listVirtualServices()).revision).toBe((await clientOf(a).listVirtualServices()).revision);
    expect((await get(`http://${net.vip}:8080/`)).status).toBe(200);
    // The former secondary takes writes again.
    await clientOf(b).createUser({ username: 'local', password: 'local-password-1234', role: 'read-only' });
  });
});
