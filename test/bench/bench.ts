// `npm run bench`: the same workloads, in one run on this machine, directly to the backend
// and through lbappliance (embedded engine), HAProxy and nginx, each reported as a ratio to
// HAProxy. Writes test/bench/results.json and test/bench/results.md. Workloads run target
// after target for each workload, so a neighbour's load shifts all of them alike.
import { chmod, mkdtemp, mkdir, open, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
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
type Target = 'direct' | 'lbappliance' | 'lbappliance2' | 'haproxy' | 'nginx' | 'lbhaproxy';
const TARGETS: Target[] = ['direct', 'haproxy', 'nginx', 'lbappliance', 'lbappliance2', 'lbhaproxy'];

function medianOf(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/** The median over rounds of the per-round ratio: a neighbour's burst hits runs of one round alike. */
function roundRatio(a: LoadResult[], b: LoadResult[]): number {
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
    procs.push(await startProgram(dir, 'proxy nginx', 'nginx', ['-c', join(dir, 'proxy.conf'), '-p', dir], proxyNginxConf(dir), 'proxy.conf'));
    const deploy = async (apiHost: string, vipHost: string, workers: number, engine: 'embedded' | 'haproxy' = 'embedded') => {
      const app = await startTestAppliance({ engine, host: apiHost, env: { LBAPPLIANCE_ENGINE_WORKERS: String(workers) } });
      procs.push({ child: app.process, stop: () => app.dispose() });
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
    await deploy('127.0.90.1', T.lbappliance, 1);
    await deploy('127.0.90.2', T.lbappliance2, 2);
    // The same VIPs carried by the HAProxy engine, against the hand-written HAProxy above.
    await deploy('127.0.90.3', T.lbhaproxy, 1, 'haproxy');

    const results = {
      keepAlive: {} as Record<Target, LoadResult>,
      newConnections: {} as Record<Target, LoadResult>,
      h2: {} as Record<Target, LoadResult>,
      tcpBulk: {} as Record<Target, { mbps: number }>,
      latencyAtHalfRate: {} as Record<Target, LoadResult>,
    };
    for (const t of TARGETS) await wrk(httpUrl(t), 1, CONNECTIONS); // warm up pools and JIT
    const rounds: Record<'ka' | 'nc', Record<Target, LoadResult[]>> = { ka: {} as Record<Target, LoadResult[]>, nc: {} as Record<Target, LoadResult[]> };
    for (let r = 1; r <= ROUNDS; r++) {
      for (const t of TARGETS) {
        log(`HTTP/1.1 keep-alive via ${t} (round ${r}/${ROUNDS})`);
        (rounds.ka[t] ??= []).push(await wrk(httpUrl(t), SECONDS, CONNECTIONS));
      }
    }
    for (let r = 1; r <= ROUNDS; r++) {
      for (const t of TARGETS) {
        log(`new connections via ${t} (round ${r}/${ROUNDS})`);
        (rounds.nc[t] ??= []).push(await wrk(httpUrl(t), SECONDS, CONNECTIONS, true));
      }
    }
    for (const t of TARGETS) {
      results.keepAlive[t] = median(rounds.ka[t]);
      results.newConnections[t] = median(rounds.nc[t]);
    }
    for (const t of TARGETS) {
      log(`TLS + h2 via ${t}`);
      results.h2[t] = await h2load(tlsUrl(t), SECONDS, CONNECTIONS, 10);
    }
    // One download per target per round, target after target; the median round counts.
    const bulkRounds = {} as Record<Target, LoadResult[]>;
    for (let r = 1; r <= ROUNDS; r++) {
      for (const t of TARGETS) {
        log(`TCP bulk 512 MiB via ${t} (round ${r}/${ROUNDS})`);
        const run = await download(bulkUrl(t));
        if (run.bytes !== BULK_BYTES) throw new Error(`bulk via ${t} moved ${run.bytes} bytes, not ${BULK_BYTES}`);
        (bulkRounds[t] ??= []).push({ rps: run.mbps });
      }
    }
    for (const t of TARGETS) results.tcpBulk[t] = { mbps: median(bulkRounds[t]).rps };
    const rate = Math.round(results.keepAlive.haproxy.rps / 2);
    for (const t of TARGETS) {
      log(`latency at ${rate} req/s (half HAProxy's keep-alive peak) via ${t}`);
      results.latencyAtHalfRate[t] = await heyAtRate(httpUrl(t), SECONDS, CONNECTIONS, rate);
    }

    const ratio = (a: number | undefined, b: number | undefined) => (a && b ? Math.round((a / b) * 100) / 100 : null);
    const ka = results.keepAlive;
    const lat = results.latencyAtHalfRate;
    const bulk = results.tcpBulk;
    const nc = results.newConnections;
    const h2r = results.h2;
    const summary = {
      keepAliveRatio: roundRatio(rounds.ka.lbappliance, rounds.ka.haproxy),
      keepAliveRatio2Workers: roundRatio(rounds.ka.lbappliance2, rounds.ka.haproxy),
      newConnectionsRatio2Workers: roundRatio(rounds.nc.lbappliance2, rounds.nc.haproxy),
      h2Ratio2Workers: ratio(h2r.lbappliance2.rps, h2r.haproxy.rps),
      tcpBulkRatio2Workers: roundRatio(bulkRounds.lbappliance2, bulkRounds.haproxy),
      addedP99MsAtHalfRate2Workers: Math.round(((lat.lbappliance2.p99Ms ?? NaN) - (lat.direct.p99Ms ?? NaN)) * 100) / 100,
      newConnectionsRatio: roundRatio(rounds.nc.lbappliance, rounds.nc.haproxy),
      h2Ratio: ratio(h2r.lbappliance.rps, h2r.haproxy.rps),
      tcpBulkRatio: roundRatio(bulkRounds.lbappliance, bulkRounds.haproxy),
      addedP99MsAtHalfRate: Math.round(((lat.lbappliance.p99Ms ?? NaN) - (lat.direct.p99Ms ?? NaN)) * 100) / 100,
      haproxyAddedP99MsAtHalfRate: Math.round(((lat.haproxy.p99Ms ?? NaN) - (lat.direct.p99Ms ?? NaN)) * 100) / 100,
      halfRate: rate,
      haproxyEngine: {
        keepAliveRatio: roundRatio(rounds.ka.lbhaproxy, rounds.ka.haproxy),
        newConnectionsRatio: roundRatio(rounds.nc.lbhaproxy, rounds.nc.haproxy),
        h2Ratio: ratio(h2r.lbhaproxy.rps, h2r.haproxy.rps),
        tcpBulkRatio: roundRatio(bulkRounds.lbhaproxy, bulkRounds.haproxy),
        addedP99MsOverHaproxyAtHalfRate: Math.round(((lat.lbhaproxy.p99Ms ?? NaN) - (lat.haproxy.p99Ms ?? NaN)) * 100) / 100,
      },
    };
    const targets = { keepAlive: '>= 0.5', tcpBulk: '>= 0.8', addedP99Ms: '< 1', haproxyEngine: { keepAlive: '>= 0.95', tcpBulk: '>= 0.95' } };
    const report = {
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
      versions: { haproxy: version('haproxy', ['-v']), nginx: version('nginx', ['-v']), wrk: version('wrk', ['-v']), h2load: version('h2load', ['--version']) },
      settings: { seconds: SECONDS, rounds: ROUNDS, connections: CONNECTIONS, h2StreamsPerConnection: 10, bulkBytes: BULK_BYTES },
      rounds,
      results,
      summary,
      targets,
    };
    await writeFile(join(ROOT, 'test', 'bench', 'results.json'), `${JSON.stringify(report, null, 2)}\n`);
    const f = (n: number | undefined, d = 0) => (n === undefined || Number.isNaN(n) ? '-' : n.toFixed(d));
    const rows: string[] = [
      '| workload | direct | HAProxy | nginx | lbappliance | lbappliance / HAProxy | lbappliance, 2 workers | 2 workers / HAProxy |',
      '|---|---|---|---|---|---|---|---|',
      `| HTTP/1.1 keep-alive, req/s (wrk -c${CONNECTIONS}, median of ${ROUNDS}) | ${f(ka.direct.rps)} | ${f(ka.haproxy.rps)} | ${f(ka.nginx.rps)} | ${f(ka.lbappliance.rps)} | ${summary.keepAliveRatio} | ${f(ka.lbappliance2.rps)} | ${summary.keepAliveRatio2Workers} |`,
      `| keep-alive p50 / p99 latency, ms | ${f(ka.direct.p50Ms, 2)} / ${f(ka.direct.p99Ms, 2)} | ${f(ka.haproxy.p50Ms, 2)} / ${f(ka.haproxy.p99Ms, 2)} | ${f(ka.nginx.p50Ms, 2)} / ${f(ka.nginx.p99Ms, 2)} | ${f(ka.lbappliance.p50Ms, 2)} / ${f(ka.lbappliance.p99Ms, 2)} | | ${f(ka.lbappliance2.p50Ms, 2)} / ${f(ka.lbappliance2.p99Ms, 2)} | |`,
      `| new connections, conn/s (median of ${ROUNDS}) | ${f(nc.direct.rps)} | ${f(nc.haproxy.rps)} | ${f(nc.nginx.rps)} | ${f(nc.lbappliance.rps)} | ${summary.newConnectionsRatio} | ${f(nc.lbappliance2.rps)} | ${summary.newConnectionsRatio2Workers} |`,
      `| TLS + h2, req/s (h2load -c${CONNECTIONS} -m10) | ${f(h2r.direct.rps)} | ${f(h2r.haproxy.rps)} | ${f(h2r.nginx.rps)} | ${f(h2r.lbappliance.rps)} | ${summary.h2Ratio} | ${f(h2r.lbappliance2.rps)} | ${summary.h2Ratio2Workers} |`,
      `| TCP bulk 512 MiB, MB/s (median of ${ROUNDS}) | ${f(bulk.direct.mbps)} | ${f(bulk.haproxy.mbps)} | ${f(bulk.nginx.mbps)} | ${f(bulk.lbappliance.mbps)} | ${summary.tcpBulkRatio} | ${f(bulk.lbappliance2.mbps)} | ${summary.tcpBulkRatio2Workers} |`,
      `| p99 at ${rate} req/s (hey), ms | ${f(lat.direct.p99Ms, 2)} | ${f(lat.haproxy.p99Ms, 2)} | ${f(lat.nginx.p99Ms, 2)} | ${f(lat.lbappliance.p99Ms, 2)} | added ${summary.addedP99MsAtHalfRate} ms | ${f(lat.lbappliance2.p99Ms, 2)} | added ${summary.addedP99MsAtHalfRate2Workers} ms |`,
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
    const md = `# Benchmark (${report.date})\n\n${report.machine.cpus} CPUs, ${report.machine.model}, node ${report.machine.node}; ${report.versions.haproxy}; ${report.versions.nginx}. Each run ${SECONDS} s; wrk, h2load, hey and curl run on the same 2 CPUs as the proxies and the backend nginx. HAProxy and nginx use their stock threading (one thread or worker per CPU); "lbappliance" is the default engine (one process), "2 workers" is LBAPPLIANCE_ENGINE_WORKERS=2.\n\n${rows.join('\n')}\n\nThroughput rows show the median round; their ratios are the median of the per-round ratios (runs of one round are seconds apart, so a neighbour's load hits them alike).\n\nTargets: keep-alive >= 0.5x HAProxy, TCP bulk >= 0.8x, added p99 < 1 ms at half HAProxy's peak.\n\n## The HAProxy engine\n\nThe same three VIPs through \`lbappliance serve --engine haproxy\` (Debian's HAProxy, configured by the appliance) against HAProxy with the hand-written configuration above, in the same run. Targets: keep-alive and TCP bulk >= 0.95x.\n\n${heRows.join('\n')}\n`;
    await writeFile(join(ROOT, 'test', 'bench', 'results.md'), md);
    process.stdout.write(`${md}\n`);
  } finally {
    for (const p of procs.reverse()) await p.stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
