// Authentication: Basic auth on every operation but liveness, the first-start password, the
// scrypt hash at rest, the brake on guessing, and read-only users.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operationTable } from '../../openapi/generated/operations.js';
import { ApplianceClient, ForbiddenError, UnauthorizedError } from '../../openapi/sdk/index.js';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';
import { LBAPPLIANCE_BIN } from '../helpers/paths.js';
import { rawExchange } from '../helpers/raw-http.js';

let app: TestAppliance;
const insecure = new Agent({ connect: { rejectUnauthorized: false } });

beforeAll(async () => {
  app = await startTestAppliance();
});
afterAll(async () => {
  await app?.dispose();
  await insecure.close();
});

const basic = (credentials: string) => `Basic ${Buffer.from(credentials).toString('base64')}`;

async function call(path: string, init: { method?: string; auth?: string; body?: string; headers?: Record<string, string>; from?: Agent } = {}) {
  const headers: Record<string, string> = { ...(init.headers ?? {}) };
  if (init.auth !== undefined) headers.authorization = basic(init.auth);
  const res = await request(`${app.endpoint}${path}`, { method: (init.method ?? 'GET') as 'GET', headers, body: init.body, dispatcher: init.from ?? insecure });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

/** An HTTP agent whose connections come from `address` (each test guessing from its own, so lock-outs stay apart). */
function agentFrom(address: string): Agent {
  return new Agent({ connect: { rejectUnauthorized: false }, localAddress: address, connections: 100 });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

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
    // From an address of its own: the tests after this one log in from the default address.
    const guesser = agentFrom('127.0.170.5');
    try {
      const guessed: number[] = [];
      const started = Date.now();
      for (let i = 0; i < 10; i++) guessed.push((await call('/api/v1/config', { auth: `loadbalancer:guess-${i}`, from: guesser })).status);
      expect(guessed.every((s) => s === 401)).toBe(true);
      expect(Date.now() - started).toBeGreaterThanOrEqual(10 * 250);
      const locked = await call('/api/v1/config', { auth: `loadbalancer:${app.password}`, from: guesser });
      expect(locked.status).toBe(429);
      expect(Number(locked.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(JSON.parse(locked.text)).toMatchObject({ code: 'LB_TOO_MANY_REQUESTS' });
      // Liveness still answers during a lock-out, and another address still logs in.
      expect((await call('/api/v1/health', { from: guesser })).status).toBe(200);
      expect((await call('/api/v1/config', { auth: `loadbalancer:${app.password}` })).status).toBe(200);
    } finally {
      await guesser.close();
    }
  });
});

describe('guessing in parallel and by timing', () => {
  it('checks at most 10 guesses from one address, however many arrive at once; other addresses still log in', async () => {
    const guesser = agentFrom('127.0.170.1');
    const other = agentFrom('127.0.170.2');
    try {
      const statuses = await Promise.all(Array.from({ length: 60 }, (_, i) => call('/api/v1/config', { auth: `loadbalancer:parallel-guess-${i}`, from: guesser }).then((r) => r.status)));
      const count = (status: number) => statuses.filter((s) => s === status).length;
      expect(count(401)).toBeGreaterThanOrEqual(1);
      expect(count(401)).toBeLessThanOrEqual(10);
      expect(count(429)).toBe(60 - count(401));
      // The guessing address is locked out even with the right password; another is not.
      expect((await call('/api/v1/config', { auth: `loadbalancer:${app.password}`, from: guesser })).status).toBe(429);
      expect((await call('/api/v1/config', { auth: `loadbalancer:${app.password}`, from: other })).status).toBe(200);
    } finally {
      await guesser.close();
      await other.close();
    }
  });

  it('lets one client send many requests with the right password at once without a lock-out, before and after its first login', async () => {
    const busy = agentFrom('127.0.170.4');
    try {
      // A new user: no request of it has been verified yet, so the first ones all need scrypt.
      // Created from this test's own address: the default one may still be locked out by the
      // guessing test above (its lock-out outlasts a fast run of the test between).
      const created = await call('/api/v1/users', {
        method: 'POST',
        auth: `loadbalancer:${app.password}`,
        from: busy,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'burst', password: 'burst-password-12', role: 'read-only' }),
      });
      expect(created.status, created.text).toBe(201);
      for (let round = 0; round < 2; round++) {
        const statuses = await Promise.all(Array.from({ length: 40 }, () => call('/api/v1/virtual-services', { auth: 'burst:burst-password-12', from: busy }).then((r) => r.status)));
        expect(statuses.every((s) => s === 200), `round ${round}: ${statuses.join(' ')}`).toBe(true);
      }
      const statuses = await Promise.all(Array.from({ length: 40 }, () => call('/api/v1/virtual-services', { auth: `loadbalancer:${app.password}`, from: busy }).then((r) => r.status)));
      expect(statuses.every((s) => s === 200)).toBe(true);
    } finally {
      await busy.close();
    }
  });

  it('takes as long to refuse an unknown user as a wrong password, so user names cannot be probed', async () => {
    const prober = agentFrom('127.0.170.3');
    try {
      expect((await call('/api/v1/health', { from: prober })).status).toBe(200);
      const timed = async (auth: string) => {
        const started = performance.now();
        expect((await call('/api/v1/config', { auth, from: prober })).status).toBe(401);
        return performance.now() - started;
      };
      const known: number[] = [];
      const unknown: number[] = [];
      // Four of each stays under the lock-out (ten failures).
      for (let i = 0; i < 4; i++) {
        known.push(await timed(`loadbalancer:wrong-${i}`));
        unknown.push(await timed(`nobody-${i}:wrong-${i}`));
      }
      const [k, u] = [median(known), median(unknown)];
      expect(Math.abs(k - u) / Math.max(k, u), `median ${k.toFixed(0)} ms for a known user, ${u.toFixed(0)} ms for an unknown one`).toBeLessThan(0.25);
    } finally {
      await prober.close();
    }
  });
});

