// Whole-configuration export and restore, merge patches across objects, revisions and rollback.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApplianceClient, ConfigInput } from '../../openapi/sdk/index.js';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';
import { makeTestCert } from '../helpers/certs.js';

let app: TestAppliance;
let client: ApplianceClient;

beforeAll(async () => {
  app = await startTestAppliance();
  client = app.client();
});
afterAll(async () => app?.dispose());

describe('config export and restore', () => {
  it('exports everything with its revision and takes the export back unchanged', async () => {
    const cert = await client.createCertificate({ label: 'c1', pem: makeTestCert('c1.example').bundlePem });
    const vs = await client.createVirtualService({ label: 'AVS', ipAddress: '127.0.46.1', ports: [443], protocol: 'http2', certificateId: cert.id, persistence: { mode: 'http-cookie' } });
    const rs = await client.createRealServer(vs.id, { label: 'SERVER1', address: '127.0.46.6', port: 443 });
    const exported = await client.request('getConfig');
    expect(exported.etag).toBe(`"r${exported.body.revision}"`);
    expect(Object.keys(exported.body.virtualServices)).toEqual([vs.id]);
    expect(exported.body.realServers[rs.id]).toMatchObject({ virtualServiceId: vs.id, label: 'SERVER1' });
    expect(exported.body.certificates[cert.id]).toMatchObject({ label: 'c1', fingerprintSha256: cert.fingerprintSha256 });
    const restored = await client.replaceConfig(exported.body as ConfigInput, { ifMatch: exported.etag });
    expect(restored.revision).toBe(exported.body.revision + 1);
    const { revision: _a, ...a } = restored;
    const { revision: _b, ...b } = exported.body;
    expect(a).toEqual(b);
  });

  it('restores atomically: one bad object refuses the whole document and changes nothing', async () => {
    const before = await client.getConfig();
    const doc = structuredClone(before) as ConfigInput;
    doc.virtualServices['vs-00000000aaaa'] = { label: 'new-one', ipAddress: '127.0.46.2', ports: [80], protocol: 'http' };
    doc.virtualServices['vs-00000000bbbb'] = { label: 'clash', ipAddress: '127.0.46.2', ports: [80], protocol: 'http' };
    const err = await client.replaceConfig(doc).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 409, code: 'LB_ADDRESS_IN_USE' });
    expect((err as { field: string }).field).toMatch(/^\/virtualServices\/vs-00000000(aaaa|bbbb)\/ports\/0$/);
    expect(await client.getConfig()).toEqual(before);
  });

  it('refuses a restore whose certificate has neither material nor a twin here, or a wrong fingerprint', async () => {
    const before = await client.getConfig();
    const doc = structuredClone(before) as ConfigInput;
    doc.certificates['cert-00000000cccc'] = { label: 'orphan' };
    await expect(client.replaceConfig(doc)).rejects.toMatchObject({ status: 422, code: 'LB_CERTIFICATE_INVALID', field: '/certificates/cert-00000000cccc' });
    const doc2 = structuredClone(before) as ConfigInput;
    const [certId] = Object.keys(doc2.certificates);
    doc2.certificates[certId as string]!.fingerprintSha256 = 'AA:'.repeat(31) + 'AA';
    await expect(client.replaceConfig(doc2)).rejects.toMatchObject({ status: 422, field: `/certificates/${certId}/fingerprintSha256` });
    expect(await client.getConfig()).toEqual(before);
  });

  it('a 412 on a stale If-Match for the config', async () => {
    const { etag } = await client.request('getConfig');
    await client.createVirtualService({ label: 'bump', ipAddress: '127.0.46.3', ports: [80], protocol: 'http' });
    const current = await client.getConfig();
    await expect(client.replaceConfig(current as ConfigInput, { ifMatch: etag })).rejects.toMatchObject({ status: 412, code: 'LB_PRECONDITION_FAILED' });
  });

  it('changes several objects in one revision with a merge patch, and removes with null', async () => {
    const vs = await client.createVirtualService({ label: 'multi', ipAddress: '127.0.46.4', ports: [80], protocol: 'http' });
    const a = await client.createRealServer(vs.id, { label: 'A', address: '127.0.46.40', port: 80 });
    const b = await client.createRealServer(vs.id, { label: 'B', address: '127.0.46.41', port: 80, adminState: 'halt' });
    const before = await client.getConfig();
    const after = await client.patchConfig({ realServers: { [a.id]: { adminState: 'drain' }, [b.id]: { adminState: 'online' } } } as never);
    expect(after.revision).toBe(before.revision + 1);
    expect(after.realServers[a.id]?.adminState).toBe('drain');
    expect(after.realServers[b.id]?.adminState).toBe('online');
    const removed = await client.patchConfig({ virtualServices: { [vs.id]: null }, realServers: { [a.id]: null, [b.id]: null } } as never);
    expect(removed.virtualServices[vs.id]).toBeUndefined();
  });

  it('refuses a merge patch leaving a real server without its VIP (422) and changes nothing', async () => {
    const vs = await client.createVirtualService({ label: 'parent', ipAddress: '127.0.46.5', ports: [80], protocol: 'http' });
    await client.createRealServer(vs.id, { label: 'child', address: '127.0.46.50', port: 80 });
    const before = await client.getConfig();
    const err = await client.patchConfig({ virtualServices: { [vs.id]: null } } as never).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 422, code: 'LB_UNKNOWN_REFERENCE' });
    expect((err as { field: string }).field).toMatch(/^\/realServers\/rs-[0-9a-f]{12}\/virtualServiceId$/);
    expect(await client.getConfig()).toEqual(before);
  });
});

describe('revisions', () => {
  it('lists revisions newest first with who and what, and returns the config at a revision', async () => {
    const vs = await client.createVirtualService({ label: 'history', ipAddress: '127.0.46.6', ports: [80], protocol: 'http' });
    const revs = await client.listRevisions();
    expect(revs.items[0]).toMatchObject({ revision: revs.current, user: 'loadbalancer', operation: 'createVirtualService' });
    expect(revs.items.map((r) => r.revision)).toEqual([...revs.items.map((r) => r.revision)].sort((x, y) => y - x));
    const at = await client.getRevision(revs.current - 1);
    expect(at.virtualServices[vs.id]).toBeUndefined();
    expect((await client.getRevision(revs.current)).virtualServices[vs.id]).toBeDefined();
    await expect(client.getRevision(999999)).rejects.toMatchObject({ status: 404, field: 'revision' });
  });

  it('rolls back to a kept revision as a new revision, certificates and all', async () => {
    const cert = await client.createCertificate({ label: 'rb-cert', pem: makeTestCert('rb.example').bundlePem });
    const mark = (await client.getConfig()).revision;
    await client.replaceCertificate(cert.id, { label: 'rb-cert', pem: makeTestCert('rb.example').bundlePem });
    const vs = await client.createVirtualService({ label: 'after-mark', ipAddress: '127.0.46.7', ports: [80], protocol: 'http' });
    const rolled = await client.rollbackToRevision(mark);
    expect(rolled.revision).toBeGreaterThan(mark + 1);
    expect(rolled.virtualServices[vs.id]).toBeUndefined();
    expect(rolled.certificates[cert.id]?.fingerprintSha256).toBe(cert.fingerprintSha256);
    const { revision: _r, ...now } = rolled;
    const { revision: _m, ...then } = await client.getRevision(mark);
    expect(now).toEqual(then);
  });
});
