// The engine half of the scale benchmark: a configuration of `vips` VIPs (one real server
// each) restored in one revision, then revisions that change one real server's weight, timed
// as the client sees the write and as the engine reports its apply
// (lbappliance_config_apply_duration_seconds).
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
  const applyMs = async (): Promise<number> => {
    const text = String(await client.getMetrics());
    const m = /^lbappliance_config_apply_duration_seconds\s+([\d.eE+-]+)$/m.exec(text);
    return m ? Math.round(Number(m[1]) * 1000 * 10) / 10 : NaN;
  };
  const virtualServices: Record<string, unknown> = {};
  const realServers: Record<string, unknown> = {};
  for (let i = 0; i < vips; i++) {
    virtualServices[`vs-${hex12(i + 1)}`] = { label: `E-${i}`, ipAddress: `127.0.225.${1 + (i % 250)}`, ports: [8200 + Math.floor(i / 250)], protocol: 'http' };
    realServers[`rs-${hex12(i + 1)}`] = { label: `R-${i}`, address: `${serverNetwork}.${1 + (i % 3)}`, port: 9000, virtualServiceId: `vs-${hex12(i + 1)}` };
  }
  let t = performance.now();
  await client.replaceConfig({ virtualServices, realServers, certificates: {} } as never);
  const restoreMs = Math.round(performance.now() - t);
  const restoreApplyMs = await applyMs();
  const writes: number[] = [];
  const applies: number[] = [];
  const target = `rs-${hex12(Math.ceil(vips / 2))}`;
  const vs = `vs-${hex12(Math.ceil(vips / 2))}`;
  for (let k = 0; k < CHANGES; k++) {
    t = performance.now();
    await client.updateRealServer(vs, target, { weight: 50 + k });
    writes.push(performance.now() - t);
    applies.push(await applyMs());
  }
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
    idleCpuPercent,
    load: Math.round(loadavg()[0]! * 10) / 10,
  };
  await client.close();
  log(`${engine}, ${vips} VIPs: restore ${restoreMs} ms (apply ${restoreApplyMs} ms); one change: write ${row.oneChangeWriteMs} ms, apply ${row.oneChangeApplyMs} ms (fastest ${row.oneChangeApplyMinMs} ms), idle ${row.idleCpuPercent}% of a core, load ${row.load}`);
  return row;
}
