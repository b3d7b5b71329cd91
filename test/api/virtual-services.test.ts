// Virtual services and real servers through the API of a real appliance process: create,
// read, list, replace, merge-patch, delete, ETag / If-Match, canonical read-backs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotFoundError, PreconditionFailedError, ValidationError, type ApplianceClient } from '../../openapi/sdk/index.js';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';

let app: TestAppliance;
let client: ApplianceClient;

beforeAll(async () => {
  app = await startTestAppliance();
  client = app.client();
});
afterAll(async () => app?.dispose());

describe('virtual services', () => {
  it('creates a VIP with every default filled in and reads it back equal', async () => {
    const created = await client.createVirtualService({ label: 'AVS-AQI', ipAddress: '127.0.40.217', ports: [1200], protocol: 'tcp', persistence: { mode: 'source-ip' }, timeouts: { client: 92, server: 93 } });
    expect(created.id).toMatch(/^vs-[0-9a-f]{12}$/);
    expect(created).toMatchObject({
      label: 'AVS-AQI',
      ipAddress: '127.0.40.217',
      ports: [1200],
      protocol: 'tcp',
      certificateId: null,
      algorithm: 'roundrobin',
      persistence: { mode: 'source-ip', cookieName: 'SERVERID', timeout: 1800 },
      healthCheck: { type: 'connect', port: null, path: '/', interval: 5, timeout: 4, rise: 2, fall: 3, expectStatus: 200 },
      timeouts: { client: 92, server: 93, connect: 4, httpRequest: 10 },
      forceHttps: false,
      redirectCode: 301,
      forwardedFor: true,
      enabled: true,
    });
    const { status: _s, ...read } = await client.getVirtualService(created.id);
    const { status: _s2, ...written } = created;
    expect(read).toEqual(written);
  });

  it('lists with the current revision and filters by label', async () => {
    const a = await client.createVirtualService({ label: 'list-a', ipAddress: '127.0.41.1', ports: [80], protocol: 'http' });
    const list = await client.listVirtualServices();
    const config = await client.getConfig();
    expect(list.revision).toBe(config.revision);
    expect(list.items.map((v) => v.id)).toContain(a.id);
    const only = await client.listVirtualServices({ query: { label: 'list-a' } });
    expect(only.items).toHaveLength(1);
    expect(only.items[0]?.id).toBe(a.id);
    expect((await client.listVirtualServices({ query: { label: 'no-such-label' } })).items).toEqual([]);
  });

  it('replaces with PUT (omitted properties return to defaults) and patches with a merge patch', async () => {
    const vs = await client.createVirtualService({ label: 'put-me', ipAddress: '127.0.41.2', ports: [80], protocol: 'http', algorithm: 'leastconn', forwardedFor: false });
    const replaced = await client.replaceVirtualService(vs.id, { label: 'put-me', ipAddress: '127.0.41.2', ports: [80, 8080], protocol: 'http' });
    expect(replaced.ports).toEqual([80, 8080]);
    expect(replaced.algorithm).toBe('roundrobin');
    expect(replaced.forwardedFor).toBe(true);
    const patched = await client.updateVirtualService(vs.id, { healthCheck: { type: 'http', path: '/health' }, enabled: false });
    expect(patched.healthCheck).toMatchObject({ type: 'http', path: '/health', interval: 5 });
    expect(patched.enabled).toBe(false);
    expect(patched.ports).toEqual([80, 8080]);
    const reset = await client.updateVirtualService(vs.id, { healthCheck: null, enabled: null });
    expect(reset.healthCheck.type).toBe('connect');
    expect(reset.enabled).toBe(true);
  });

  it('refuses a merge patch whose result is invalid and changes nothing', async () => {
    const vs = await client.createVirtualService({ label: 'patch-bad', ipAddress: '127.0.41.3', ports: [80], protocol: 'http' });
    const before = await client.getConfig();
    const err = await client.updateVirtualService(vs.id, { ports: [0] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).field).toBe('/ports/0');
    const err2 = await client.updateVirtualService(vs.id, { label: null }).catch((e: unknown) => e);
    expect((err2 as ValidationError).field).toBe('/label');
    expect((await client.getConfig()).revision).toBe(before.revision);
  });

  it('refuses a check path the request line cannot carry, naming /healthCheck/path, and keeps a percent-encoded one byte for byte (issue 19)', async () => {
    const before = await client.getConfig();
    for (const path of ['/ǅ', '/😀', '/é', '/a#b', '/a\\b', '/50%', '/a"b', '/a\u0085']) {
      const err = await client
        .createVirtualService({ label: 'hc-path', ipAddress: '127.0.152.1', ports: [8080], protocol: 'http', healthCheck: { type: 'http', path, interval: 1 } })
        .catch((e: unknown) => e);
      expect(err, path).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).field, path).toBe('/healthCheck/path');
    }
    expect((await client.getConfig()).revision).toBe(before.revision);
    const path = "/%C7%85/it's/$x?a=(1)&b=*+,;=:@~";
    const vs = await client.createVirtualService({ label: 'hc-path', ipAddress: '127.0.152.1', ports: [8080], protocol: 'http', healthCheck: { type: 'https', path } });
    expect((await client.getVirtualService(vs.id)).healthCheck.path).toBe(path);
    await client.deleteVirtualService(vs.id);
  });

  it('honours If-Match: a stale ETag gets 412 and changes nothing', async () => {
    const vs = await client.createVirtualService({ label: 'etag', ipAddress: '127.0.41.4', ports: [80], protocol: 'http' });
    const first = await client.request('getVirtualService', { path: { virtualServiceId: vs.id } });
    expect(first.etag).toMatch(/^"[0-9a-f]{16}"$/);
    const ok = await client.request('updateVirtualService', { path: { virtualServiceId: vs.id }, body: { algorithm: 'leastconn' } }, { ifMatch: first.etag });
    expect(ok.etag).not.toBe(first.etag);
    const before = await client.getConfig();
    const err = await client.updateVirtualService(vs.id, { algorithm: 'roundrobin' }, { ifMatch: first.etag }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PreconditionFailedError);
    expect((err as PreconditionFailedError).code).toBe('LB_PRECONDITION_FAILED');
    const del = await client.deleteVirtualService(vs.id, { ifMatch: first.etag }).catch((e: unknown) => e);
    expect((del as PreconditionFailedError).status).toBe(412);
    expect((await client.getConfig()).revision).toBe(before.revision);
    expect((await client.getVirtualService(vs.id)).algorithm).toBe('leastconn');
    await client.deleteVirtualService(vs.id, { ifMatch: ok.etag });
  });

  it('deletes a VIP together with its real servers', async () => {
    const vs = await client.createVirtualService({ label: 'gone', ipAddress: '127.0.41.5', ports: [80], protocol: 'http' });
    const rs = await client.createRealServer(vs.id, { label: 'S1', address: '127.0.41.50', port: 8080 });
    await client.deleteVirtualService(vs.id);
    await expect(client.getVirtualService(vs.id)).rejects.toBeInstanceOf(NotFoundError);
    const config = await client.getConfig();
    expect(config.realServers[rs.id]).toBeUndefined();
    const err = (await client.deleteVirtualService(vs.id).catch((e: unknown) => e)) as NotFoundError;
    expect(err.code).toBe('LB_NOT_FOUND');
    expect(err.field).toBe('virtualServiceId');
  });
});

