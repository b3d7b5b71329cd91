// `npm run bench`: the same workloads, in one run on this machine, directly to the backend
// and through lbappliance (embedded engine), HAProxy and nginx, each reported as a ratio to
// HAProxy. Writes test/bench/results.json and test/bench/results.md. Workloads run target
// after target for each workload, so a neighbour's load shifts all of them alike; the
// machine's load average is recorded with every run, and a run that started on a busy
// machine (or ran only some workloads) writes test/results/bench-*.{json,md} instead, so
// the committed results only ever come from a quiet machine.
// BENCH_WORKLOADS=h2,ka (ka, nc, h2, bulk, lat) and BENCH_TARGETS pick a part, for profiling
// (BENCH_CPU_PROF=DIR: --cpu-prof for the appliances and their engine workers; BENCH_NODE_ARGS,
// BENCH_LAT_RATES and BENCH_APPLIANCE_LOG: see where they are read).
import { chmod, mkdtemp, mkdir, open, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { generateSelfSigned } from '../../appliance/config/x509-generate.js';
import { startTestAppliance } from '../helpers/appliance-process.js';
import { ROOT } from '../helpers/paths.js';
import { backendNginxConf, haproxyConf, proxyNginxConf, startProgram, TOPOLOGY as T, type Proc } from './competitors.js';
import { download, ensureTools, h2load, heyAtRate, wrk, type LoadResult } from './tools.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
/** Rounds of the throughput workloads; the median round counts (this machine's neighbours are noisy). */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CONNECTIONS = 32;
const BULK_BYTES = 512 * 1024 * 1024;
type Target = 'direct' | 'lbappliance' | 'lbappliance1' | 'haproxy' | 'haproxy1' | 'nginx' | 'lbhaproxy';
const ALL_TARGETS: Target[] = ['direct', 'haproxy', 'haproxy1', 'nginx', 'lbappliance', 'lbappliance1', 'lbhaproxy'];
const TARGETS: Target[] = process.env.BENCH_TARGETS ? ALL_TARGETS.filter((t) => (process.env.BENCH_TARGETS as string).split(',').includes(t)) : ALL_TARGETS;
type Workload = 'ka' | 'nc' | 'h2' | 'bulk' | 'lat';
const ALL_WORKLOADS: Workload[] = ['ka', 'nc', 'h2', 'bulk', 'lat'];
const WORKLOADS: Workload[] = process.env.BENCH_WORKLOADS ? ALL_WORKLOADS.filter((w) => (process.env.BENCH_WORKLOADS as string).split(',').includes(w)) : ALL_WORKLOADS;
/** A 1-minute load average above this at the start (per CPU) means the machine was not quiet. */
const QUIET_LOAD_PER_CPU = Number(process.env.BENCH_QUIET_LOAD ?? 0.5);

/** The machine's load averages (1, 5, 15 minutes), rounded. */
function load(): [number, number, number] {
  return loadavg().map((l) => Math.round(l * 100) / 100) as [number, number, number];
}

/** Load averages seen at the start of each run of a workload: [target, round, 1-min, 5-min, 15-min]. */
const loadSeen: Record<string, [Target, number, number, number, number][]> = {};

/** Runs one measurement, noting the machine's load when it starts. */
async function measured<T>(workload: string, target: Target, round: number, run: () => Promise<T>): Promise<T> {
  (loadSeen[workload] ??= []).push([target, round, ...load()]);
  return run();
}

/** The range of the 1-minute load over a workload's runs, in words. */
function loadRange(workload: string): string {
  const ones = (loadSeen[workload] ?? []).map((r) => r[2]);
  return ones.length ? `${Math.min(...ones).toFixed(2)}-${Math.max(...ones).toFixed(2)}` : '-';
}

function medianOf(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/** The median over rounds of the per-round ratio: a neighbour's burst hits runs of one round alike. */
function roundRatio(a: LoadResult[] | undefined, b: LoadResult[] | undefined): number | null {
  if (!a || !b) return null;
  return Math.round(medianOf(a.map((r, i) => r.rps / (b[i]?.rps ?? NaN))) * 100) / 100;
}

function median(results: LoadResult[]): LoadResult {
  const sorted = [...results].sort((a, b) => a.rps - b.rps);
  return sorted[Math.floor(sorted.length / 2)] as LoadResult;
}

function host(t: Target): string {
  return t === 'direct' ? T.backend : T[t];
}
function httpUrl(t: Target): string {
  return t === 'direct' ? `http://${T.backend}:${T.backendHttp}/` : `http://${host(t)}:${T.httpPort}/`;
}
function tlsUrl(t: Target): string {
  return t === 'direct' ? `https://${T.backend}:${T.backendTls}/` : `https://${host(t)}:${T.tlsPort}/`;
}
function bulkUrl(t: Target): string {
  return t === 'direct' ? `http://${T.backend}:${T.backendHttp}/big.bin` : `http://${host(t)}:${T.tcpPort}/big.bin`;
}

function version(cmd: string, args: string[]): string {
  // Some tools print their version on stderr.
  try {
    const out = execFileSync('sh', ['-c', `${cmd} ${args.join(' ')} 2>&1`], { encoding: 'utf8' });
    return out.split('\n')[0]?.trim() ?? '';
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  ensureTools();
  const startLoad = load();
  const quiet = startLoad[0] <= QUIET_LOAD_PER_CPU * availableParallelism() && WORKLOADS.length === ALL_WORKLOADS.length && TARGETS.length === ALL_TARGETS.length;
  const dir = await mkdtemp(join(tmpdir(), 'lbappliance-bench-'));
  const procs: Proc[] = [];
  const log = (s: string) => process.stderr.write(`bench: ${s}\n`);
  try {
    const cert = await generateSelfSigned({ commonName: 'bench.test', subjectAltNames: ['bench.test'], days: 2, keyType: 'ecdsa-p256' });
    await writeFile(join(dir, 'cert.pem'), cert.certPem);
    await writeFile(join(dir, 'key.pem'), cert.keyPem);
    await writeFile(join(dir, 'haproxy.pem'), cert.certPem + cert.keyPem);
    await mkdir(join(dir, 'www'));
    // A DICOM-sized file for the bulk test, written sparse: the page cache serves it.
    const big = await open(join(dir, 'www', 'big.bin'), 'w');
    await big.truncate(BULK_BYTES);
    await big.close();
    // nginx workers run as an unprivileged user: the file must be readable to them.
    await chmod(dir, 0o755);
    await chmod(join(dir, 'www'), 0o755);
    await chmod(join(dir, 'www', 'big.bin'), 0o644);

    procs.push(await startProgram(dir, 'backend nginx', 'nginx', ['-c', join(dir, 'backend.conf'), '-p', dir], backendNginxConf(dir), 'backend.conf'));
    procs.push(await startProgram(dir, 'haproxy', 'haproxy', ['-db', '-f', join(dir, 'haproxy.cfg')], haproxyConf(dir), 'haproxy.cfg'));
    procs.push(await startProgram(dir, 'haproxy nbthread 1', 'haproxy', ['-db', '-f', join(dir, 'haproxy1.cfg')], haproxyConf(dir, 1), 'haproxy1.cfg'));
    procs.push(await startProgram(dir, 'proxy nginx', 'nginx', ['-c', join(dir, 'proxy.conf'), '-p', dir], proxyNginxConf(dir), 'proxy.conf'));
    const appliances: Array<{ apiHost: string; output: string[] }> = [];
    // workers null: the default (one per core), as `serve` runs without being told.
    const deploy = async (apiHost: string, vipHost: string, workers: number | null, engine: 'embedded' | 'haproxy' = 'embedded') => {
      // BENCH_CPU_PROF=DIR: the appliance and its workers write .cpuprofile files there (on a graceful stop).
      const prof = process.env.BENCH_CPU_PROF;
      // BENCH_NODE_ARGS: more node flags for the appliance and its workers (e.g. --trace-gc).
      const extra = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
      const app = await startTestAppliance({ engine, host: apiHost, args: workers === null ? [] : ['--engine-workers', String(workers)], env: { LBAPPLIANCE_ENGINE_WORKERS: '' }, nodeArgs: [...(prof ? ['--cpu-prof', '--cpu-prof-dir', prof] : []), ...extra] });
      appliances.push({ apiHost, output: app.output });
      procs.push({ child: app.process, stop: async () => (prof ? void (await app.stop()) : app.dispose()) });
      const client = app.client();
      const certificate = await client.createCertificate({ label: 'bench', pem: cert.certPem + cert.keyPem });
      const server = { label: 'nginx', address: T.backend, port: T.backendHttp };
      const http = await client.createVirtualService({ label: 'bench-http', ipAddress: vipHost, ports: [T.httpPort], protocol: 'http', forwardedFor: false, healthCheck: { type: 'none' } });
      await client.createRealServer(http.id, server);
      const h2 = await client.createVirtualService({ label: 'bench-h2', ipAddress: vipHost, ports: [T.tlsPort], protocol: 'http2', certificateId: certificate.id, forwardedFor: false, healthCheck: { type: 'none' } });
      await client.createRealServer(h2.id, server);
      const tcp = await client.createVirtualService({ label: 'bench-tcp', ipAddress: vipHost, ports: [T.tcpPort], protocol: 'tcp', healthCheck: { type: 'none' } });
      await client.createRealServer(tcp.id, server);
      await client.close();
    };
    if (TARGETS.includes('lbappliance')) await deploy('127.0.90.1', T.lbappliance, null);
    if (TARGETS.includes('lbappliance1')) await deploy('127.0.90.2', T.lbappliance1, 1);
    // The same VIPs carried by the HAProxy engine, against the hand-written HAProxy above.
    if (TARGETS.includes('lbhaproxy')) await deploy('127.0.90.3', T.lbhaproxy, null, 'haproxy');

    const results = {
      keepAlive: {} as Record<Target, LoadResult>,
      newConnections: {} as Record<Target, LoadResult>,
      h2: {} as Record<Target, LoadResult>,
      tcpBulk: {} as Record<Target, { mbps: number }>,
      latencyAtHalfRate: {} as Record<Target, LoadResult>,
      latencyAtHalfOwnPeak: {} as Record<Target, LoadResult>,
    };
    for (const t of TARGETS) await wrk(httpUrl(t), 1, CONNECTIONS); // warm up pools and JIT
    const rounds: Record<'ka' | 'nc', Record<Target, LoadResult[]>> = { ka: {} as Record<Target, LoadResult[]>, nc: {} as Record<Target, LoadResult[]> };
    const h2Rounds = {} as Record<Target, LoadResult[]>;
    const bulkRounds = {} as Record<Target, LoadResult[]>;
    const none: LoadResult = { rps: NaN };
    for (let r = 1; r <= ROUNDS && WORKLOADS.includes('ka'); r++) {
      for (const t of TARGETS) {
        log(`HTTP/1.1 keep-alive via ${t} (round ${r}/${ROUNDS}, load ${load()[0]})`);
        (rounds.ka[t] ??= []).push(await measured('ka', t, r, () => wrk(httpUrl(t), SECONDS, CONNECTIONS)));
      }
    }
    for (let r = 1; r <= ROUNDS && WORKLOADS.includes('nc'); r++) {
      for (const t of TARGETS) {
        log(`new connections via ${t} (round ${r}/${ROUNDS}, load ${load()[0]})`);
        (rounds.nc[t] ??= []).push(await measured('nc', t, r, () => wrk(httpUrl(t), SECONDS, CONNECTIONS, true)));
      }
    }
    // TLS + h2 in rounds too: one h2load run per target swung with a neighbour's burst.
    for (let r = 1; r <= ROUNDS && WORKLOADS.includes('h2'); r++) {
      for (const t of TARGETS) {
        log(`TLS + h2 via ${t} (round ${r}/${ROUNDS}, load ${load()[0]})`);
        (h2Rounds[t] ??= []).push(await measured('h2', t, r, () => h2load(tlsUrl(t), SECONDS, CONNECTIONS, 10)));
      }
    }
    for (const t of TARGETS) {
      results.keepAlive[t] = rounds.ka[t] ? median(rounds.ka[t]) : none;
      results.newConnections[t] = rounds.nc[t] ? median(rounds.nc[t]) : none;
      results.h2[t] = h2Rounds[t] ? median(h2Rounds[t]) : none;
    }
    // One download per target per round, target after target; the median round counts.
    for (let r = 1; r <= ROUNDS && WORKLOADS.includes('bulk'); r++) {
      for (const t of TARGETS) {
        log(`TCP bulk 512 MiB via ${t} (round ${r}/${ROUNDS}, load ${load()[0]})`);
        const run = await measured('bulk', t, r, () => download(bulkUrl(t)));
        if (run.bytes !== BULK_BYTES) throw new Error(`bulk via ${t} moved ${run.bytes} bytes, not ${BULK_BYTES}`);
        (bulkRounds[t] ??= []).push({ rps: run.mbps });
      }
    }
    for (const t of TARGETS) results.tcpBulk[t] = { mbps: bulkRounds[t] ? median(bulkRounds[t]).rps : NaN };
    const rate = Math.round(results.keepAlive.haproxy?.rps / 2);
    for (const t of TARGETS) {
      if (!WORKLOADS.includes('lat') || Number.isNaN(rate)) break;
      log(`latency at ${rate} req/s (half HAProxy's keep-alive peak) via ${t} (load ${load()[0]})`);
      results.latencyAtHalfRate[t] = await measured('lat', t, 1, () => heyAtRate(httpUrl(t), SECONDS, CONNECTIONS, rate));
    }
    for (const t of ALL_TARGETS) results.latencyAtHalfRate[t] ??= none;
    // BENCH_LAT_RATES=2000,4000,...: p50/p99 against the offered rate, target after target (a
    // sweep for finding where the tail grows; written to test/results/bench-latency-sweep.md).
    if (process.env.BENCH_LAT_RATES) {
      const sweep: string[] = ['| req/s offered | ' + TARGETS.map((t) => `${t} p50 / p99 ms (achieved req/s)`).join(' | ') + ' |', '|---|' + TARGETS.map(() => '---').join('|') + '|'];
      for (const r of process.env.BENCH_LAT_RATES.split(',').map(Number)) {
        const cells: string[] = [];
        for (const t of TARGETS) {
          const x = await measured('sweep', t, r, () => heyAtRate(httpUrl(t), SECONDS, CONNECTIONS, r));
          log(`sweep ${r} req/s via ${t}: p50 ${x.p50Ms} ms, p99 ${x.p99Ms} ms, ${Math.round(x.rps)} req/s (load ${load()[0]})`);
          cells.push(`${x.p50Ms?.toFixed(2)} / ${x.p99Ms?.toFixed(2)} (${Math.round(x.rps)})`);
        }
        sweep.push(`| ${r} | ${cells.join(' | ')} |`);
      }
      await mkdir(join(ROOT, 'test', 'results'), { recursive: true });
      await writeFile(join(ROOT, 'test', 'results', 'bench-latency-sweep.md'), `${sweep.join('\n')}\n`);
      process.stdout.write(`${sweep.join('\n')}\n`);
    }
    // BENCH_APPLIANCE_LOG=DIR: every appliance's output (e.g. its workers' --trace-gc lines).
    if (process.env.BENCH_APPLIANCE_LOG) {
      await mkdir(process.env.BENCH_APPLIANCE_LOG, { recursive: true });
      for (const a of appliances) await writeFile(join(process.env.BENCH_APPLIANCE_LOG, `${a.apiHost}.log`), `${a.output.join('\n')}\n`);
    }
    // The issue's own measure: half the default embedded engine's keep-alive peak, where it is not
    // saturated (at half HAProxy's peak it runs near its own, and the p99 is its queue). Rounds in
    // turns; the median round's p99 counts (one hey run's p99 swings with a neighbour's burst).
    const ownRate = Math.round(results.keepAlive.lbappliance?.rps / 2);
    const ownRounds = {} as Record<Target, LoadResult[]>;
    for (let r = 1; r <= ROUNDS && WORKLOADS.includes('lat') && !Number.isNaN(ownRate); r++) {
      for (const t of TARGETS) {
        log(`latency at ${ownRate} req/s (half the embedded engine's keep-alive peak) via ${t} (round ${r}/${ROUNDS}, load ${load()[0]})`);
        (ownRounds[t] ??= []).push(await measured('latOwn', t, r, () => heyAtRate(httpUrl(t), SECONDS, CONNECTIONS, ownRate)));
      }
    }
    const p99Median = (runs: LoadResult[] | undefined): LoadResult => (runs ? ([...runs].sort((a, b) => (a.p99Ms ?? NaN) - (b.p99Ms ?? NaN))[Math.floor(runs.length / 2)] as LoadResult) : none);
    const latOwn = {} as Record<Target, LoadResult>;
    for (const t of ALL_TARGETS) latOwn[t] = p99Median(ownRounds[t]);
    results.latencyAtHalfOwnPeak = latOwn;
    for (const t of ALL_TARGETS) {
      results.keepAlive[t] ??= none;
      results.newConnections[t] ??= none;
      results.h2[t] ??= none;
      results.tcpBulk[t] ??= { mbps: NaN };
    }

    const ratio = (a: number | undefined, b: number | undefined) => (a && b ? Math.round((a / b) * 100) / 100 : null);
    const ka = results.keepAlive;
    const lat = results.latencyAtHalfRate;
    const bulk = results.tcpBulk;
    const nc = results.newConnections;
    const h2r = results.h2;
    const addedP99 = (t: Target, over: Target = 'direct') => Math.round(((lat[t].p99Ms ?? NaN) - (lat[over].p99Ms ?? NaN)) * 100) / 100;
    const addedP99Own = (t: Target, over: Target = 'direct') => Math.round(((latOwn[t].p99Ms ?? NaN) - (latOwn[over].p99Ms ?? NaN)) * 100) / 100;
    const workers = availableParallelism();
    const summary = {
      /** The default: the embedded engine with one worker per core. */
      keepAliveRatio: roundRatio(rounds.ka.lbappliance, rounds.ka.haproxy),
      newConnectionsRatio: roundRatio(rounds.nc.lbappliance, rounds.nc.haproxy),
      h2Ratio: roundRatio(h2Rounds.lbappliance, h2Rounds.haproxy),
      tcpBulkRatio: roundRatio(bulkRounds.lbappliance, bulkRounds.haproxy),
      addedP99MsAtHalfRate: addedP99('lbappliance'),
      /** At half its own keep-alive peak (the measure), median round of ${ROUNDS}. */
      addedP99MsAtHalfOwnPeak: addedP99Own('lbappliance'),
      /** Against HAProxy with `nbthread 1`. */
      toHaproxy1Thread: {
        keepAliveRatio: roundRatio(rounds.ka.lbappliance, rounds.ka.haproxy1),
        newConnectionsRatio: roundRatio(rounds.nc.lbappliance, rounds.nc.haproxy1),
        h2Ratio: roundRatio(h2Rounds.lbappliance, h2Rounds.haproxy1),
        tcpBulkRatio: roundRatio(bulkRounds.lbappliance, bulkRounds.haproxy1),
        oneProcess: {
          keepAliveRatio: roundRatio(rounds.ka.lbappliance1, rounds.ka.haproxy1),
          newConnectionsRatio: roundRatio(rounds.nc.lbappliance1, rounds.nc.haproxy1),
          h2Ratio: roundRatio(h2Rounds.lbappliance1, h2Rounds.haproxy1),
          tcpBulkRatio: roundRatio(bulkRounds.lbappliance1, bulkRounds.haproxy1),
        },
      },
      /** `--engine-workers 1`: traffic in the engine's own process. */
      oneProcess: {
        keepAliveRatio: roundRatio(rounds.ka.lbappliance1, rounds.ka.haproxy),
        newConnectionsRatio: roundRatio(rounds.nc.lbappliance1, rounds.nc.haproxy),
        h2Ratio: roundRatio(h2Rounds.lbappliance1, h2Rounds.haproxy),
        tcpBulkRatio: roundRatio(bulkRounds.lbappliance1, bulkRounds.haproxy),
        addedP99MsAtHalfRate: addedP99('lbappliance1'),
        addedP99MsAtHalfOwnPeak: addedP99Own('lbappliance1'),
      },
      halfOwnPeakRate: ownRate,
      haproxyAddedP99MsAtHalfOwnPeak: addedP99Own('haproxy'),
      haproxyAddedP99MsAtHalfRate: addedP99('haproxy'),
      haproxy1ThreadAddedP99MsAtHalfRate: addedP99('haproxy1'),
      halfRate: rate,
      haproxyEngine: {
        keepAliveRatio: roundRatio(rounds.ka.lbhaproxy, rounds.ka.haproxy),
        newConnectionsRatio: roundRatio(rounds.nc.lbhaproxy, rounds.nc.haproxy),
        h2Ratio: roundRatio(h2Rounds.lbhaproxy, h2Rounds.haproxy),
        tcpBulkRatio: roundRatio(bulkRounds.lbhaproxy, bulkRounds.haproxy),
        addedP99MsOverHaproxyAtHalfRate: addedP99('lbhaproxy', 'haproxy'),
      },
    };
    const targets = { keepAlive: '>= 0.7', newConnections: '>= 0.6', h2: '>= 0.5', tcpBulk: '>= 0.8', addedP99MsAtHalfOwnPeak: '< 1', haproxyEngine: { keepAlive: '>= 0.95', tcpBulk: '>= 0.95' } };
    const machineLoad = { atStart: startLoad, atEnd: load(), quietBelow: QUIET_LOAD_PER_CPU * workers, quiet, perRun: loadSeen };
    const report = {
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, load: machineLoad },
      versions: { haproxy: version('haproxy', ['-v']), nginx: version('nginx', ['-v']), wrk: version('wrk', ['-v']), h2load: version('h2load', ['--version']) },
      settings: { seconds: SECONDS, rounds: ROUNDS, connections: CONNECTIONS, h2StreamsPerConnection: 10, bulkBytes: BULK_BYTES, engineWorkers: workers, workloads: WORKLOADS, targets: TARGETS },
      rounds: { ...rounds, h2: h2Rounds, bulk: bulkRounds, latOwn: ownRounds },
      results,
      summary,
      targets,
    };
    // Only a quiet machine's full run becomes the results of record.
    const [jsonOut, mdOut] = quiet ? [join(ROOT, 'test', 'bench', 'results.json'), join(ROOT, 'test', 'bench', 'results.md')] : [join(ROOT, 'test', 'results', 'bench-unquiet.json'), join(ROOT, 'test', 'results', 'bench-unquiet.md')];
    await mkdir(join(ROOT, 'test', 'results'), { recursive: true });
    await writeFile(jsonOut, `${JSON.stringify(report, null, 2)}\n`);
    const f = (n: number | undefined, d = 0) => (n === undefined || Number.isNaN(n) ? '-' : n.toFixed(d));
    const t1 = summary.toHaproxy1Thread;
    const one = summary.oneProcess;
    const rows: string[] = [
      `| workload | direct | HAProxy | HAProxy nbthread 1 | nginx | lbappliance (${workers} workers) | / HAProxy | / HAProxy 1 thread | lbappliance, 1 process | / HAProxy | / HAProxy 1 thread | load (1 min) |`,
      '|---|---|---|---|---|---|---|---|---|---|---|---|',
      `| HTTP/1.1 keep-alive, req/s (wrk -c${CONNECTIONS}, median of ${ROUNDS}) | ${f(ka.direct.rps)} | ${f(ka.haproxy.rps)} | ${f(ka.haproxy1.rps)} | ${f(ka.nginx.rps)} | ${f(ka.lbappliance.rps)} | ${summary.keepAliveRatio} | ${t1.keepAliveRatio} | ${f(ka.lbappliance1.rps)} | ${one.keepAliveRatio} | ${t1.oneProcess.keepAliveRatio} | ${loadRange('ka')} |`,
      `| keep-alive p50 / p99 latency, ms | ${f(ka.direct.p50Ms, 2)} / ${f(ka.direct.p99Ms, 2)} | ${f(ka.haproxy.p50Ms, 2)} / ${f(ka.haproxy.p99Ms, 2)} | ${f(ka.haproxy1.p50Ms, 2)} / ${f(ka.haproxy1.p99Ms, 2)} | ${f(ka.nginx.p50Ms, 2)} / ${f(ka.nginx.p99Ms, 2)} | ${f(ka.lbappliance.p50Ms, 2)} / ${f(ka.lbappliance.p99Ms, 2)} | | | ${f(ka.lbappliance1.p50Ms, 2)} / ${f(ka.lbappliance1.p99Ms, 2)} | | | |`,
      `| new connections, conn/s (median of ${ROUNDS}) | ${f(nc.direct.rps)} | ${f(nc.haproxy.rps)} | ${f(nc.haproxy1.rps)} | ${f(nc.nginx.rps)} | ${f(nc.lbappliance.rps)} | ${summary.newConnectionsRatio} | ${t1.newConnectionsRatio} | ${f(nc.lbappliance1.rps)} | ${one.newConnectionsRatio} | ${t1.oneProcess.newConnectionsRatio} | ${loadRange('nc')} |`,
      `| TLS + h2, req/s (h2load -c${CONNECTIONS} -m10, median of ${ROUNDS}) | ${f(h2r.direct.rps)} | ${f(h2r.haproxy.rps)} | ${f(h2r.haproxy1.rps)} | ${f(h2r.nginx.rps)} | ${f(h2r.lbappliance.rps)} | ${summary.h2Ratio} | ${t1.h2Ratio} | ${f(h2r.lbappliance1.rps)} | ${one.h2Ratio} | ${t1.oneProcess.h2Ratio} | ${loadRange('h2')} |`,
      `| TCP bulk 512 MiB, MB/s (median of ${ROUNDS}) | ${f(bulk.direct.mbps)} | ${f(bulk.haproxy.mbps)} | ${f(bulk.haproxy1.mbps)} | ${f(bulk.nginx.mbps)} | ${f(bulk.lbappliance.mbps)} | ${summary.tcpBulkRatio} | ${t1.tcpBulkRatio} | ${f(bulk.lbappliance1.mbps)} | ${one.tcpBulkRatio} | ${t1.oneProcess.tcpBulkRatio} | ${loadRange('bulk')} |`,
      `| p99 at ${rate} req/s (hey), ms | ${f(lat.direct.p99Ms, 2)} | ${f(lat.haproxy.p99Ms, 2)} | ${f(lat.haproxy1.p99Ms, 2)} | ${f(lat.nginx.p99Ms, 2)} | ${f(lat.lbappliance.p99Ms, 2)} | added ${summary.addedP99MsAtHalfRate} ms | | ${f(lat.lbappliance1.p99Ms, 2)} | added ${one.addedP99MsAtHalfRate} ms | | ${loadRange('lat')} |`,
      `| p99 at ${ownRate} req/s (hey; half the embedded engine's peak; median of ${ROUNDS}), ms | ${f(latOwn.direct.p99Ms, 2)} | ${f(latOwn.haproxy.p99Ms, 2)} | ${f(latOwn.haproxy1.p99Ms, 2)} | ${f(latOwn.nginx.p99Ms, 2)} | ${f(latOwn.lbappliance.p99Ms, 2)} | added ${summary.addedP99MsAtHalfOwnPeak} ms | | ${f(latOwn.lbappliance1.p99Ms, 2)} | added ${one.addedP99MsAtHalfOwnPeak} ms | | ${loadRange('latOwn')} |`,
    ];
    const he = summary.haproxyEngine;
    const heRows: string[] = [
      '| workload | HAProxy, hand-written config | lbappliance --engine haproxy | ratio |',
      '|---|---|---|---|',
      `| HTTP/1.1 keep-alive, req/s (wrk -c${CONNECTIONS}, median of ${ROUNDS}) | ${f(ka.haproxy.rps)} | ${f(ka.lbhaproxy.rps)} | ${he.keepAliveRatio} |`,
      `| keep-alive p50 / p99 latency, ms | ${f(ka.haproxy.p50Ms, 2)} / ${f(ka.haproxy.p99Ms, 2)} | ${f(ka.lbhaproxy.p50Ms, 2)} / ${f(ka.lbhaproxy.p99Ms, 2)} | |`,
      `| new connections, conn/s (median of ${ROUNDS}) | ${f(nc.haproxy.rps)} | ${f(nc.lbhaproxy.rps)} | ${he.newConnectionsRatio} |`,
      `| TLS + h2, req/s (h2load -c${CONNECTIONS} -m10) | ${f(h2r.haproxy.rps)} | ${f(h2r.lbhaproxy.rps)} | ${he.h2Ratio} |`,
      `| TCP bulk 512 MiB, MB/s (median of ${ROUNDS}) | ${f(bulk.haproxy.mbps)} | ${f(bulk.lbhaproxy.mbps)} | ${he.tcpBulkRatio} |`,
      `| p99 at ${rate} req/s (hey), ms | ${f(lat.haproxy.p99Ms, 2)} | ${f(lat.lbhaproxy.p99Ms, 2)} | added ${he.addedP99MsOverHaproxyAtHalfRate} ms |`,
    ];
    const md = `# Benchmark (${report.date})\n\n${report.machine.cpus} CPUs, ${report.machine.model}, node ${report.machine.node}; ${report.versions.haproxy}; ${report.versions.nginx}. Each run ${SECONDS} s; wrk, h2load, hey and curl run on the same 2 CPUs as the proxies and the backend nginx. HAProxy and nginx use their stock threading (one thread or worker per CPU); "HAProxy nbthread 1" is the same configuration with one thread, for a single-threaded comparison. "lbappliance" is the default embedded engine (one worker process per core, ${workers} here); "1 process" is \`--engine-workers 1\`. Machine load (1-minute average) at the start: ${startLoad[0]}, at the end: ${machineLoad.atEnd[0]}; the last column is its range over the workload's runs (the bench itself loads the CPUs; results.json has every run's).\n\n${rows.join('\n')}\n\nThroughput rows show the median round; their ratios are the median of the per-round ratios (runs of one round are seconds apart, so a neighbour's load hits them alike).\n\nTargets (default settings): keep-alive >= 0.7x HAProxy, new connections >= 0.6x, TLS + h2 >= 0.5x, TCP bulk >= 0.8x, added p99 < 1 ms at half the embedded engine's own keep-alive peak (the row above it, at half HAProxy's peak, is kept for comparison with earlier runs).\n\n## The HAProxy engine\n\nThe same three VIPs through \`lbappliance serve --engine haproxy\` (Debian's HAProxy, configured by the appliance) against HAProxy with the hand-written configuration above, in the same run. Targets: keep-alive and TCP bulk >= 0.95x.\n\n${heRows.join('\n')}\n`;
    await writeFile(mdOut, md);
    process.stdout.write(`${md}\n`);
    if (!quiet) log(`not the results of record (load ${startLoad[0]} at the start, quiet below ${machineLoad.quietBelow}; or a partial run): written to ${mdOut}`);
  } finally {
    for (const p of procs.reverse()) await p.stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
