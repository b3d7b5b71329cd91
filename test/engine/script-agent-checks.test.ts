// `script` checks and feedback agents against real programs and a real agent (issue 15):
// a script from the check scripts directory decides each server's health by its exit status,
// sees the VIP and the server in HAProxy's external-check variables and nothing of the
// appliance's own environment, is killed at the check's timeout, and only programs inside
// the directory are accepted (at write: a 422 naming the field that changes nothing; at
// run time: a link turned outwards since fails the check). A feedback agent (a small TCP
// server answering HAProxy's agent-check words) scales a server's effective weight, drains,
// puts it in maintenance and marks it down and up again; the overview, `lbappliance status`
// and the traffic follow. test/haproxy re-runs this file on the HAProxy engine (its own
// agent-check). Addresses 127.0.244.x (127.0.245.x on HAProxy) belong to this file.
import { execFile } from 'node:child_process';
import { chmod, mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApplianceClient } from '../../openapi/sdk/index.js';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';
import { refusedWrite } from '../helpers/refused-write.js';
import { LBAPPLIANCE_BIN } from '../helpers/paths.js';
import { tempDir } from '../backends/helpers.js';
import { startHttpBackend, type HttpBackend } from './helpers/backends.js';
import { get } from './helpers/traffic.js';
import { createVip, overviewOf } from './helpers/vips.js';
import { until } from './helpers/wait.js';
import { ENGINE, HAPROXY } from './helpers/engine-under-test.js';

const NET = HAPROXY ? '127.0.245' : '127.0.244';
const FAST = { interval: 1, timeout: 2, rise: 1, fall: 1 };
let app: TestAppliance;
let client: ApplianceClient;
let work: Awaited<ReturnType<typeof tempDir>>;
let scripts: string;
const closers: (() => Promise<unknown>)[] = [];

async function script(name: string, body: string): Promise<string> {
  const file = join(scripts, name);
  await writeFile(file, `#!/bin/sh\n${body}\n`);
  await chmod(file, 0o755);
  return file;
}

