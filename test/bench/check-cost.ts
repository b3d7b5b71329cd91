// What each health check kind costs the appliance: the probes the appliance runs itself
// (appliance/engine/health/probes.ts: every kind on the embedded engine; dicom and hl7 on
// the HAProxy engine too) are run back to back against real peers, and the appliance's CPU
// time is measured with process.cpuUsage(). The peers run in another process (a child of
// this script, and DCMTK's storescp for DICOM), so their work is not counted. Prints, per
// kind, checks per second of wall time and checks per CPU-second of this process (checks
// per second per core). Run: `tsc -p test/bench/tsconfig.json && node dist/test/bench/check-cost.js`
// (BENCH_SECONDS, default 5, per kind). A `script` check's program is a process the appliance
// forks, so its CPU time (the children's, from /proc/self/stat) counts too; the feedback
// agent's query is measured as a kind of its own. Addresses 127.0.213.x.
import { spawn, fork, type ChildProcess } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import { createServer, connect } from 'node:net';
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hl7Server } from '../../examples/backends/index.js';
import { runProbe } from '../../appliance/engine/health/probes.js';
import type { ProbeSpec } from '../../appliance/engine/health/probe-spec.js';
import { setCheckScriptsDir } from '../../appliance/config/check-scripts.js';
import { queryAgent } from '../../appliance/engine/health/agent-probe.js';
import { parseAgentReply } from '../../appliance/engine/health/agent-reply.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const HOST = '127.0.213.1';

interface Ports {
  http: number;
  tcp: number;
  hl7: number;
  agent: number;
}

async function servePeers(): Promise<void> {
  const http = createHttpServer((_req, res) => res.end('status: ok\n'));
  await new Promise<void>((r) => http.listen(0, HOST, r));
  const tcp = createServer((s) => {
    s.on('error', () => undefined);
    s.on('data', (d) => s.write(d));
  });
  await new Promise<void>((r) => tcp.listen(0, HOST, r));
  const hl7 = new Hl7Server({ host: 'bench', name: 'bench-hl7', address: HOST, port: 2575 });
  await hl7.start();
  const agent = createServer((s) => {
    s.on('error', () => undefined);
    s.end('75%\n');
  });
  await new Promise<void>((r) => agent.listen(0, HOST, r));
  const ports: Ports = { http: (http.address() as { port: number }).port, tcp: (tcp.address() as { port: number }).port, hl7: 2575, agent: (agent.address() as { port: number }).port };
  process.send?.(ports);
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '0.0.0.0', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function reachable(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: HOST, port }, () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on ${port}`);
}

const BASE: Omit<ProbeSpec, 'type' | 'port'> = {
  address: HOST,
  path: '/',
  host: null,
  expectStatus: 200,
  timeoutMs: 5000,
  expectStatuses: [],
  bodyMatch: { kind: 'none', value: '' },
  tcp: { send: null, expect: null },
  dicom: { callingAeTitle: 'LBAPPLIANCE', calledAeTitle: 'ANY-SCP', tls: false },
  hl7: { message: null },
  script: { path: null, args: [] },
  names: { vip: 'bench', vipAddress: HOST, vipPort: 80, server: 'peer' },
};

/** CPU seconds of the children this process waited for (a script check's programs): cutime + cstime. */
function childrenCpuSeconds(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  // After the command: state is field 3, so cutime (16) and cstime (17) are at 13 and 14; clock ticks of 1/100 s.
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

/** Runs `spec` (or `run`) with `concurrency` in flight for SECONDS; checks per wall second and per CPU second. */
async function measure(spec: ProbeSpec | (() => Promise<boolean>), concurrency: number): Promise<{ ok: number; failed: number; perSecond: number; perCpuSecond: number }> {
  const once = typeof spec === 'function' ? spec : async () => (await runProbe(spec)).ok;
  for (let i = 0; i < 20; i++) await once(); // warm up
  let ok = 0;
  let failed = 0;
  const cpu = process.cpuUsage();
  const children = childrenCpuSeconds();
  const started = performance.now();
  const deadline = started + SECONDS * 1000;
  const worker = async () => {
    while (performance.now() < deadline) {
      if (await once()) ok++;
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const wall = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6 + (childrenCpuSeconds() - children);
  return { ok, failed, perSecond: Math.round(ok / wall), perCpuSecond: Math.round(ok / cpuSeconds) };
}

async function main(): Promise<void> {
  if (process.argv[2] === 'peers') return servePeers();
  const peers: ChildProcess = fork(fileURLToPath(import.meta.url), ['peers'], { stdio: 'inherit' });
  const ports = await new Promise<Ports>((resolve) => peers.once('message', (m) => resolve(m as Ports)));
  const dicomPort = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'chk-bench-'));
  // storescp in its default single-process mode: one association at a time, as a small PACS.
  const storescp = spawn('storescp', ['-aet', 'BENCH', '--ignore', '-od', dir, String(dicomPort)], { stdio: 'ignore' });
  await reachable(dicomPort);
  const kinds: [string, ProbeSpec, number][] = [
    ['connect', { ...BASE, type: 'connect', port: ports.tcp }, 8],
    ['tcp (send/expect)', { ...BASE, type: 'tcp', port: ports.tcp, tcp: { send: 'PING\r\n', expect: 'PING' } }, 8],
    ['http', { ...BASE, type: 'http', port: ports.http }, 8],
    ['http + substring', { ...BASE, type: 'http', port: ports.http, bodyMatch: { kind: 'substring', value: 'ok' } }, 8],
    ['http + regex', { ...BASE, type: 'http', port: ports.http, bodyMatch: { kind: 'regex', value: '^status: (ok|up)\n$' } }, 8],
    ['hl7', { ...BASE, type: 'hl7', port: ports.hl7 }, 8],
    ['dicom', { ...BASE, type: 'dicom', port: dicomPort }, 1],
    ['script (/bin/sh, exit 0)', { ...BASE, type: 'script', port: ports.tcp, script: { path: 'ok.sh', args: [] } }, 8],
  ];
  const scripts = await mkdtemp(join(tmpdir(), 'chk-bench-scripts-'));
  await writeFile(join(scripts, 'ok.sh'), '#!/bin/sh\nexit 0\n');
  await chmod(join(scripts, 'ok.sh'), 0o755);
  setCheckScriptsDir(scripts);
  const rows: string[] = ['| check | in flight | checks/s (wall) | checks per CPU-second of the appliance | failed |', '|---|---|---|---|---|'];
  for (const [name, spec, concurrency] of kinds) {
    const r = await measure(spec, concurrency);
    rows.push(`| ${name} | ${concurrency} | ${r.perSecond} | ${r.perCpuSecond} | ${r.failed} |`);
    console.error(rows[rows.length - 1]);
  }
  const agent = await measure(async () => {
    const a = await queryAgent(HOST, ports.agent, 5000);
    return a.ok && parseAgentReply(a.line).percent === 75;
  }, 8);
  rows.push(`| feedback agent query | 8 | ${agent.perSecond} | ${agent.perCpuSecond} | ${agent.failed} |`);
  console.error(rows[rows.length - 1]);
  console.log(rows.join('\n'));
  storescp.kill('SIGKILL');
  peers.kill('SIGKILL');
}

await main();
