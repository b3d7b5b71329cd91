// `npm run bench:l4`: every way lbappliance forwards a connection, side by side in one run on
// one veth segment. Network namespaces on one bridge: a client, the appliance and one real
// server (nginx for HTTP, DCMTK storescp for DICOM); the server is set up for direct routing
// by `lbappliance realserver --apply` itself. Rows: direct (client to server, no appliance),
// layer 4 direct-routing, nat and snat (the kernel plane), the layer 7 TCP proxy on the
// embedded engine, then on the HAProxy engine (a second appliance process in the same
// namespace, after the first has stopped). Workloads: a 512 MiB download (curl), new
// connections per second (wrk, Connection: close), a DICOM C-STORE of a 120-instance CT study
// (storescu, one association), and the CPU seconds the appliance's namespace spent per GB of
// the download (every process in it: the appliance, HAProxy). Writes
// test/bench/results-l4.json and test/bench/results-l4.md.
//
// Addresses (198.19.10-13.x) and names (l4b-bn-*) are this bench's own.
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateStudy } from '../../../examples/backends/dicom/study-generator.js';
import type { ApplianceClient } from '../../../openapi/sdk/index.js';
import { startTestAppliance, type TestAppliance } from '../../helpers/appliance-process.js';
import { addNamespaces, buildLan, deleteNamespaces, ip, link, nsExec, type Lan } from '../../helpers/netns-lan.js';
import { LBAPPLIANCE_BIN, ROOT } from '../../helpers/paths.js';
import { needProgram } from '../../helpers/programs.js';

const BULK_BYTES = 512 * 1024 * 1024;
const NEWCONN_SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const NEWCONN_CONNECTIONS = 32;
const STUDY_SLICES = 120;
const CLK_TCK = 100;
/** Rounds of the download and of the new-connections run per row (the median is reported). */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

const TAG = 'l4b-bn';
const SERVER_NET = '198.19.10';
const NAT_NET = '198.19.11';
const DR_NET = '198.19.12';
const SERVER = `${SERVER_NET}.11`;
const APP_SERVER_SIDE = `${SERVER_NET}.1`;
const MGMT_APP = '198.19.13.1';
/** The server's second address, reached only through the appliance's namespace as a plain router. */
const ROUTED_NET = '198.19.14';
const ROUTED_SERVER = `${ROUTED_NET}.11`;
/** The server's third address: the client's packets reach it through the appliance's namespace, its replies go straight back (the path of direct routing, without the VIP). */
const HALF_ROUTED_NET = '198.19.15';
const HALF_ROUTED_SERVER = `${HALF_ROUTED_NET}.11`;
const MGMT_ROOT_IFACE = 'l4b-bn-h';

/** One row of the table: how the client reaches the server. */
interface Row {
  key: 'direct' | 'routed' | 'halfRouted' | 'dr' | 'nat' | 'snat' | 'l7Embedded' | 'l7Haproxy';
  name: string;
  address: string;
}

interface RowResult {
  bulkMBps: number;
  bulkSeconds: number;
  applianceCpuSecondsPerGB: number | null;
  newConnectionsPerSecond: number;
  newConnectionErrors: number;
  dicomSeconds: number;
  dicomMBps: number;
  dicomInstancesStored: number;
}

async function must(ns: string, cmd: string, args: string[], timeoutMs = 600_000): Promise<string> {
  const r = await nsExec(ns, cmd, args, { timeoutMs });
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} in ${ns} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** CPU seconds (user + system) of every process in a namespace so far. */
async function namespaceCpuSeconds(ns: string): Promise<number> {
  const pids = (await ip('netns', 'pids', ns)).split('\n').filter(Boolean);
  let ticks = 0;
  for (const pid of pids) {
    const stat = await import('node:fs/promises').then((fs) => fs.readFile(`/proc/${pid}/stat`, 'utf8')).catch(() => null);
    if (!stat) continue;
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  }
  return ticks / CLK_TCK;
}

