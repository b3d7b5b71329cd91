// Directory logins against a real directory (Debian's slapd over LDAPS and StartTLS with a
// test CA): roles from groups, enforced per operation (an operator drains but cannot create
// a VIP), wrong passwords refused and throttled, a directory that is down or silent answered
// 503 within its timeout while `loadbalancer` keeps logging in, and the bind password in no
// read, log line, audit entry or backup.
import { createServer, type Server, type Socket } from 'node:net';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';
import { makeTestCert } from '../helpers/certs.js';
import { BIND_PASSWORD, directorySettings, startTestDirectory, userPassword, type TestDirectory } from '../helpers/slapd.js';

const DIRECTORY_ADDRESS = '127.0.248.1';
const SILENT_ADDRESS = '127.0.248.2';
const VIP_ADDRESS = '127.0.248.20';

let app: TestAppliance;
let dir: TestDirectory;
let silent: Server;
const sockets = new Set<Socket>();
const insecure = new Agent({ connect: { rejectUnauthorized: false } });
const agents: Agent[] = [];

/** An agent whose connections come from `address` (lock-outs are per address). */
function agentFrom(address: string): Agent {
  const a = new Agent({ connect: { rejectUnauthorized: false }, localAddress: address });
  agents.push(a);
  return a;
}

async function call(path: string, init: { method?: string; user?: string; password?: string; body?: unknown; from?: Agent } = {}) {
  const headers: Record<string, string> = {};
  const user = init.user ?? 'loadbalancer';
  const password = init.password ?? (user === 'loadbalancer' ? app.password : userPassword(user));
  headers.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const res = await request(`${app.endpoint}${path}`, { method: (init.method ?? 'GET') as 'GET', headers, body: init.body === undefined ? undefined : JSON.stringify(init.body), dispatcher: init.from ?? insecure });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text, json: text ? (JSON.parse(text) as Record<string, unknown>) : null };
}

async function configure(over: Record<string, unknown> = {}) {
  const res = await call('/api/v1/directory', { method: 'PUT', body: directorySettings(dir, over) });
  expect(res.status, res.text).toBe(200);
  return res;
}

let vsId = '';
let rsId = '';

beforeAll(async () => {
  dir = await startTestDirectory(DIRECTORY_ADDRESS, 16360, 16389);
  // A directory that accepts connections and never answers (slow or hung).
  silent = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => silent.listen(16360, SILENT_ADDRESS, resolve));
  app = await startTestAppliance();
  const vs = await call('/api/v1/virtual-services', { method: 'POST', body: { label: 'PACS', ipAddress: VIP_ADDRESS, ports: [8080], protocol: 'http' } });
  expect(vs.status, vs.text).toBe(201);
  vsId = vs.json?.id as string;
  const rs = await call(`/api/v1/virtual-services/${vsId}/real-servers`, { method: 'POST', body: { label: 'PACS1', address: '127.0.248.21', port: 8080 } });
  expect(rs.status, rs.text).toBe(201);
  rsId = rs.json?.id as string;
}, 120_000);

afterAll(async () => {
  await app?.dispose();
  await dir?.dispose();
  for (const s of sockets) s.destroy();
  await new Promise((resolve) => (silent ? silent.close(resolve) : resolve(undefined)));
  await insecure.close();
  for (const a of agents) await a.close();
});