describe('real servers', () => {
  it('creates, reads, lists, replaces, patches and deletes real servers of a VIP', async () => {
    const vs = await client.createVirtualService({ label: 'AVS', ipAddress: '127.0.42.217', ports: [443], protocol: 'tcp' });
    const s1 = await client.createRealServer(vs.id, { label: 'SERVER1', address: '127.0.42.6', port: 443 });
    expect(s1).toMatchObject({ virtualServiceId: vs.id, label: 'SERVER1', address: '127.0.42.6', port: 443, weight: 100, reEncrypt: false, backup: false, adminState: 'online' });
    expect(s1.status?.health).toBe('unknown');
    const s2 = await client.createRealServer(vs.id, { label: 'SERVER2', address: 'pacs2.hospital.example', weight: 50, backup: true });
    expect(s2.port).toBeNull();
    const list = await client.listRealServers(vs.id);
    expect(list.items.map((r) => r.label).sort()).toEqual(['SERVER1', 'SERVER2']);
    expect((await client.listRealServers(vs.id, { query: { label: 'SERVER2' } })).items[0]?.id).toBe(s2.id);
    const drained = await client.updateRealServer(vs.id, s1.id, { adminState: 'drain' });
    expect(drained.adminState).toBe('drain');
    const replaced = await client.replaceRealServer(vs.id, s2.id, { label: 'SERVER2', address: '127.0.42.7', port: 8443, reEncrypt: true });
    expect(replaced).toMatchObject({ address: '127.0.42.7', port: 8443, reEncrypt: true, weight: 100, backup: false });
    const { status: _a, ...read } = await client.getRealServer(vs.id, s2.id);
    const { status: _b, ...written } = replaced;
    expect(read).toEqual(written);
    await client.deleteRealServer(vs.id, s1.id);
    await expect(client.getRealServer(vs.id, s1.id)).rejects.toMatchObject({ status: 404, code: 'LB_NOT_FOUND', field: 'realServerId' });
  });

  it('answers 404 for a real server asked under the wrong VIP, and for a missing VIP', async () => {
    const a = await client.createVirtualService({ label: 'owner-a', ipAddress: '127.0.43.1', ports: [80], protocol: 'http' });
    const b = await client.createVirtualService({ label: 'owner-b', ipAddress: '127.0.43.2', ports: [80], protocol: 'http' });
    const rs = await client.createRealServer(a.id, { label: 'R', address: '127.0.43.10', port: 80 });
    await expect(client.getRealServer(b.id, rs.id)).rejects.toMatchObject({ status: 404 });
    await expect(client.listRealServers('vs-000000000000')).rejects.toMatchObject({ status: 404, field: 'virtualServiceId' });
    await expect(client.createRealServer('vs-000000000000', { label: 'R', address: '127.0.0.9' })).rejects.toMatchObject({ status: 404, field: 'virtualServiceId' });
  });
});