async function bulk(lan: Lan, address: string, appNs: string | null): Promise<{ mbps: number; seconds: number; cpuPerGB: number | null }> {
  const cpuBefore = appNs ? await namespaceCpuSeconds(appNs) : 0;
  const out = await must(lan.hosts.client!.ns, 'curl', ['-s', '-o', '/dev/null', '-w', '%{speed_download} %{size_download} %{time_total}', `http://${address}/big`]);
  const cpuAfter = appNs ? await namespaceCpuSeconds(appNs) : 0;
  const [speed, size, seconds] = out.trim().split(' ').map(Number) as [number, number, number];
  if (size !== BULK_BYTES) throw new Error(`download through ${address} got ${size} bytes, not ${BULK_BYTES}`);
  return { mbps: speed / 1e6, seconds, cpuPerGB: appNs ? (cpuAfter - cpuBefore) / (size / 1e9) : null };
}

async function newConnections(lan: Lan, address: string): Promise<{ rps: number; errors: number }> {
  const out = await must(lan.hosts.client!.ns, 'wrk', ['-t1', `-c${NEWCONN_CONNECTIONS}`, `-d${NEWCONN_SECONDS}s`, '-H', 'Connection: close', `http://${address}/small`]);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  return { rps, errors: non2xx + (sock ? Number(sock[1]) + Number(sock[3]) + Number(sock[4]) : 0) };
}

async function dicomStore(lan: Lan, address: string, files: string[], bytes: number, receivedDir: string): Promise<{ seconds: number; mbps: number; stored: number }> {
  await rm(receivedDir, { recursive: true, force: true });
  await import('node:fs/promises').then((fs) => fs.mkdir(receivedDir, { recursive: true }));
  const started = performance.now();
  await must(lan.hosts.client!.ns, 'storescu', ['-aet', 'MODALITY', '-aec', 'PACS', address, '104', ...files]);
  const seconds = (performance.now() - started) / 1000;
  const stored = (await import('node:fs/promises').then((fs) => fs.readdir(receivedDir))).length;
  return { seconds, mbps: bytes / 1e6 / seconds, stored };
}

