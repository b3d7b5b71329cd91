// `npm run bench:ha`: failover time of an HA pair, measured the same way for lbappliance
// (default settings and the fastest settings it supports) and for keepalived's VRRP with its
// defaults (advert_int 1 s), each pair in two network namespaces on one Ethernet segment,
// the VIP a real address moved between them with gratuitous ARP. A client loop in this
// namespace opens a new connection to the VIP every few milliseconds; the active node is
// killed with SIGKILL (for keepalived: keepalived and the service it fronts, as a crash of
// that host would); the gap is from the start of the first failed request to the end of the
// first successful one. The killed node is restarted and rejoins before the next kill, so the
// kills alternate between the nodes. Before each kill one configuration write goes to the
// primary; afterwards both nodes must hold it (zero lost config).
// Writes test/bench/ha/results.json and results.md. Needs root, iproute2, keepalived and
// iputils-arping (installed with apt-get when missing).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../../helpers/paths.js';
import type { TestAppliance } from '../../helpers/appliance-process.js';
import { startHttpBackend } from '../../engine/helpers/backends.js';
import { clientLoop, outageAfter } from '../../ha/helpers/load.js';
import { addressesOn, buildSegment, segmentNames, teardown, type NsHost, type Segment } from '../../ha/helpers/netns.js';
import { clientOf, pair, PRIMARY_PASSWORD, SECONDARY_PASSWORD, startNode, stateOf, until } from '../../ha/helpers/pair.js';

const KILLS = Number(process.env.BENCH_HA_KILLS ?? 20);
/** The contract's defaults. */
const DEFAULTS = { heartbeatIntervalMs: 300, deadTimeMs: 1500 };
/** The fastest settings this appliance supports (docs/ha.md says why not tighter). */
const FASTEST = { heartbeatIntervalMs: Number(process.env.BENCH_HA_FAST_INTERVAL ?? 100), deadTimeMs: Number(process.env.BENCH_HA_FAST_DEAD ?? 400) };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The result of one scenario. */
interface ScenarioResult {
  name: string;
  settings: string;
  kills: number;
  gapsMs: number[];
  medianMs: number;
  worstMs: number;
  bestMs: number;
  lostConfig: number | null;
}

function summarise(name: string, settings: string, gaps: number[], lostConfig: number | null): ScenarioResult {
  const sorted = [...gaps].sort((x, y) => x - y);
  return { name, settings, kills: gaps.length, gapsMs: gaps, medianMs: sorted[Math.floor(sorted.length / 2)] ?? NaN, worstMs: sorted.at(-1) ?? NaN, bestMs: sorted[0] ?? NaN, lostConfig };
}

