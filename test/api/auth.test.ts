// Authentication: Basic auth on every operation but liveness, the first-start password, the
// scrypt hash at rest, the brake on guessing, and read-only users.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplianceClient, ForbiddenError, UnauthorizedError } from '../../openapi/sdk/index.js';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';
import { LBAPPLIANCE_BIN } from '../helpers/paths.js';

let app: TestAppliance;
const insecure = new Agent({ connect: { rejectUnauthorized: false } });

beforeAll(async () => {
  app = await startTestAppliance();
});
afterAll(async () => {
  await app?.dispose();
  await insecure.close();
});

async function call(path: string, init: { method?: string; auth?: string; body?: string; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...(init.headers ?? {}) };
  if (init.auth !== undefined) headers.authorization = `Basic ${Buffer.from(init.auth).toString('base64')}`;
  const res = await request(`${app.endpoint}${path}`, { method: (init.method ?? 'GET') as 'GET', headers, body: init.body, dispatcher: insecure });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

describe('authentication', () => {
  it('serves liveness without credentials and nothing else', async () => {
    expect((await call('/api/v1/health')).status).toBe(200);
    for (const path of ['/api/v1/virtual-services', '/api/v1/config', '/api/v1/overview', '/metrics', '/api/v1/openapi.yaml', '/api/v1/users', '/api/v1/audit-log', '/api/v1/ha-pair']) {
      const res = await call(path);
      expect(res.status, path).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Basic realm="lbappliance"/);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(JSON.parse(res.text)).toMatchObject({ status: 401, code: 'LB_UNAUTHORIZED' });
    }
    expect((await call('/api/v1/virtual-services', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })).status).toBe(401);
  });

  it('refuses a wrong password and a wrong user with the same 401, through the SDK as UnauthorizedError', async () => {
    const wrong = app.client({ password: 'not-the-password' });
    await expect(wrong.listVirtualServices()).rejects.toBeInstanceOf(UnauthorizedError);
    const nobody = app.client({ username: 'nobody' });
    await expect(nobody.listVirtualServices()).rejects.toMatchObject({ status: 401, code: 'LB_UNAUTHORIZED' });
  });

  it('stores the password only as a scrypt hash', async () => {
    const users = await readFile(join(app.dataDir, 'users.json'), 'utf8');
    expect(users).not.toContain(app.password);
    expect(users).toMatch(/"hash": ?"scrypt\$32768\$8\$1\$/);
  });

  it('lets read-only users read but not write (403), and admins manage users', async () => {
    const admin = app.client();
    await admin.createUser({ username: 'oncall', password: 'read-only-password-1', role: 'read-only' });
    expect((await admin.listUsers()).items.map((u) => u.username).sort()).toEqual(['loadbalancer', 'oncall']);
    const ro = app.client({ username: 'oncall', password: 'read-only-password-1' });
    await expect(ro.listVirtualServices()).resolves.toMatchObject({ items: [] });
    const before = await admin.getConfig();
    const err = await ro.createVirtualService({ label: 'nope', ipAddress: '127.0.47.1', ports: [80], protocol: 'http' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ForbiddenError);
    expect((err as ForbiddenError).code).toBe('LB_FORBIDDEN');
    expect(await admin.getConfig()).toEqual(before);
    await expect(admin.createUser({ username: 'oncall', password: 'another-password-2', role: 'admin' })).rejects.toMatchObject({ status: 409, code: 'LB_USER_EXISTS' });
    await expect(admin.deleteUser('loadbalancer')).rejects.toMatchObject({ status: 409, code: 'LB_BUILTIN_USER' });
    await admin.setUserPassword('oncall', { password: 'a-new-password-3' });
    await expect(ro.listVirtualServices()).rejects.toBeInstanceOf(UnauthorizedError);
    await admin.deleteUser('oncall');
    await expect(app.client({ username: 'oncall', password: 'a-new-password-3' }).listVirtualServices()).rejects.toBeInstanceOf(UnauthorizedError);
  });

  it('records every write in the audit log with the acting user and address', async () => {
    const admin = app.client();
    const vs = await admin.createVirtualService({ label: 'audited', ipAddress: '127.0.47.2', ports: [80], protocol: 'http' });
    await admin.createVirtualService({ label: 'audited', ipAddress: '127.0.47.3', ports: [80], protocol: 'http' }).catch(() => undefined);
    const { items } = await admin.listAuditEntries({ query: { limit: 5 } });
    const [refusedEntry, accepted] = items;
    expect(refusedEntry).toMatchObject({ user: 'loadbalancer', operation: 'createVirtualService', status: 409, revision: null, changes: null });
    expect(accepted).toMatchObject({ user: 'loadbalancer', operation: 'createVirtualService', status: 201, method: 'POST', address: '127.0.0.1' });
    expect(accepted?.changes).toContainEqual(expect.objectContaining({ op: 'add', path: `/virtualServices/${vs.id}` }));
  });
});

describe('first start and brute force', () => {
  it('generates a password at first start, prints it once, and never again', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lbappliance-firststart-'));
    const run = () =>
      new Promise<{ printed: string | null; lines: string[] }>((resolve, reject) => {
        const env = { ...process.env };
        delete env.LBAPPLIANCE_PASSWORD;
        const child = spawn(process.execPath, [LBAPPLIANCE_BIN, 'serve', '--data-dir', dir, '--api-listen', '127.0.0.1:0', '--engine', 'none'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
        const lines: string[] = [];
        let printed: string | null = null;
        createInterface({ input: child.stderr }).on('line', (l) => {
          lines.push(l);
          const m = /^\s{4}(\S+)$/.exec(l);
          if (m) printed = m[1] ?? null;
        });
        createInterface({ input: child.stdout }).on('line', (l) => {
          lines.push(l);
          if (l.includes('"api listening"')) {
            const endpoint = (JSON.parse(l) as { endpoint: string }).endpoint;
            setTimeout(() => child.kill('SIGTERM'), 200);
            void endpoint;
          }
        });
        child.on('exit', () => resolve({ printed, lines }));
        child.on('error', reject);
      });
    try {
      const first = await run();
      expect(first.printed).toMatch(/^[A-Za-z0-9_-]{24}$/);
      expect(first.lines.filter((l) => l.startsWith('{')).join('\n')).not.toContain(first.printed as string);
      const second = await run();
      expect(second.printed).toBeNull();
      expect(await readFile(join(dir, 'users.json'), 'utf8')).not.toContain(first.printed as string);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('takes the first password from --password-file and refuses one shorter than 12 characters', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lbappliance-pwfile-'));
    try {
      await writeFile(join(dir, 'pw'), 'short\n');
      const short = await startTestAppliance({ dataDir: join(dir, 'data'), args: ['--password-file', join(dir, 'pw')] }).catch((e: Error) => e);
      expect(short).toBeInstanceOf(Error);
      expect(String(short)).toMatch(/at least 12 characters/);
      await writeFile(join(dir, 'pw'), 'from-a-file-password\n');
      const ok = await startTestAppliance({ dataDir: join(dir, 'data2'), args: ['--password-file', join(dir, 'pw')], password: 'ignored-because-file-wins' });
      try {
        const c = new ApplianceClient({ endpoint: ok.endpoint, username: 'loadbalancer', password: 'from-a-file-password', insecure: true });
        await expect(c.listVirtualServices()).resolves.toBeDefined();
        await c.close();
      } finally {
        await ok.dispose();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('slows repeated failures down and then answers 429 with Retry-After, while others are unaffected', async () => {
    const guessed: number[] = [];
    const started = Date.now();
    for (let i = 0; i < 10; i++) guessed.push((await call('/api/v1/config', { auth: `loadbalancer:guess-${i}` })).status);
    expect(guessed.every((s) => s === 401)).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(10 * 250);
    const locked = await call('/api/v1/config', { auth: `loadbalancer:${app.password}` });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(locked.text)).toMatchObject({ code: 'LB_TOO_MANY_REQUESTS' });
    // Liveness still answers during a lock-out.
    expect((await call('/api/v1/health')).status).toBe(200);
  });
});
