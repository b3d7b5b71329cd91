// The embedded engine on every core by default (issue 20): `serve` without a worker count
// runs one data-plane worker process per core and says so at start-up, with the hint that
// `--engine haproxy` is installed for the highest throughput; `--engine-workers` and
// LBAPPLIANCE_ENGINE_WORKERS choose otherwise (0 or 1: traffic in the engine's process).
// A signal for the whole process group (systemd's stop, Ctrl-C) leaves the workers to the
// engine process's graceful stop. A TLS session resumes whichever worker accepts the next
// connection (the ticket keys are the engine's, shared). Addresses 127.0.246.1-39 belong to this file.
import { execFileSync, spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LBAPPLIANCE_BIN } from '../helpers/paths.js';
import { needProgram } from '../helpers/programs.js';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';
import { startHttpBackend, type HttpBackend } from './helpers/backends.js';
import { get } from './helpers/traffic.js';
import { createVip, overviewOf } from './helpers/vips.js';
import { until } from './helpers/wait.js';

const VIP = '127.0.246.20';
let backend: HttpBackend;
const started: TestAppliance[] = [];

function children(app: TestAppliance): number[] {
  const out = execFileSync('sh', ['-c', `pgrep -P ${app.process.pid} -f worker-main || true`], { encoding: 'utf8' });
  return out.split('\n').filter(Boolean).map(Number);
}

/** The start-up line that names the engine. */
async function engineLine(app: TestAppliance): Promise<{ engine: string; workers?: number; haproxy?: string | null; msg: string }> {
  const line = await until('the engine line', () => app.output.find((l) => l.includes('"msg":"engine ')));
  return JSON.parse(line);
}

async function start(args: string[] = [], env: Record<string, string> = {}, engine: 'embedded' | 'haproxy' = 'embedded'): Promise<TestAppliance> {
  // The test runner's own choice of workers must not leak into what is measured here.
  const app = await startTestAppliance({ engine, host: '127.0.246.1', args, env: { LBAPPLIANCE_ENGINE_WORKERS: '', ...env } });
  started.push(app);
  return app;
}

beforeAll(async () => {
  backend = await startHttpBackend({ name: 'a', host: '127.0.246.6' });
});

afterAll(async () => {
  await Promise.all(started.map((a) => a.dispose()));
  await backend?.close();
});