beforeAll(async () => {
  work = await tempDir(`chk-script-${ENGINE}`);
  scripts = join(work.dir, 'check-scripts');
  await mkdir(join(scripts, 'site'), { recursive: true });
  // Exits with the status written in the file named by its first argument.
  await script('status-file.sh', 'echo "status file $1"; exit "$(cat "$1")"');
  // Says what it was given; fails when it sees anything of the appliance's own environment.
  await script('site/env.sh', 'if [ -n "$LBAPPLIANCE_PASSWORD$HOME$LBAPPLIANCE_LOG_LEVEL" ]; then echo "leaked environment"; exit 3; fi\necho "$HAPROXY_PROXY_NAME $HAPROXY_PROXY_ADDR:$HAPROXY_PROXY_PORT $HAPROXY_SERVER_NAME $HAPROXY_SERVER_ADDR:$HAPROXY_SERVER_PORT [$1] [$2]"');
  await script('sleeps.sh', 'sleep 30');
  await script('swap.sh', 'exit 0');
  await writeFile(join(scripts, 'not-executable.sh'), '#!/bin/sh\nexit 0\n');
  await symlink('/bin/true', join(scripts, 'escape'));
  await writeFile(join(work.dir, 'outside.sh'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  app = await startTestAppliance({ engine: ENGINE, host: `${NET}.1`, args: ['--check-scripts-dir', scripts] });
  client = app.client();
});

afterAll(async () => {
  await app?.dispose();
  for (const close of closers.reverse()) await close().catch(() => undefined);
  await work?.remove();
});

async function backend(name: string, last: number): Promise<HttpBackend> {
  const b = await startHttpBackend({ name, host: `${NET}.${last}`, port: 8080 });
  closers.push(() => b.close());
  return b;
}

/** Each server's health and last check detail by label, once every server's detail satisfies `ready`. */
async function checks(vsId: string, ready: (detail: Record<string, { health: string; detail: string }>) => boolean, what: string) {
  return until(what, async () => {
    const o = await overviewOf(client, vsId);
    const seen = Object.fromEntries(o.realServers.map((r) => [r.label, { health: r.health, detail: r.lastCheck?.detail ?? '' }]));
    return ready(seen) ? seen : null;
  }, 30_000);
}

describe('script check', () => {
  it('is up on exit 0 and down on another status, with the first line printed as the reason; HAProxy sends traffic only to servers that pass', async () => {
    const a = await backend('a', 11);
    const b = await backend('b', 12);
    const statusA = join(work.dir, 'a.status');
    const statusB = join(work.dir, 'b.status');
    await writeFile(statusA, '0');
    await writeFile(statusB, '2');
    // Each server gets its own status file: one VIP per server keeps the arguments apart.
    const vipA = await createVip(client, { label: 'script-a', ipAddress: `${NET}.217`, ports: [80], protocol: 'http', healthCheck: { type: 'script', ...FAST, script: { path: 'status-file.sh', args: [statusA] } } }, [{ label: 'a', address: a.host, port: a.port }]);
    const vipB = await createVip(client, { label: 'script-b', ipAddress: `${NET}.218`, ports: [80], protocol: 'http', healthCheck: { type: 'script', ...FAST, script: { path: `${scripts}/status-file.sh`, args: [statusB] } } }, [{ label: 'b', address: b.host, port: b.port }]);
    expect(await checks(vipA.id, (s) => s.a?.health === 'up', 'a up')).toEqual({ a: { health: 'up', detail: `exit 0: status file ${statusA}` } });
    expect(await checks(vipB.id, (s) => s.b?.health === 'down', 'b down')).toEqual({ b: { health: 'down', detail: `exit 2: status file ${statusB}` } });
    expect((await get(`http://${NET}.217/`)).body.toString()).toBe('a');
    expect((await get(`http://${NET}.218/`)).status).toBe(503);
    // The script decides: b's program now exits 0, a's 1.
    await writeFile(statusB, '0');
    await writeFile(statusA, '1');
    await checks(vipB.id, (s) => s.b?.health === 'up', 'b up');
    await checks(vipA.id, (s) => s.a?.health === 'down' && s.a.detail.startsWith('exit 1'), 'a down');
    await until('traffic to b', async () => (await get(`http://${NET}.218/`)).body.toString() === 'b');
    const o = await overviewOf(client, vipA.id);
    expect(o.checkType).toBe('script');
  });

  it('gets its arguments as they are and the VIP and server in its environment, nothing of the appliance\'s', async () => {
    const c = await backend('c', 13);
    const vip = await createVip(
      client,
      { label: 'script-env', ipAddress: `${NET}.219`, ports: [80], protocol: 'http', healthCheck: { type: 'script', ...FAST, port: 8080, script: { path: 'site/env.sh', args: ['two words', '$HOME;`id`'] } } },
      [{ label: 'c-server', address: c.host, port: c.port }],
    );
    const seen = await checks(vip.id, (s) => s['c-server']?.detail !== '', 'env script ran');
    expect(seen['c-server']).toEqual({ health: 'up', detail: `exit 0: script-env ${NET}.219:80 c-server ${NET}.13:8080 [two words] [$HOME;\`id\`]` });
  });

  it('is killed at the check timeout', async () => {
    const d = await backend('d', 14);
    const vip = await createVip(client, { label: 'script-slow', ipAddress: `${NET}.220`, ports: [80], protocol: 'http', healthCheck: { type: 'script', ...FAST, timeout: 1, script: { path: 'sleeps.sh' } } }, [{ label: 'd', address: d.host, port: d.port }]);
    const seen = await checks(vip.id, (s) => s.d?.health === 'down', 'slow script down');
    expect(seen.d?.detail).toBe('timeout after 1000 ms waiting for the script to exit');
    // Its `sleep` went with it: no process of the script is left.
    await until('no sleeping script left', async () => !(await processesRunning(join(scripts, 'sleeps.sh'))), 10_000);
  });

  it('refuses a program outside the check scripts directory at write, naming the field, and changes nothing', async () => {
    const vs = await client.createVirtualService({ label: 'script-refusals', ipAddress: `${NET}.221`, ports: [80], protocol: 'http' });
    const cases: [string, string, RegExp][] = [
      ['../outside.sh', 'LB_UNSUPPORTED_VALUE', /\.\. segment/],
      ['site/../../outside.sh', 'LB_UNSUPPORTED_VALUE', /\.\. segment/],
      [join(work.dir, 'outside.sh'), 'LB_UNSUPPORTED_VALUE', /outside the check scripts directory/],
      ['/bin/true', 'LB_UNSUPPORTED_VALUE', /outside the check scripts directory/],
      ['escape', 'LB_UNSUPPORTED_VALUE', /leads outside the check scripts directory \S+ \(a symbolic link to \/(usr\/)?bin\/true\)/],
      ['missing.sh', 'LB_UNSUPPORTED_VALUE', /does not exist/],
      ['not-executable.sh', 'LB_UNSUPPORTED_VALUE', /not executable/],
      ['site', 'LB_UNSUPPORTED_VALUE', /not a regular file/],
    ];
    for (const [path, code, message] of cases) {
      const err = await refusedWrite(client, () => client.updateVirtualService(vs.id, { healthCheck: { type: 'script', script: { path } } }));
      expect([err.status, err.problem.code, err.problem.field], path).toEqual([422, code, '/healthCheck/script/path']);
      expect(err.problem.detail, path).toMatch(message);
    }
    const none = await refusedWrite(client, () => client.updateVirtualService(vs.id, { healthCheck: { type: 'script' } }));
    expect([none.status, none.problem.code, none.problem.field]).toEqual([422, 'LB_INVALID_COMBINATION', '/healthCheck/script/path']);
    const shell = await refusedWrite(client, () => client.updateVirtualService(vs.id, { healthCheck: { type: 'script', script: { path: 'swap.sh; cat /etc/shadow' } } }));
    expect([shell.status, shell.problem.code, shell.problem.field]).toEqual([400, 'LB_VALIDATION', '/healthCheck/script/path']);
    const bounds: [Record<string, unknown>, string][] = [
      [{ type: 'script', script: { path: 'swap.sh', args: Array.from({ length: 33 }, () => 'x') } }, '/healthCheck/script/args'],
      [{ type: 'script', script: { path: 'swap.sh', args: ['x'.repeat(1025)] } }, '/healthCheck/script/args/0'],
      [{ type: 'script', script: { path: 'swap.sh', args: ['a\u0000b'] } }, '/healthCheck/script/args/0'],
      [{ agent: { port: 0 } }, '/healthCheck/agent/port'],
      [{ agent: { port: 3333, interval: 0 } }, '/healthCheck/agent/interval'],
      [{ agent: { port: 3333, send: 'x' } }, '/healthCheck/agent/send'],
    ];
    for (const [healthCheck, field] of bounds) {
      const err = await refusedWrite(client, () => client.updateVirtualService(vs.id, { healthCheck } as never));
      expect([err.status, err.problem.code, err.problem.field], field).toEqual([400, 'LB_VALIDATION', field]);
    }
  });

  it('may be set by an administrator only', async () => {
    await client.createUser({ username: 'reader', password: 'reader-password-0123', role: 'read-only' });
    const reader = app.client({ username: 'reader', password: 'reader-password-0123' });
    const err = await refusedWrite(client, () => reader.createVirtualService({ label: 'script-reader', ipAddress: `${NET}.222`, ports: [80], protocol: 'http', healthCheck: { type: 'script', script: { path: 'swap.sh' } } }));
    expect([err.status, err.problem.code]).toEqual([403, 'LB_FORBIDDEN']);
  });

  it('runs nothing once its program became a link out of the directory', async () => {
    const e = await backend('e', 15);
    const vip = await createVip(client, { label: 'script-swap', ipAddress: `${NET}.223`, ports: [80], protocol: 'http', healthCheck: { type: 'script', ...FAST, script: { path: 'swap.sh' } } }, [{ label: 'e', address: e.host, port: e.port }]);
    await checks(vip.id, (s) => s.e?.health === 'up', 'swap up');
    await rm(join(scripts, 'swap.sh'));
    await symlink(join(work.dir, 'outside.sh'), join(scripts, 'swap.sh'));
    const seen = await checks(vip.id, (s) => s.e?.health === 'down', 'swap down');
    expect(seen.e?.detail).toMatch(/^script not run: swap\.sh leads outside the check scripts directory/);
  });
});

/** A feedback agent: answers `reply` and a line end to every connection, then closes. */
interface Agent {
  reply: string;
  queries: number;
  port: number;
  close(): Promise<void>;
}

describe('feedback agent', () => {
  it('scales the effective weight, drains, puts in maintenance, marks down and up; the overview, the status command and the traffic follow', async () => {
    const f = await backend('f', 21);
    const g = await backend('g', 22);
    // One agent port for the VIP: each server's agent listens on its own address.
    const agentF = await startAgent(f.host, 0, '100%');
    const port = agentF.port;
    const agentG2 = await startAgent(g.host, port, 'up 100%');
    const vip = await createVip(
      client,
      { label: 'agent-vip', ipAddress: `${NET}.230`, ports: [80], protocol: 'http', healthCheck: { type: 'connect', ...FAST, agent: { port, interval: 1 } } },
      [
        { label: 'f', address: f.host, port: f.port, weight: 200 },
        { label: 'g', address: g.host, port: g.port, weight: 200 },
      ],
    );
    const server = async (label: string) => {
      const o = await overviewOf(client, vip.id);
      return o.realServers.find((r) => r.label === label) as (typeof o.realServers)[number];
    };
    const shares = async (n: number) => {
      const counts: Record<string, number> = { f: 0, g: 0 };
      for (let i = 0; i < n; i++) {
        const body = (await get(`http://${NET}.230/`)).body.toString();
        counts[body] = (counts[body] ?? 0) + 1;
      }
      return counts;
    };
    // HAProxy keeps no reply line: the overview says what HAProxy made of it, in the agent's words.
    await until('both agents answered', async () => {
      const [sf, sg] = [await server('f'), await server('g')];
      if (sf.agent?.reply === '100%' && sg.agent?.reply === (HAPROXY ? '100%' : 'up 100%') && sg.health === 'up') return true;
      throw new Error(JSON.stringify([sf, sg]));
    }, 30_000);
    expect((await server('f')).effectiveWeight).toBe(200);

    agentF.reply = '25%';
    await until('f at 25%', async () => (await server('f')).effectiveWeight === 50, 30_000);
    expect((await server('f')).agent?.reply).toBe('25%');
    const weighted = await shares(50);
    expect(weighted.f, JSON.stringify(weighted)).toBeGreaterThan(0);
    expect(weighted.f, JSON.stringify(weighted)).toBeLessThan(weighted.g as number);
    expect(weighted.f, JSON.stringify(weighted)).toBeLessThanOrEqual(16);

    // lbappliance status shows the check kind, the effective weight and the agent's reply.
    const table = await status();
    expect(table).toMatch(/^agent-vip\s+\S+\s+80\s+\d+\s+HTTP\s+-\s+connect\s+up$/m);
    expect(table).toMatch(/^ {2}f\s+\S+\s+8080\s+\d+\s+50 of 200\s+up\s+25%\s+ok connected/m);

    agentF.reply = 'drain';
    await until('f drained', async () => (await server('f')).effectiveWeight === 0, 30_000);
    expect((await server('f')).health).toBe('up');
    expect(await shares(10)).toEqual({ f: 0, g: 10 });

    agentF.reply = 'ready';
    await until('f ready at its last share', async () => (await server('f')).effectiveWeight === 50, 30_000);

    agentF.reply = 'maint';
    await until('f in maintenance', async () => (await server('f')).effectiveWeight === 0 && (await server('f')).agent?.reply === (HAPROXY ? '25% maint' : 'maint'), 30_000);
    expect(await shares(10)).toEqual({ f: 0, g: 10 });

    agentF.reply = 'ready 100%';
    await until('f back', async () => (await server('f')).effectiveWeight === 200, 30_000);

    agentG2.reply = 'down';
    await until('g down by its agent', async () => (await server('g')).health === 'down', 30_000);
    expect(await shares(10)).toEqual({ f: 10, g: 0 });
    agentG2.reply = 'up';
    await until('g up again', async () => (await server('g')).health === 'up', 30_000);
    await until('traffic to g again', async () => (await shares(10)).g! > 0, 30_000);

    // An agent that stops answering changes nothing: the health check judges reachability.
    await agentG2.close();
    await until('g agent unreachable', async () => /ECONNREFUSED|refused|L4CON|closed/i.test((await server('g')).agent?.reply ?? ''), 30_000);
    expect((await server('g')).health).toBe('up');
    expect((await server('g')).effectiveWeight).toBe(200);
  });

  it('refuses an agent on a layer 4 VIP, naming the field, and changes nothing', async () => {
    const err = await refusedWrite(client, () => client.createVirtualService({ label: 'agent-l4', ipAddress: `${NET}.231`, ports: [80], protocol: 'tcp', forwarding: 'nat', forwardedFor: false, healthCheck: { agent: { port: 3333 } } }));
    expect([err.status, err.problem.code, err.problem.field]).toEqual([422, 'LB_INVALID_COMBINATION', '/healthCheck/agent/port']);
  });
});

async function startAgent(host: string, port: number, reply: string): Promise<Agent> {
  const sockets = new Set<Socket>();
  const agent: Agent = { reply, queries: 0, port, close: async () => undefined };
  const server: Server = createServer((s) => {
    agent.queries++;
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
    s.end(`${agent.reply}\n`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  agent.port = (server.address() as { port: number }).port;
  agent.close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  closers.push(() => agent.close());
  return agent;
}

/** Whether a process whose command line mentions `needle` runs (read from /proc). */
async function processesRunning(needle: string): Promise<boolean> {
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(needle)) return true;
  }
  return false;
}

/** `lbappliance status` against the test appliance, as plain text. */
function status(): Promise<string> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LBAPPLIANCE_') && k !== 'NO_COLOR'));
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [LBAPPLIANCE_BIN, 'status', '--endpoint', app.endpoint, '--insecure'], { env: { ...env, LBAPPLIANCE_PASSWORD: app.password } }, (err, stdout, stderr) => {
      if (err) reject(new Error(`status failed: ${stderr}`));
      else resolve(stdout);
    });
  });
}