function ensureTools(): void {
  const need: Record<string, string> = { keepalived: 'keepalived', arping: 'iputils-arping', ip: 'iproute2' };
  const missing = Object.entries(need)
    .filter(([cmd]) => {
      try {
        execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
        return false;
      } catch {
        return true;
      }
    })
    .map(([, pkg]) => pkg);
  if (missing.length === 0) return;
  process.stderr.write(`bench:ha: installing ${missing.join(' ')} with apt-get\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', ...missing], { stdio: 'inherit', env });
}

/** Measures one kill: starts the client loop, runs `kill`, waits for service again. */
async function measureKill(vipUrl: string, source: string, kill: () => Promise<void>): Promise<number> {
  const loop = clientLoop(vipUrl, source, 5);
  await until('the VIP answering before the kill', () => loop.samples.some((s) => s.ok), 10_000);
  const killedAt = Date.now();
  await kill();
  await until('the VIP answering again', () => loop.samples.some((s) => s.startedAt > killedAt && s.ok), 20_000);
  await loop.stop();
  return outageAfter(loop.samples, killedAt)?.gapMs ?? 0;
}

// ------------------------------------------------------------------ lbappliance

async function lbappliance(name: string, settings: { heartbeatIntervalMs: number; deadTimeMs: number }, tag: string, prefix: string): Promise<ScenarioResult> {
  const seg = await buildSegment(prefix, ['a', 'b'], tag);
  const vip = `${prefix}.100`;
  const backend = await startHttpBackend({ name: 'rs1', host: seg.local, port: 8080 });
  const start = (host: NsHost, password: string) => startNode(host.address, password, { wrap: ['ip', 'netns', 'exec', host.ns], args: ['--vip-interface', host.iface] });
  const nodes: Record<'a' | 'b', TestAppliance> = { a: await start(seg.hosts[0]!, PRIMARY_PASSWORD), b: await start(seg.hosts[1]!, SECONDARY_PASSWORD) };
  const gaps: number[] = [];
  let lost = 0;
  try {
    const vs = await clientOf(nodes.a).createVirtualService({ label: 'PACS', ipAddress: vip, ports: [8080], protocol: 'http' });
    const rs = await clientOf(nodes.a).createRealServer(vs.id, { label: 'rs1', address: seg.local, port: 8080 });
    await pair(nodes.a, nodes.b, settings);
    for (let k = 1; k <= KILLS; k++) {
      const active = await until('one active node', async () => ((await stateOf(nodes.a)) === 'active' ? 'a' : (await stateOf(nodes.b)) === 'active' ? 'b' : null), 15_000);
      const other = active === 'a' ? 'b' : 'a';
      await until('heartbeats on both sides', async () => ((await clientOf(nodes[other]).getOverview()).node.peerHeartbeatAgeMs ?? 1e9) < settings.heartbeatIntervalMs * 2, 15_000);
      await sleep(300);
      // One write to the primary before each kill; both nodes must still hold it afterwards.
      await clientOf(nodes.a).updateRealServer(vs.id, rs.id, { weight: k });
      const gap = await measureKill(`http://${vip}:8080/`, seg.local, () => nodes[active].kill());
      gaps.push(gap);
      process.stderr.write(`  ${name}: kill ${k} (${active}): ${gap} ms\n`);
      nodes[active] = await nodes[active].restart();
      await until('the restarted node passive', async () => (await stateOf(nodes[active])) === 'passive', 20_000);
      await until('the pair in sync', async () => (await clientOf(nodes.a).getHaStatus()).peerBehind === false, 10_000).catch(() => undefined);
      const [wa, wb] = await Promise.all([nodes.a, nodes.b].map(async (n) => (await clientOf(n).getRealServer(vs.id, rs.id)).weight));
      if (wa !== k || wb !== k) lost++;
    }
  } finally {
    await Promise.all([nodes.a.dispose(), nodes.b.dispose(), backend.close()]);
    const names = segmentNames(['a', 'b'], tag);
    await teardown(names.namespaces, names.localIface);
  }
  return summarise(name, `heartbeat ${settings.heartbeatIntervalMs} ms, dead time ${settings.deadTimeMs} ms`, gaps, lost);
}

// ------------------------------------------------------------------ keepalived

const SERVICE = "require('http').createServer((q,s)=>s.end(process.argv[1])).listen(8080,'0.0.0.0')";

function keepalivedConf(host: NsHost, vip: string, priority: number): string {
  // VRRP defaults (advert_int 1 s); both BACKUP with nopreempt, so a returning node does not
  // take the address back (as lbappliance with preferPrimary false).
  return `global_defs {
  router_id lbha_${host.ns.replace(/-/g, '_')}
  vrrp_garp_master_delay 5
}
vrrp_instance VI_1 {
  state BACKUP
  nopreempt
  interface ${host.iface}
  virtual_router_id 51
  priority ${priority}
  advert_int 1
  virtual_ipaddress {
    ${vip}/32 dev ${host.iface}
  }
}
`;
}

interface KeepalivedNode {
  host: NsHost;
  conf: string;
  keepalived: ChildProcess | null;
  service: ChildProcess | null;
  log: string[];
}

function spawnIn(host: NsHost, cmd: string[], log: string[]): ChildProcess {
  // Its own process group, so that a kill reaches keepalived's VRRP child too.
  const child = spawn('ip', ['netns', 'exec', host.ns, ...cmd], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (c: Buffer) => log.push(...c.toString().split('\n')));
  child.stderr?.on('data', (c: Buffer) => log.push(...c.toString().split('\n')));
  return child;
}

async function killGroup(child: ChildProcess | null): Promise<void> {
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  process.kill(-child.pid, 'SIGKILL');
  await exited;
}

