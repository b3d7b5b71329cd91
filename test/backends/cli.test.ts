// `npm run backends -- <example>` as a person runs it. The examples suites start the same
// plans on their real addresses while this file may run beside them, so the TeraRecon run is
// moved from 127.0.40.x to 127.0.98.x and the Insignia run to 127.0.97.x with --relocate
// (same ports, same servers, same table).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/paths.js';
import { alive, probe, storescpPids, tempDir, waitFor } from './helpers.js';

interface Cli {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

const started: Cli[] = [];

/** Runs `npm run backends -- ...args` in its own process group, as a terminal would. */
async function runCli(args: string[]): Promise<Cli> {
  const child = spawn('npm', ['run', '--silent', 'backends', '--', ...args], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const cli = { child, output: () => out, exited };
  started.push(cli);
  await Promise.race([waitFor(() => out.includes('backends ready'), 30_000, `backends ready in:\n${out}`), exited.then((c) => Promise.reject(new Error(`exited ${c}:\n${out}`)))]);
  return cli;
}

afterEach(async () => {
  for (const cli of started.splice(0)) {
    if (cli.child.exitCode === null && cli.child.pid) process.kill(-cli.child.pid, 'SIGKILL');
  }
});

describe('npm run backends', () => {
  it('starts TeraRecon on its plan, prints the table, and stops on Ctrl-C with every port freed', async () => {
    const work = await tempDir('cli-terarecon');
    const cli = await runCli(['terarecon', '--relocate', '127.0.40.=127.0.98.', '--run-dir', work.dir]);
    expect(cli.output()).toMatch(/SERVER1\s+terarecon-server1\s+127\.0\.98\.6:443\s+https\s+up\s+VIP 2/);
    expect(cli.output()).toMatch(/SERVER2\s+terarecon-server2\s+127\.0\.98\.7:1200\s+tcp\s+up\s+VIP 3/);
    // The HTTPS backend is verified against the certificate the CLI saved in the run dir.
    const agent = new Agent({ connect: { ca: readFileSync(join(work.dir, 'SERVER1', 'tls', 'cert.pem')) } });
    const res = await request('https://127.0.98.6:443/', { dispatcher: agent });
    expect(res.headers['x-backend-server']).toBe('terarecon-server1');
    await res.body.dump();
    await agent.close();
    expect(await probe('127.0.98.7', 1200)).toBe('open');

    const t0 = Date.now();
    process.kill(-cli.child.pid!, 'SIGINT'); // Ctrl-C: the whole foreground process group
    expect(await cli.exited).toBe(0);
    console.log(`terarecon backends stopped in ${Date.now() - t0} ms`);
    expect(cli.output()).toContain('backends stopped');
    for (const [a, p] of [['127.0.98.6', 443], ['127.0.98.6', 1200], ['127.0.98.7', 443], ['127.0.98.7', 1200]] as const) expect(await probe(a, p)).toBe('refused');
    await work.remove();
  });

  it('leaves no storescp process behind when stopped with SIGTERM during an open association', async () => {
    const work = await tempDir('cli-insignia');
    const cli = await runCli(['insignia', '--relocate', '127.0.60.=127.0.97.', '--run-dir', work.dir]);
    const socket = connect({ host: '127.0.97.11', port: 104 }); // storescp now waits for A-ASSOCIATE-RQ
    socket.on('error', () => undefined);
    await waitFor(() => storescpPids(work.dir).length === 1, 10_000, 'a storescp process of this run');
    const [pid] = storescpPids(work.dir);

    process.kill(cli.child.pid!, 'SIGTERM'); // to npm only, as `kill <pid>` would
    expect(await cli.exited).toBe(0);
    await waitFor(() => cli.output().includes('backends stopped'), 10_000, 'backends stopped');
    expect(alive(pid!)).toBe(false);
    expect(storescpPids(work.dir)).toEqual([]);
    expect(await probe('127.0.97.11', 104)).toBe('refused');
    socket.destroy();
    await work.remove();
  });

  it('refuses an unknown example with its usage', async () => {
    const child = spawn('npm', ['run', '--silent', 'backends', '--', 'philips'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise((r) => child.once('exit', r));
    expect(code).toBe(1);
    expect(out).toContain('BACKEND_UNKNOWN_PROFILE');
  });
});