describe('directory logins (slapd over LDAPS with a test CA)', () => {
  it('stores the settings without ever reading back the bind password', async () => {
    expect((await call('/api/v1/directory')).status).toBe(404);
    const put = await configure();
    expect(put.json).not.toHaveProperty('bindPassword');
    const got = await call('/api/v1/directory');
    expect(got.status).toBe(200);
    expect(got.json).toMatchObject({ url: dir.ldapsUrl, bindDn: expect.stringContaining('svc-lbappliance'), groupSearch: 'member' });
    expect(got.text).not.toContain(BIND_PASSWORD);
    expect(got.json).not.toHaveProperty('bindPassword');
  });

  it('lets an operator drain, halt and bring a server online, but not create a VIP or change a server otherwise', async () => {
    await configure();
    const me = await call('/api/v1/current-user', { user: 'oscar' });
    expect(me.status, me.text).toBe(200);
    expect(me.json).toMatchObject({ username: 'oscar', role: 'operator', source: 'directory' });
    expect((await call('/api/v1/virtual-services', { user: 'oscar' })).status).toBe(200);
    for (const adminState of ['drain', 'halt', 'online']) {
      const res = await call(`/api/v1/virtual-services/${vsId}/real-servers/${rsId}/admin-state`, { method: 'PUT', user: 'oscar', body: { adminState } });
      expect(res.status, res.text).toBe(200);
      expect(res.json).toMatchObject({ id: rsId, adminState });
    }
    const before = (await call('/api/v1/config')).json?.revision;
    const create = await call('/api/v1/virtual-services', { method: 'POST', user: 'oscar', body: { label: 'NOPE', ipAddress: VIP_ADDRESS, ports: [8081], protocol: 'http' } });
    expect(create.status).toBe(403);
    expect(create.json).toMatchObject({ code: 'LB_FORBIDDEN' });
    const patch = await call(`/api/v1/virtual-services/${vsId}/real-servers/${rsId}`, { method: 'PATCH', user: 'oscar', body: { weight: 1 } });
    expect(patch.status).toBe(403);
    expect((await call('/api/v1/users', { method: 'POST', user: 'oscar', body: { username: 'mallory', password: 'long-enough-password', role: 'admin' } })).status).toBe(403);
    expect((await call('/api/v1/directory', { method: 'DELETE', user: 'oscar' })).status).toBe(403);
    expect((await call('/api/v1/config')).json?.revision).toBe(before);
  });

  it('lets a read-only user read and nothing else, an administrator everything, and refuses a user in no mapped group', async () => {
    await configure();
    expect((await call('/api/v1/overview', { user: 'rita' })).status).toBe(200);
    expect((await call('/api/v1/directory', { user: 'rita' })).status).toBe(200);
    const drain = await call(`/api/v1/virtual-services/${vsId}/real-servers/${rsId}/admin-state`, { method: 'PUT', user: 'rita', body: { adminState: 'drain' } });
    expect(drain.status).toBe(403);
    const created = await call('/api/v1/virtual-services', { method: 'POST', user: 'ada', body: { label: 'ADA', ipAddress: VIP_ADDRESS, ports: [8082], protocol: 'http' } });
    expect(created.status, created.text).toBe(201);
    expect((await call(`/api/v1/virtual-services/${created.json?.id as string}`, { method: 'DELETE', user: 'ada' })).status).toBe(204);
    const nora = await call('/api/v1/overview', { user: 'nora', from: agentFrom('127.0.248.30') });
    expect(nora.status).toBe(401);
    expect(nora.json).toMatchObject({ code: 'LB_UNAUTHORIZED' });
  });

  it('refuses a wrong directory password and throttles the guesses like local ones', async () => {
    await configure();
    const from = agentFrom('127.0.248.31');
    let locked = false;
    for (let i = 0; i < 12 && !locked; i += 1) {
      const res = await call('/api/v1/overview', { user: 'oscar', password: `wrong-${i}`, from });
      if (res.status === 429) locked = true;
      else expect(res.status).toBe(401);
    }
    expect(locked).toBe(true);
    // Locked out even with the right password now, from that address only.
    const right = await call('/api/v1/overview', { user: 'oscar', from });
    expect(right.status).toBe(429);
    expect(right.headers['retry-after']).toBeDefined();
    expect((await call('/api/v1/overview', { user: 'oscar', from: agentFrom('127.0.248.32') })).status).toBe(200);
  });

  it('logs in over StartTLS, and refuses a plain ldap:// directory and a server the CA did not sign', async () => {
    await configure({ url: dir.ldapUrl, startTls: true });
    expect((await call('/api/v1/current-user', { user: 'oscar' })).json).toMatchObject({ role: 'operator' });
    const plain = await call('/api/v1/directory', { method: 'PUT', body: directorySettings(dir, { url: dir.ldapUrl, startTls: false }) });
    expect(plain.status).toBe(422);
    expect(plain.json).toMatchObject({ code: 'LB_INVALID_COMBINATION', field: '/startTls' });
    expect((await call('/api/v1/directory')).json).toMatchObject({ url: dir.ldapUrl, startTls: true });
    await configure({ caPem: makeTestCert('another CA').certPem });
    const untrusted = await call('/api/v1/overview', { user: 'oscar', from: agentFrom('127.0.248.33') });
    expect(untrusted.status).toBe(503);
    expect(untrusted.json).toMatchObject({ code: 'LB_DIRECTORY_UNAVAILABLE' });
  });

  it('reads memberOf (Active Directory style) as well as member searches', async () => {
    await configure({ groupSearch: 'memberOf', groupBaseDn: null });
    expect((await call('/api/v1/current-user', { user: 'ada' })).json).toMatchObject({ role: 'admin' });
    expect((await call('/api/v1/current-user', { user: 'rita' })).json).toMatchObject({ role: 'read-only' });
  });

  it('answers 503 to directory users within its timeout when the directory is silent, while loadbalancer logs in at once', async () => {
    await configure({ url: `ldaps://${SILENT_ADDRESS}:16360`, timeoutMs: 1500 });
    const started = Date.now();
    const directoryUser = call('/api/v1/overview', { user: 'oscar', from: agentFrom('127.0.248.34') });
    const local = await call('/api/v1/overview');
    const localMs = Date.now() - started;
    expect(local.status).toBe(200);
    const res = await directoryUser;
    const ms = Date.now() - started;
    expect(res.status).toBe(503);
    expect(res.json).toMatchObject({ code: 'LB_DIRECTORY_UNAVAILABLE' });
    expect(ms).toBeGreaterThanOrEqual(1400);
    expect(ms).toBeLessThan(15_000);
    expect(localMs).toBeLessThan(ms);
  });

  it('answers 503 to directory users when the directory is down, never counting it as a failed login, while loadbalancer logs in', async () => {
    await configure();
    await dir.stop();
    try {
      const from = agentFrom('127.0.248.35');
      for (let i = 0; i < 12; i += 1) {
        const res = await call('/api/v1/overview', { user: 'oscar', from });
        expect(res.status).toBe(503);
        expect(res.json).toMatchObject({ code: 'LB_DIRECTORY_UNAVAILABLE' });
      }
      expect((await call('/api/v1/overview', { from })).status).toBe(200);
    } finally {
      await dir.start();
    }
    expect((await call('/api/v1/current-user', { user: 'oscar' })).status).toBe(200);
  });

  it('remembers a directory login for cacheSeconds, and forgets it when the settings change', async () => {
    await configure({ cacheSeconds: 300 });
    expect((await call('/api/v1/current-user', { user: 'rita' })).status).toBe(200);
    await dir.stop();
    try {
      expect((await call('/api/v1/current-user', { user: 'rita' })).status).toBe(200);
      expect((await call('/api/v1/current-user', { user: 'rita', password: 'not-hers-0000', from: agentFrom('127.0.248.36') })).status).toBe(503);
      await configure({ cacheSeconds: 300, timeoutMs: 1000 });
      expect((await call('/api/v1/current-user', { user: 'rita' })).status).toBe(503);
    } finally {
      await dir.start();
    }
  });

  it('keeps the bind password out of the audit log, the log lines and backups', async () => {
    await configure();
    await call('/api/v1/overview', { user: 'oscar', password: 'wrong-password-1', from: agentFrom('127.0.248.37') });
    const audit = await call('/api/v1/audit-log?limit=1000');
    expect(audit.status).toBe(200);
    expect(audit.text).toContain('replaceDirectory');
    expect(audit.text).toContain('(redacted)');
    const backup = await call('/api/v1/config/backup', { method: 'POST', body: { passphrase: 'backup-passphrase-0123' } });
    expect(backup.status, backup.text).toBe(200);
    for (const text of [audit.text, backup.text, app.output.join('\n')]) expect(text).not.toContain(BIND_PASSWORD);
  });

  it('stops directory logins when the directory is removed; loadbalancer stays', async () => {
    await configure();
    expect((await call('/api/v1/directory', { method: 'DELETE' })).status).toBe(204);
    expect((await call('/api/v1/directory')).status).toBe(404);
    expect((await call('/api/v1/overview', { user: 'oscar', from: agentFrom('127.0.248.38') })).status).toBe(401);
  });
});