async function keepalived(tag: string, prefix: string): Promise<ScenarioResult> {
  const seg: Segment = await buildSegment(prefix, ['a', 'b'], tag);
  const vip = `${prefix}.100`;
  const dir = await mkdtemp(join(tmpdir(), 'lbha-keepalived-'));
  const nodes: KeepalivedNode[] = [];
  const startNodeProcesses = async (n: KeepalivedNode, name: string) => {
    n.service = spawnIn(n.host, [process.execPath, '-e', SERVICE, name], n.log);
    n.keepalived = spawnIn(n.host, ['keepalived', '-n', '-l', '-G', '-P', '-f', n.conf, '-p', `${n.conf}.pid`, '-r', `${n.conf}.vrrp.pid`], n.log);
  };
  const gaps: number[] = [];
  try {
    for (const [i, host] of seg.hosts.entries()) {
      const conf = join(dir, `keepalived-${i}.conf`);
      await writeFile(conf, keepalivedConf(host, vip, 100 - i * 10));
      const n: KeepalivedNode = { host, conf, keepalived: null, service: null, log: [] };
      nodes.push(n);
      await startNodeProcesses(n, `node${i}`);
    }
    for (let k = 1; k <= KILLS; k++) {
      const master = await until('a master carrying the VIP', async () => {
        const carrying = [];
        for (const n of nodes) if ((await addressesOn(n.host.ns, n.host.iface)).includes(vip)) carrying.push(n);
        return carrying.length === 1 ? carrying[0] : null;
      }, 20_000);
      const backup = nodes.find((n) => n !== master) as KeepalivedNode;
      await until('the other node in BACKUP state', () => backup.log.some((l) => /Entering BACKUP STATE/.test(l)), 20_000);
      await sleep(1500);
      const gap = await measureKill(`http://${vip}:8080/`, seg.local, async () => {
        await Promise.all([killGroup(master.keepalived), killGroup(master.service)]);
      });
      gaps.push(gap);
      process.stderr.write(`  keepalived: kill ${k}: ${gap} ms\n`);
      // The crashed host comes back: without the address it had (a reboot loses it), then its services.
      execFileSync('ip', ['-n', master.host.ns, 'addr', 'del', `${vip}/32`, 'dev', master.host.iface], { stdio: 'ignore' });
      master.log.length = 0;
      await startNodeProcesses(master, `node${nodes.indexOf(master)}`);
    }
  } finally {
    for (const n of nodes) await Promise.all([killGroup(n.keepalived), killGroup(n.service)]);
    const names = segmentNames(['a', 'b'], tag);
    await teardown(names.namespaces, names.localIface);
    await rm(dir, { recursive: true, force: true });
  }
  return summarise('keepalived VRRP (defaults)', 'advert_int 1 s (master down after 3 adverts + skew)', gaps, null);
}

// ------------------------------------------------------------------ report

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench:ha needs root (network namespaces)');
  ensureTools();
  const results: ScenarioResult[] = [];
  process.stderr.write(`bench:ha: ${KILLS} kills per scenario\n`);
  // BENCH_HA_ONLY=defaults,fastest,keepalived picks scenarios (all by default).
  const only = (process.env.BENCH_HA_ONLY ?? 'defaults,fastest,keepalived').split(',');
  if (only.includes('defaults')) results.push(await lbappliance('lbappliance (defaults)', DEFAULTS, 'bd', '198.18.44'));
  if (only.includes('fastest')) results.push(await lbappliance('lbappliance (fastest)', FASTEST, 'bf', '198.18.45'));
  if (only.includes('keepalived')) results.push(await keepalived('bk', '198.18.46'));
  const keepalivedVersion = execFileSync('sh', ['-c', 'keepalived --version 2>&1'], { encoding: 'utf8' }).split('\n')[0] ?? '';
  const report = { date: new Date().toISOString(), node: process.version, keepalived: keepalivedVersion.trim(), kills: KILLS, results };
  await writeFile(join(ROOT, 'test', 'bench', 'ha', 'results.json'), `${JSON.stringify(report, null, 2)}\n`);
  const rows = results.map((r) => `| ${r.name} | ${r.settings} | ${r.kills} | ${r.medianMs} | ${r.worstMs} | ${r.bestMs} | ${r.lostConfig ?? 'n/a'} |`);
  const md = `# HA failover benchmark

\`npm run bench:ha\` on ${report.date} (Node ${report.node}, ${report.keepalived}). Each pair runs in two
network namespaces on one Ethernet segment; the VIP is a real address moved with gratuitous
ARP. A client loop opens a new connection to the VIP every 5 ms; the active node is killed
with SIGKILL; the gap runs from the start of the first failed request to the end of the
first successful one. ${KILLS} kills per scenario, alternating nodes. Lost config: kills after
which a write made on the primary just before was missing on either node.

| scenario | settings | kills | median (ms) | worst (ms) | best (ms) | lost config |
|---|---|---|---|---|---|---|
${rows.join('\n')}

Targets: default failover under 2 s, fastest under 1 s, zero lost config.
`;
  await writeFile(join(ROOT, 'test', 'bench', 'ha', 'results.md'), md);
  process.stdout.write(md);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench:ha failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
