// The engine half of the scale benchmark: a configuration of `vips` VIPs (one real server
// each) restored in one revision, then revisions that change one real server's weight, timed
// as the client sees the write and as the engine reports its apply (the appliance's
// "revision applied" log line, applyMs). The writes go one after the other with nothing
// between them: a metrics scrape after each (as this bench did until 2026-12-04) put 85 ms
// between two writes at 1000 VIPs and 3 ms at 10, and an engine that waits 85 ms applies
// slower whatever its size (worker processes and CPUs asleep: 10 VIPs written 85 ms apart
// apply in 0.9 ms, against 0.4 ms back to back). The scrape is timed on its own.
import { readFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { ApplianceClient } from '../../../openapi/sdk/index.js';
import type { TestAppliance } from '../../helpers/appliance-process.js';
import { quantile } from './sdk-scale.js';

/** Apply times at one VIP count on one engine. */
export interface EngineRow {
  engine: string;
  vips: number;
  /** The write that creates every VIP at once (PUT /config). */
  restoreMs: number;
  restoreApplyMs: number;
  /** Median over the one-change writes. */
  oneChangeWriteMs: number;
  oneChangeApplyMs: number;
  /** The fastest one-change apply: on a shared machine the median carries other jobs' time slices, the fastest much less. */
  oneChangeApplyMinMs?: number;
  /** GET /metrics after the writes (median of 5): what a Prometheus scrape costs at this size. */
  scrapeMs?: number;
  /** CPU time of the appliance's own process (not HAProxy's, not the workers') over 5 s with nothing asked of it, in % of one core: the status reads and checks that run unasked. */
  idleCpuPercent?: number;
  /** The 1-minute load average when the row finished. */
  load?: number;
}

// Enough writes for a steady median on a shared machine (15 gave medians that moved by half between runs).
const CHANGES = 40;

function hex12(n: number): string {
  return n.toString(16).padStart(12, '0');
}

/** Measures one engine at one VIP count. */
export async function engineScale(app: TestAppliance, engine: string, vips: number, serverNetwork: string, log: (s: string) => void): Promise<EngineRow> {
  // A restore of 1000 VIPs may take longer than the SDK's default 30 s on a loaded machine.
  const client = new ApplianceClient({ endpoint: app.endpoint, username: 'loadbalancer', password: app.password, insecure: true, timeoutMs: 600_000 });
  // The engine's applies, as the appliance logs them: the next `count` from line `from` of its output.
  const appliedSince = async (from: number, count: number): Promise<number[]> => {
    for (let waited = 0; ; waited += 10) {
      const ms = app.output
        .slice(from)
        .filter((line) => line.includes('"revision applied"'))
        .map((line) => (JSON.parse(line.slice(line.indexOf('{'))) as { applyMs: number }).applyMs);
      if (ms.length >= count) return ms.slice(0, count);
      if (waited > 5000) throw new Error(`${ms.length} "revision applied" lines in the appliance's log, ${count} expected`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  const virtualServices: Record<string, unknown> = {};
  const realServers: Record<string, unknown> = {};
  for (let i = 0; i < vips; i++) {
    virtualServices[`vs-${hex12(i + 1)}`] = { label: `E-${i}`, ipAddress: `127.0.225.${1 + (i % 250)}`, ports: [8200 + Math.floor(i / 250)], protocol: 'http' };
    realServers[`rs-${hex12(i + 1)}`] = { label: `R-${i}`, address: `${serverNetwork}.${1 + (i % 3)}`, port: 9000, virtualServiceId: `vs-${hex12(i + 1)}` };
  }
  let t = performance.now();
  let from = app.output.length;
  await client.replaceConfig({ virtualServices, realServers, certificates: {} } as never);
  const restoreMs = Math.round(performance.now() - t);
  const [restoreApplyMs = NaN] = await appliedSince(from, 1);
  const writes: number[] = [];
  const applies: number[] = [];
  const target = `rs-${hex12(Math.ceil(vips / 2))}`;
  const vs = `vs-${hex12(Math.ceil(vips / 2))}`;
  from = app.output.length;
  for (let k = 0; k < CHANGES; k++) {
    t = performance.now();
    await client.updateRealServer(vs, target, { weight: 50 + k });
    writes.push(performance.now() - t);
  }
  applies.push(...(await appliedSince(from, CHANGES)));
  const scrapes: number[] = [];
  for (let k = 0; k < 5; k++) {
    t = performance.now();
    await client.getMetrics();
    scrapes.push(performance.now() - t);
  }
  scrapes.sort((a, b) => a - b);
  // Idle cost: the appliance process's user and system time over 5 s with no request made.
  const cpuSeconds = async (): Promise<number> => {
    const fields = (await readFile(`/proc/${app.process.pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  };
  const cpu0 = await cpuSeconds();
  const idleStarted = performance.now();
  await new Promise((resolve) => setTimeout(resolve, 5000));
  const idleCpuPercent = Math.round(((await cpuSeconds()) - cpu0) / ((performance.now() - idleStarted) / 1000) * 1000) / 10;
  writes.sort((a, b) => a - b);
  applies.sort((a, b) => a - b);
  const row: EngineRow = {
    engine,
    vips,
    restoreMs,
    restoreApplyMs,
    oneChangeWriteMs: Math.round(quantile(writes, 0.5) * 10) / 10,
    oneChangeApplyMs: Math.round(quantile(applies, 0.5) * 10) / 10,
    oneChangeApplyMinMs: Math.round((applies[0] ?? NaN) * 10) / 10,
    scrapeMs: Math.round(quantile(scrapes, 0.5)),
    idleCpuPercent,
    load: Math.round(loadavg()[0]! * 10) / 10,
  };
  await client.close();
  log(`${engine}, ${vips} VIPs: restore ${restoreMs} ms (apply ${restoreApplyMs} ms); one change: write ${row.oneChangeWriteMs} ms, apply ${row.oneChangeApplyMs} ms (fastest ${row.oneChangeApplyMinMs} ms), scrape ${row.scrapeMs} ms, idle ${row.idleCpuPercent}% of a core, load ${row.load}`);
  return row;
}
