// The audit log as an auditor reads it through the API: one entry per write, accepted or
// refused, naming who, when, from which address, and what changed (JSON Patch, secrets
// redacted), readable as soon as the write is answered and kept across a restart.
// Addresses 127.0.113.x belong to this file.
import { request as httpsRequest } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApplianceClient, AuditEntry } from '../../openapi/sdk/index.js';
import { ForbiddenError, UnauthorizedError } from '../../openapi/sdk/index.js';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';

const AUDITOR = { username: 'auditor', password: 'auditor-password-0123' };
let app: TestAppliance;
let admin: ApplianceClient;

/** The newest audit entry (read at once: the write is recorded before it is answered). */
async function newest(client: ApplianceClient = admin): Promise<AuditEntry> {
  const [entry] = (await client.listAuditEntries({ query: { limit: 1 } })).items;
  if (!entry) throw new Error('the audit log is empty');
  return entry;
}

beforeAll(async () => {
  app = await startTestAppliance({ host: '127.0.113.1' });
  admin = app.client();
});

afterAll(async () => {
  await app?.dispose();
});

describe('the audit log', () => {
  it('records user writes with what changed, never a password', async () => {
    const started = Date.now();
    await admin.createUser({ ...AUDITOR, role: 'read-only' });
    const created = await newest();
    expect(created).toMatchObject({ user: 'loadbalancer', method: 'POST', path: '/api/v1/users', operation: 'createUser', status: 201, revision: null });
    expect(created.changes).toEqual([{ op: 'add', path: '/users/auditor', value: { username: 'auditor', role: 'read-only', createdAt: expect.any(String) } }]);
    expect(Date.parse(created.at)).toBeGreaterThanOrEqual(started - 1000);
    expect(created.address).toBe('127.0.0.1');

    await admin.setUserPassword('auditor', { password: 'auditor-password-4567' });
    const changed = await newest();
    expect(changed).toMatchObject({ operation: 'setUserPassword', status: 204, changes: [{ op: 'replace', path: '/users/auditor/password', value: '(redacted)' }] });
    await admin.setUserPassword('auditor', { password: AUDITOR.password });
    const everything = JSON.stringify((await admin.listAuditEntries()).items);
    expect(everything).not.toContain('auditor-password');
  });

  it('records configuration writes as JSON Patch on the Config document, with the revision made', async () => {
    const vs = await admin.createVirtualService({ label: 'AVS-AQI', ipAddress: '127.0.113.217', ports: [1200], protocol: 'tcp' });
    const create = await newest();
    expect(create).toMatchObject({ operation: 'createVirtualService', user: 'loadbalancer', status: 201, revision: (await admin.getConfig()).revision });
    expect(create.changes).toEqual([{ op: 'add', path: `/virtualServices/${vs.id}`, value: expect.objectContaining({ label: 'AVS-AQI', ports: [1200] }) }]);

    const rs = await admin.createRealServer(vs.id, { label: 'SERVER1', address: '127.0.113.6', port: 1200 });
    await admin.updateRealServer(vs.id, rs.id, { adminState: 'drain', weight: 50 });
    const patch = await newest();
    expect(patch).toMatchObject({ operation: 'updateRealServer', method: 'PATCH', path: `/api/v1/virtual-services/${vs.id}/real-servers/${rs.id}` });
    expect(patch.changes).toEqual(
      expect.arrayContaining([
        { op: 'replace', path: `/realServers/${rs.id}/adminState`, value: 'drain' },
        { op: 'replace', path: `/realServers/${rs.id}/weight`, value: 50 },
      ]),
    );
    expect(patch.changes).toHaveLength(2);

    const cert = await admin.createCertificate({ label: 'c1', selfSigned: { commonName: 'c1.test' } });
    const certEntry = await newest();
    expect(JSON.stringify(certEntry.changes)).not.toMatch(/PRIVATE KEY/);
    await admin.deleteCertificate(cert.id);
    expect(await newest()).toMatchObject({ operation: 'deleteCertificate', status: 204, changes: [{ op: 'remove', path: `/certificates/${cert.id}` }] });
  });

  it('records refused writes with who tried: a read-only user, and a wrong password', async () => {
    const reader = app.client(AUDITOR);
    const [vs] = (await admin.listVirtualServices()).items;
    await expect(reader.deleteVirtualService(vs!.id)).rejects.toBeInstanceOf(ForbiddenError);
    expect(await newest(reader)).toMatchObject({ user: 'auditor', operation: 'deleteVirtualService', status: 403, revision: null, changes: null });
    const guesser = app.client({ username: 'loadbalancer', password: 'not-the-password-0' });
    await expect(guesser.deleteVirtualService(vs!.id)).rejects.toBeInstanceOf(UnauthorizedError);
    expect(await newest()).toMatchObject({ user: '-', operation: 'deleteVirtualService', status: 401, changes: null });
    expect((await admin.listVirtualServices()).items).toHaveLength(1);
  });

  it('records the client address a write came from', async () => {
    // Node's own client binds the source address (the SDK has no option for it).
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpsRequest(
        `${app.endpoint}/api/v1/users`,
        {
          method: 'POST',
          localAddress: '127.0.113.50',
          rejectUnauthorized: false,
          agent: false,
          headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`loadbalancer:${app.password}`).toString('base64')}` },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify({ username: 'from-elsewhere', password: 'elsewhere-password-01', role: 'read-only' }));
    });
    expect(status).toBe(201);
    expect(await newest()).toMatchObject({ operation: 'createUser', address: '127.0.113.50', user: 'loadbalancer' });
    await admin.deleteUser('from-elsewhere');
    expect(await newest()).toMatchObject({ operation: 'deleteUser', status: 204, changes: [{ op: 'remove', path: '/users/from-elsewhere' }] });
  });

  it('is readable by read-only users, pages backwards, and survives a restart', async () => {
    const reader = app.client(AUDITOR);
    const all = (await reader.listAuditEntries({ query: { limit: 1000 } })).items;
    expect(all.length).toBeGreaterThanOrEqual(12);
    expect(all.map((e) => e.seq)).toEqual([...all.map((e) => e.seq)].sort((x, y) => y - x));
    const page = (await reader.listAuditEntries({ query: { limit: 3, before: all[2]!.seq } })).items;
    expect(page.map((e) => e.seq)).toEqual(all.slice(3, 6).map((e) => e.seq));
    app = await app.restart();
    admin = app.client();
    expect((await admin.listAuditEntries({ query: { limit: 1000 } })).items).toEqual(all);
  });
});