describe('serve without a worker count', () => {
  let app: TestAppliance;

  it('runs one worker per core and says so, with the haproxy hint where haproxy is installed', async () => {
    const haproxy = needProgram('haproxy');
    app = await start();
    const line = await engineLine(app);
    expect(line).toMatchObject({ engine: 'embedded', workers: availableParallelism(), haproxy });
    expect(line.msg).toContain('--engine haproxy for the highest throughput');
    expect(children(app)).toHaveLength(availableParallelism() > 1 ? availableParallelism() : 0);
  });

  it('carries traffic and keeps the workers through a SIGTERM meant for the whole group until the engine stops them', async () => {
    const client = app.client();
    const vip = await createVip(client, { label: 'dflt', ipAddress: VIP, ports: [8080], protocol: 'http' }, [{ label: 'a', address: backend.host, port: backend.port }]);
    await until('the VIP listening', async () => (await overviewOf(client, vip.id)).listening);
    expect((await get(`http://${VIP}:8080/`)).body.toString()).toBe('a');
    const workers = children(app);
    // systemd's stop signals every process of the unit; a worker that died here would drop
    // its clients at once and be replaced by the engine in the middle of its shutdown.
    for (const pid of workers) process.kill(pid, 'SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    expect(children(app)).toEqual(workers);
    expect((await get(`http://${VIP}:8080/`)).status).toBe(200);
    expect(await app.stop()).toBe(0);
    expect(app.output.filter((l) => l.includes('engine worker died'))).toEqual([]);
    await until('the workers gone', () => workers.every((pid) => spawnSync('kill', ['-0', String(pid)]).status !== 0));
  });
});

describe('a worker count given', () => {
  it('--engine-workers 1 and 0 carry traffic in the engine process', async () => {
    for (const n of ['1', '0']) {
      const app = await start(['--engine-workers', n]);
      const line = await engineLine(app);
      expect(line).toMatchObject({ engine: 'embedded', workers: 1 });
      expect(line.msg).toContain('in this process');
      expect(children(app)).toEqual([]);
      await app.dispose();
    }
  });

  it('LBAPPLIANCE_ENGINE_WORKERS=3 runs three workers; the flag wins over it', async () => {
    const three = await start([], { LBAPPLIANCE_ENGINE_WORKERS: '3' });
    expect(await engineLine(three)).toMatchObject({ workers: 3 });
    expect(children(three)).toHaveLength(3);
    await three.dispose();
    const flag = await start(['--engine-workers', '2'], { LBAPPLIANCE_ENGINE_WORKERS: '3' });
    expect(await engineLine(flag)).toMatchObject({ workers: 2 });
    expect(children(flag)).toHaveLength(2);
    await flag.dispose();
  });

  it('no haproxy hint where haproxy is not installed', async () => {
    const none = await start(['--engine-workers', '1'], { LBAPPLIANCE_HAPROXY_BIN: '/nonexistent/haproxy' });
    const line = await engineLine(none);
    expect(line.haproxy).toBeNull();
    expect(line.msg).not.toContain('haproxy');
    await none.dispose();
  });

  it('refuses a count that is not a number of processes, with the usage exit status', () => {
    for (const bad of ['--engine-workers=-1', 'many', '1.5', '1000']) {
      const r = spawnSync(process.execPath, [LBAPPLIANCE_BIN, 'serve', '--data-dir', '/nonexistent', '--engine', 'embedded', ...(bad.startsWith('--') ? [bad] : ['--engine-workers', bad])], { encoding: 'utf8', timeout: 30_000 });
      expect(r.status).toBe(2);
      expect(r.stderr).toContain('--engine-workers takes a number of processes');
    }
  });
});

/** A TLS connection to the VIP (resuming `session` if given); resolves once the handshake is done. */
function handshake(port: number, options: { session?: Buffer; maxVersion?: 'TLSv1.2' | 'TLSv1.3' } = {}): Promise<{ reused: boolean; session: Buffer }> {
  return new Promise((resolve, reject) => {
    const socket: TLSSocket = tlsConnect({ host: VIP_TLS, port, servername: 'resume.test', rejectUnauthorized: false, session: options.session, maxVersion: options.maxVersion });
    let reused = false;
    socket.once('secureConnect', () => {
      reused = socket.isSessionReused();
      // A resumption is all that is asked of a connection given a session (TLS 1.2 may send no new ticket).
      if (options.session) {
        socket.destroy();
        return resolve({ reused, session: options.session });
      }
      // TLS 1.3 tickets come after the handshake, with the first response: ask for one.
      socket.write('GET / HTTP/1.1\r\nHost: resume.test\r\n\r\n');
    });
    socket.once('session', (session: Buffer) => {
      socket.destroy();
      resolve({ reused, session });
    });
    socket.once('error', reject);
    setTimeout(() => reject(new Error('no TLS session in 10 s')), 10_000).unref();
  });
}

const VIP_TLS = '127.0.246.21';

describe('TLS sessions with two workers', () => {
  it('resume whichever worker accepts the connection (TLS 1.3 and 1.2 tickets)', async () => {
    const app = await start(['--engine-workers', '2']);
    const client = app.client();
    const cert = await client.createCertificate({ label: 'resume', selfSigned: { commonName: 'resume.test', subjectAltNames: ['resume.test'], keyType: 'ecdsa-p256' } });
    const vip = await createVip(client, { label: 'resume', ipAddress: VIP_TLS, ports: [8443], protocol: 'http', certificateId: cert.id }, [{ label: 'a', address: backend.host, port: backend.port }]);
    await until('the TLS VIP listening', async () => (await overviewOf(client, vip.id)).listening);
    expect(children(app)).toHaveLength(2);
    for (const maxVersion of ['TLSv1.3', 'TLSv1.2'] as const) {
      const first = await handshake(8443, { maxVersion });
      const reused: boolean[] = [];
      // Sixteen connections: the kernel hands some of them to each worker.
      for (let i = 0; i < 16; i++) reused.push((await handshake(8443, { session: first.session, maxVersion })).reused);
      expect({ maxVersion, reused }).toEqual({ maxVersion, reused: reused.map(() => true) });
    }
  });
});