async function main(): Promise<void> {
  for (const p of ['ip', 'nft', 'curl', 'wrk', 'nginx', 'storescu', 'storescp', 'dump2dcm', 'haproxy']) needProgram(p);
  const dir = await mkdtemp(join(tmpdir(), 'lbappliance-bench-l4-'));
  const appNs = `${TAG}-appliance`;
  let lan: Lan | null = null;
  const apps: TestAppliance[] = [];
  const background: Array<{ kill(signal?: NodeJS.Signals): boolean }> = [];
  try {
    // The study and the files nginx serves.
    const study = await generateStudy({ dir: join(dir, 'study'), slices: STUDY_SLICES, size: 512, seed: 14 });
    const files = study.files.map((f) => f.path);
    const studyBytes = study.totalBytes;
    const www = join(dir, 'www');
    await import('node:fs/promises').then((fs) => fs.mkdir(www));
    const big = await open(join(www, 'big'), 'w');
    await big.truncate(BULK_BYTES);
    await big.close();
    await writeFile(join(www, 'small'), 'ok\n');

    await deleteNamespaces([appNs]);
    await ip('link', 'del', MGMT_ROOT_IFACE).catch(() => undefined);
    lan = await buildLan(TAG, SERVER_NET, [
      { name: 'client', octet: 254 },
      { name: 'appliance', octet: 1 },
      { name: 'server', octet: 11 },
    ]);
    const c = lan.hosts.client!;
    const a = lan.hosts.appliance!;
    const s = lan.hosts.server!;
    for (const net of [NAT_NET, DR_NET]) {
      await ip('-n', c.ns, 'addr', 'add', `${net}.254/24`, 'dev', c.iface);
      await ip('-n', a.ns, 'addr', 'add', `${net}.1/24`, 'dev', a.iface);
    }
    await link({ ns: null, iface: MGMT_ROOT_IFACE, cidr: '198.19.13.254/24' }, { ns: a.ns, iface: 'l4bbm', cidr: `${MGMT_APP}/24` });
    const VIP = { dr: `${DR_NET}.100`, nat: `${NAT_NET}.100`, snat: `${NAT_NET}.101`, l7Embedded: `${NAT_NET}.102`, l7Haproxy: `${NAT_NET}.103` };
    for (const v of Object.values(VIP)) await ip('-n', a.ns, 'addr', 'add', `${v}/32`, 'dev', a.iface);
    // The server: nat replies via the appliance, DR replies straight to the client, and the
    // DR VIP accepted on lo without answering ARP for it (as the guides and docs/layer4.md say).
    await ip('-n', s.ns, 'route', 'add', `${NAT_NET}.0/24`, 'via', APP_SERVER_SIDE);
    await ip('-n', s.ns, 'route', 'add', `${DR_NET}.0/24`, 'dev', s.iface);
    await must(s.ns, process.execPath, [LBAPPLIANCE_BIN, 'realserver', '--vip', VIP.dr, '--interface', s.iface, '--apply']);
    // The routed row: the same two hops as nat (client -> appliance -> server and back), with the
    // appliance's namespace only forwarding (its connection tracking on, as the nat tables load it;
    // no VIP and no rule of ours): what the extra hop itself costs on this kernel.
    await ip('-n', s.ns, 'addr', 'add', `${ROUTED_SERVER}/32`, 'dev', 'lo');
    await ip('-n', a.ns, 'route', 'add', `${ROUTED_SERVER}/32`, 'via', SERVER);
    await ip('-n', c.ns, 'route', 'add', `${ROUTED_NET}.0/24`, 'via', `${NAT_NET}.1`, 'src', `${NAT_NET}.254`);
    await must(a.ns, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    // The half-routed row: DR's path without the VIP. The client's packets to the server go
    // through the appliance's namespace; the server answers the client's DR-side address on the
    // link, as a DR real server does. What direct routing can reach on this kernel.
    await ip('-n', s.ns, 'addr', 'add', `${HALF_ROUTED_SERVER}/32`, 'dev', 'lo');
    await ip('-n', a.ns, 'route', 'add', `${HALF_ROUTED_SERVER}/32`, 'via', SERVER);
    await ip('-n', c.ns, 'route', 'add', `${HALF_ROUTED_NET}.0/24`, 'via', `${DR_NET}.1`, 'src', `${DR_NET}.254`);
    // nginx and storescp on the server.
    const nginxConf = join(dir, 'nginx.conf');
    await writeFile(
      nginxConf,
      `user root;\nworker_processes 1;\npid ${dir}/nginx.pid;\nerror_log ${dir}/nginx-error.log;\nevents { worker_connections 4096; }\nhttp {\n  access_log off;\n  sendfile on;\n  keepalive_requests 100000;\n  server { listen 80 reuseport backlog=4096; root ${www}; }\n}\n`,
    );
    background.push(lan.background('server', 'nginx', ['-c', nginxConf, '-g', 'daemon off;']));
    const received = join(dir, 'received');
    await import('node:fs/promises').then((fs) => fs.mkdir(received));
    background.push(lan.background('server', 'storescp', ['--fork', '-aet', 'PACS', '-od', received, '104']));
    await waitFor(async () => (await nsExec(c.ns, 'curl', ['-sf', '-o', '/dev/null', `http://${SERVER}/small`])).code === 0, 'nginx on the server');

    const l4 = { forwardedFor: false, healthCheck: { type: 'connect', port: 80, interval: 2, timeout: 1, rise: 1, fall: 2 } } as const;
    const setUp = async (client: ApplianceClient, label: string, address: string, body: Record<string, unknown>) => {
      for (const port of [80, 104]) {
        const vs = await client.createVirtualService({ label: `${label}-${port}`, ipAddress: address, ports: [port], ...body } as never);
        await client.createRealServer(vs.id, { label: 'PACS1', address: SERVER, port });
      }
    };
    const results: Partial<Record<Row['key'], RowResult>> = {};
    // Rows measured together take their rounds in turn (bulk round 1 of every row, then round
    // 2...), so that a change of the machine's load during the run falls on every row alike.
    const measure = async (rows: Array<Row & { app: string | null }>) => {
      const bulks = new Map<Row['key'], Array<Awaited<ReturnType<typeof bulk>>>>(rows.map((r) => [r.key, []]));
      const conns = new Map<Row['key'], Array<Awaited<ReturnType<typeof newConnections>>>>(rows.map((r) => [r.key, []]));
      for (let i = 0; i < ROUNDS; i++) {
        for (const row of rows) {
          process.stderr.write(`bench:l4: ${row.name}, download ${i + 1} of ${ROUNDS}\n`);
          bulks.get(row.key)!.push(await bulk(lan!, row.address, row.app));
        }
      }
      for (let i = 0; i < ROUNDS; i++) for (const row of rows) conns.get(row.key)!.push(await newConnections(lan!, row.address));
      for (const row of rows) {
        process.stderr.write(`bench:l4: ${row.name}, DICOM\n`);
        const b = median(bulks.get(row.key)!, (x) => x.mbps);
        const n = median(conns.get(row.key)!, (x) => x.rps);
        const errors = conns.get(row.key)!.reduce((sum, x) => sum + x.errors, 0);
        const d = await dicomStore(lan!, row.address, files, studyBytes, received);
        results[row.key] = {
          bulkMBps: round(b.mbps, 1),
          bulkSeconds: round(b.seconds, 2),
          applianceCpuSecondsPerGB: b.cpuPerGB === null ? null : round(b.cpuPerGB, 3),
          newConnectionsPerSecond: Math.round(n.rps),
          newConnectionErrors: errors,
          dicomSeconds: round(d.seconds, 2),
          dicomMBps: round(d.mbps, 1),
          dicomInstancesStored: d.stored,
        };
      }
    };
    const untilUp = async (client: ApplianceClient) =>
      waitFor(async () => (await client.getOverview()).virtualServices.every((v) => v.listening && v.realServers.every((r) => r.health === 'up')), 'every VIP programmed with its server up');

    // Warm-up: the served file in the page cache, the client's tools loaded.
    await bulk(lan, SERVER, null);
    await newConnections(lan, SERVER);

    // Phase 1: the embedded engine with the kernel plane (layer 4 rows and layer 7 embedded).
    const first = await startTestAppliance({ engine: 'embedded', host: MGMT_APP, wrap: ['ip', 'netns', 'exec', appNs] });
    apps.push(first);
    const c1 = first.client();
    await setUp(c1, 'DR', VIP.dr, { ...l4, protocol: 'tcp', forwarding: 'direct-routing' });
    await setUp(c1, 'NAT', VIP.nat, { ...l4, protocol: 'tcp', forwarding: 'nat' });
    await setUp(c1, 'SNAT', VIP.snat, { ...l4, protocol: 'tcp', forwarding: 'snat' });
    await setUp(c1, 'L7', VIP.l7Embedded, { protocol: 'tcp', healthCheck: l4.healthCheck });
    await untilUp(c1);
    await measure([
      { key: 'direct', name: 'direct', address: SERVER, app: null },
      { key: 'routed', name: 'routed through the appliance namespace', address: ROUTED_SERVER, app: appNs },
      { key: 'halfRouted', name: 'half-routed: requests through the appliance namespace, replies direct', address: HALF_ROUTED_SERVER, app: appNs },
      { key: 'dr', name: 'layer 4 direct routing', address: VIP.dr, app: appNs },
      { key: 'nat', name: 'layer 4 nat', address: VIP.nat, app: appNs },
      { key: 'snat', name: 'layer 4 snat', address: VIP.snat, app: appNs },
      { key: 'l7Embedded', name: 'layer 7 TCP proxy, embedded engine', address: VIP.l7Embedded, app: appNs },
    ]);
    await first.dispose();
    apps.pop();

    // Phase 2: the HAProxy engine.
    const second = await startTestAppliance({ engine: 'haproxy', host: MGMT_APP, wrap: ['ip', 'netns', 'exec', appNs] });
    apps.push(second);
    const c2 = second.client();
    await setUp(c2, 'L7', VIP.l7Haproxy, { protocol: 'tcp', healthCheck: l4.healthCheck });
    await untilUp(c2);
    await measure([{ key: 'l7Haproxy', name: 'layer 7 TCP proxy, HAProxy engine', address: VIP.l7Haproxy, app: appNs }]);

    await report(results as Record<Row['key'], RowResult>, studyBytes);
  } finally {
    for (const app of apps) await app.dispose().catch(() => undefined);
    for (const b of background) b.kill('SIGTERM');
    await lan?.dispose();
    await ip('link', 'del', MGMT_ROOT_IFACE).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

/** The element with the median value (the lower middle one of an even count). */
function median<T>(items: T[], value: (x: T) => number): T {
  const sorted = [...items].sort((x, y) => value(x) - value(y));
  return sorted[Math.floor((sorted.length - 1) / 2)] as T;
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

async function waitFor(check: () => Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`bench:l4: timed out waiting for ${what}`);
}

async function report(r: Record<Row['key'], RowResult>, studyBytes: number): Promise<void> {
  const ratio = (a: number, b: number) => round(a / b, 2);
  const summary = {
    routedBulkOverDirect: ratio(r.routed.bulkMBps, r.direct.bulkMBps),
    natBulkOverRouted: ratio(r.nat.bulkMBps, r.routed.bulkMBps),
    halfRoutedBulkOverDirect: ratio(r.halfRouted.bulkMBps, r.direct.bulkMBps),
    drBulkOverHalfRouted: ratio(r.dr.bulkMBps, r.halfRouted.bulkMBps),
    snatBulkOverRouted: ratio(r.snat.bulkMBps, r.routed.bulkMBps),
    drBulkOverDirect: ratio(r.dr.bulkMBps, r.direct.bulkMBps),
    natBulkOverDirect: ratio(r.nat.bulkMBps, r.direct.bulkMBps),
    snatBulkOverDirect: ratio(r.snat.bulkMBps, r.direct.bulkMBps),
    layer4AheadOfLayer7Bulk: Math.min(r.dr.bulkMBps, r.nat.bulkMBps, r.snat.bulkMBps) > Math.max(r.l7Embedded.bulkMBps, r.l7Haproxy.bulkMBps),
    layer4AheadOfLayer7NewConnections: Math.min(r.dr.newConnectionsPerSecond, r.nat.newConnectionsPerSecond, r.snat.newConnectionsPerSecond) > Math.max(r.l7Embedded.newConnectionsPerSecond, r.l7Haproxy.newConnectionsPerSecond),
  };
  const targets = { drBulkOverDirect: '>= 0.95', natBulkOverDirect: '>= 0.9', layer4AheadOfLayer7: 'every layer 4 mode ahead of the layer 7 TCP proxy' };
  const json = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
    settings: { rounds: ROUNDS, bulkBytes: BULK_BYTES, newConnectionSeconds: NEWCONN_SECONDS, newConnectionConnections: NEWCONN_CONNECTIONS, studyInstances: STUDY_SLICES, studyBytes },
    results: r,
    summary,
    targets,
  };
  await writeFile(join(ROOT, 'test', 'bench', 'results-l4.json'), `${JSON.stringify(json, null, 2)}\n`);
  const names: Record<Row['key'], string> = {
    direct: 'direct (no appliance)',
    routed: 'routed: plain IP forwarding through the appliance namespace (no VIP)',
    halfRouted: 'half-routed: requests forwarded through the appliance namespace, replies direct (no VIP)',
    dr: 'layer 4 direct-routing',
    nat: 'layer 4 nat',
    snat: 'layer 4 snat',
    l7Embedded: 'layer 7 TCP proxy, embedded engine',
    l7Haproxy: 'layer 7 TCP proxy, HAProxy engine',
  };
  const f = (n: number | null, d = 0) => (n === null ? '-' : n.toFixed(d));
  const rows = (Object.keys(names) as Row['key'][]).map((k) => {
    const x = r[k];
    return `| ${names[k]} | ${f(x.bulkMBps)} | ${k === 'direct' ? '1.00' : ratio(x.bulkMBps, r.direct.bulkMBps).toFixed(2)} | ${f(x.applianceCpuSecondsPerGB, 2)} | ${f(x.newConnectionsPerSecond)}${x.newConnectionErrors ? ` (${x.newConnectionErrors} errors)` : ''} | ${f(x.dicomSeconds, 2)} (${f(x.dicomMBps)} MB/s, ${x.dicomInstancesStored}/${STUDY_SLICES}) |`;
  });
  const md = `# Layer 4 benchmark (${json.date})

${json.machine.cpus} CPUs, ${json.machine.model}, node ${json.machine.node}. One run of \`npm run bench:l4\`: every row on the same veth segment (network namespaces on one bridge: client, appliance, one real server), the client tools (curl, wrk, storescu) and the server (nginx, storescp) on the same CPUs as the appliance. The machine is shared, so single runs vary; compare rows of one run. Measuring starts after a warm-up download. The direct row, the layer 4 rows and the embedded layer 7 row are measured together, taking their rounds in turn (download 1 of each, then download 2...), so that the machine's load changing during the run falls on all of them alike; the layer 4 rows and the embedded layer 7 row share one appliance (embedded engine with the kernel plane). The HAProxy row runs afterwards on a second appliance started in the same namespace after the first stopped.

| path | 512 MiB download, MB/s (median of ${ROUNDS}) | / direct | appliance CPU s per GB | new connections/s (wrk -c${NEWCONN_CONNECTIONS}, Connection: close, ${NEWCONN_SECONDS} s, median of ${ROUNDS}) | DICOM C-STORE, ${STUDY_SLICES} CT instances (${(studyBytes / 1e6).toFixed(0)} MB), s |
|---|---|---|---|---|---|
${rows.join('\n')}

Targets: direct-routing >= 0.95x direct and nat >= 0.9x direct on the download (measured ${summary.drBulkOverDirect} and ${summary.natBulkOverDirect}); every layer 4 mode ahead of the layer 7 TCP proxy (download: ${summary.layer4AheadOfLayer7Bulk ? 'yes' : 'no'}; new connections: ${summary.layer4AheadOfLayer7NewConnections ? 'yes' : 'no'}).

The "routed" row is the floor of every mode whose data crosses the appliance (nat, snat): the same two veth hops through the appliance's namespace with the kernel only forwarding, no VIP and no rule of lbappliance's (connection tracking is on in that namespace, as on any NAT box). nat reaches ${summary.natBulkOverRouted}x of it and snat ${summary.snatBulkOverRouted}x; the routed hop itself reaches ${summary.routedBulkOverDirect}x of direct. The "half-routed" row is direct routing's floor in the same way (the client's packets, for a download mostly its ACKs, through the appliance's namespace; the server's replies straight to the client): it reaches ${summary.halfRoutedBulkOverDirect}x of direct, and direct routing ${summary.drBulkOverHalfRouted}x of it. This kernel is built without nftables flowtables (\`CONFIG_NF_FLOW_TABLE is not set\` in /proc/config.gz), so forwarded flows cannot take the flowtable fast path that skips the forward hooks after the first packets.

"Appliance CPU s per GB" is the user and system CPU time of every process in the appliance's network namespace (the appliance, and HAProxy on its row) during the download, per 10^9 bytes. Layer 4 forwarding runs in the kernel's softirq context, not in a process: on veth it is charged to whichever task sent the packet (mostly the server's nginx and the client's curl), so the layer 4 rows show what the appliance's processes spend (health checks, nothing per packet), not the kernel's forwarding cost.
`;
  await writeFile(join(ROOT, 'test', 'bench', 'results-l4.md'), md);
  process.stdout.write(md);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:l4 failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