describe('authentication before the body', () => {
  const samples: Record<string, string> = { virtualServiceId: 'vs-0123456789ab', realServerId: 'rs-0123456789ab', certificateId: 'cert-0123456789ab', username: 'someone', revision: '1' };
  const withBody = Object.entries(operationTable).filter(([, op]) => op.bodyContentTypes.length > 0);

  beforeAll(async () => {
    await app.client().createUser({ username: 'auditor', password: 'read-only-password-9', role: 'read-only' });
  });

  it('answers 401 and 403 while an announced 1 MB body is still unsent', async () => {
    const head = (path: string, authorization?: string) =>
      `POST ${path} HTTP/1.1\r\nHost: lb\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n${authorization ? `Authorization: ${authorization}\r\n` : ''}\r\n{"label": `;
    const anonymous = await rawExchange(app.endpoint, head('/api/v1/virtual-services'), { timeoutMs: 3000 });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(anonymous.body)).toMatchObject({ code: 'LB_UNAUTHORIZED' });
    const readOnly = await rawExchange(app.endpoint, head('/api/v1/virtual-services', basic('auditor:read-only-password-9')), { timeoutMs: 3000 });
    expect(readOnly.status).toBe(403);
    expect(JSON.parse(readOnly.body)).toMatchObject({ code: 'LB_FORBIDDEN' });
    const peer = await rawExchange(app.endpoint, head('/api/v1/ha-pair/peer/release', 'Bearer not-a-token'), { timeoutMs: 3000 });
    expect(peer.status).toBe(401);
    expect(JSON.parse(peer.body)).toMatchObject({ code: 'LB_UNAUTHORIZED' });
  });

  it('refuses every write with a malformed body by who asks (401, 403), never by the body (400)', async () => {
    expect(withBody).toHaveLength(28);
    for (const [id, op] of withBody) {
      const path = op.path.replace(/\{(\w+)\}/g, (_m, name: string) => samples[name] ?? name);
      const init = { method: op.method, body: '{"broken": ', headers: { 'content-type': op.bodyContentTypes[0] as string } };
      const anonymous = await call(path, init);
      expect(anonymous.status, id).toBe(401);
      expect(JSON.parse(anonymous.text), id).toMatchObject({ code: 'LB_UNAUTHORIZED' });
      const readOnly = await call(path, { ...init, auth: 'auditor:read-only-password-9' });
      // The peer operations take the pair's bearer token, never a user's password.
      expect(readOnly.status, id).toBe(op.peerAuth ? 401 : 403);
    }
    // An administrator's malformed body is still a malformed body.
    const admin = await call('/api/v1/virtual-services', { method: 'POST', body: '{"broken": ', headers: { 'content-type': 'application/json' }, auth: `loadbalancer:${app.password}` });
    expect(JSON.parse(admin.text)).toMatchObject({ status: 400, code: 'LB_MALFORMED_BODY' });
  });
});
