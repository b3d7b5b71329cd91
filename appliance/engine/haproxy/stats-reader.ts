// Reads HAProxy's `show stat` into the engine's live status: listener state and open
// connections per VIP, and per real server its health (from HAProxy's own checks), open
// connections, last check and traffic counts. HAProxy's counters start again with every
// new worker; `Monotonic` keeps the appliance's totals rising across reloads and restarts.
import type { CheckResult } from '../types.js';
import { vsIdOfProxy } from './names.js';

/** One real server as HAProxy reports it. */
export interface ServerStat {
  health: 'up' | 'down' | 'unknown';
  /** HAProxy's own status word (`UP`, `DOWN`, `MAINT`, `no check`, ...). */
  status: string;
  connections: number;
  lastCheck: CheckResult | null;
  /** HAProxy's effective weight (the feedback agent's share of the configured one). */
  weight: number;
  /** The agent's last query, when the server has an agent-check: HAProxy keeps no reply line, only its status and `last_agt` (an error or `via agent : up`). */
  agent: { at: string; status: string; lastAgt: string } | null;
  /** Raw cumulative counters of the current worker. */
  requests: number;
  /** Bytes received from the server. */
  bytesIn: number;
  /** Bytes sent to the server. */
  bytesOut: number;
  connects: number;
}

/** One virtual service as HAProxy reports it. */
export interface VipStat {
  listening: boolean;
  connections: number;
  /** Raw cumulative counters of the current worker. */
  responses: Record<'1xx' | '2xx' | '3xx' | '4xx' | '5xx' | 'other', number>;
  bytesIn: number;
  bytesOut: number;
  accepted: number;
  /** Connections refused by the VIP's limit (`dcon`, raw cumulative). */
  refused: number;
  /** Requests and sessions waiting in the backend's queue now. */
  queued: number;
  servers: Map<string, ServerStat>;
}

const num = (v: string | undefined): number => (v ? Number(v) || 0 : 0);

function vip(stats: Map<string, VipStat>, vsId: string): VipStat {
  let v = stats.get(vsId);
  if (!v) {
    v = { listening: false, connections: 0, responses: { '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, other: 0 }, bytesIn: 0, bytesOut: 0, accepted: 0, refused: 0, queued: 0, servers: new Map() };
    stats.set(vsId, v);
  }
  return v;
}

/** What a check saw, in the words the embedded engine's checks use where they match. */
export function checkDetail(row: Record<string, string>): string {
  const status = (row.check_status ?? '').replace(/^\* /, '');
  const text = row.last_chk ?? '';
  if (status.startsWith('L7')) return row.check_code ? `HTTP ${row.check_code}` : row.check_desc || status;
  if (status === 'L4OK' || status === 'L6OK') return 'connected';
  if (status === 'L4CON' && /refused/i.test(text)) return 'ECONNREFUSED';
  if (status.endsWith('TOUT')) return 'timeout';
  return [row.check_desc, text].filter(Boolean).join(': ') || status;
}

function health(row: Record<string, string>): ServerStat['health'] {
  const check = (row.check_status ?? '').replace(/^\* /, '');
  const status = row.status ?? '';
  // The feedback agent said down (HAProxy writes `DOWN (agent)`), whatever the checks say.
  if (status.startsWith('DOWN') && /agent/i.test(status)) return 'down';
  // No check configured, or none finished yet.
  if (!check || check === 'INI') return 'unknown';
  if (status.startsWith('UP') || status.startsWith('NOLB') || status.startsWith('DRAIN')) return 'up';
  if (status.startsWith('DOWN')) return 'down';
  // In maintenance (halt) the verdict of the last check still tells the health.
  return /OK/.test(check) ? 'up' : 'down';
}

/** Per-check memory: when a new result was first seen, so `lastCheck.at` moves with each check. */
export class CheckClock {
  readonly #seen = new Map<string, { signature: string; at: string }>();

  /** The last check of a server, with the time this result was first read. */
  lastCheck(key: string, row: Record<string, string>): { result: CheckResult | null; fresh: boolean } {
    const status = (row.check_status ?? '').replace(/^\* /, '');
    if (!status || status === 'INI') return { result: null, fresh: false };
    const signature = [status, row.check_code, row.check_duration, row.last_chk].join('|');
    const prev = this.#seen.get(key);
    const fresh = prev?.signature !== signature;
    const at = fresh ? new Date().toISOString() : (prev as { at: string }).at;
    if (fresh) this.#seen.set(key, { signature, at });
    return { result: { at, ok: /OK/.test(status), durationMs: num(row.check_duration), detail: checkDetail(row) }, fresh };
  }

  readonly #agentSeen = new Map<string, { signature: string; at: string }>();

  /** The agent's last query of a server, with the time it was first read; null without an agent-check. */
  lastAgent(key: string, row: Record<string, string>): ServerStat['agent'] {
    const status = (row.agent_status ?? '').replace(/^\* /, '');
    if (!status || status === 'INI') return null;
    const lastAgt = (row.last_agt ?? '').trim() || (row.agent_desc ?? '').trim();
    const signature = [status, row.agent_duration, lastAgt, row.status, row.weight].join('|');
    const prev = this.#agentSeen.get(key);
    const at = prev?.signature === signature ? prev.at : new Date().toISOString();
    this.#agentSeen.set(key, { signature, at });
    return { at, status, lastAgt };
  }

  /**
   * What the agent asked for as HAProxy shows it, in the agent's own words: the share of
   * `configured` (`25%`), `drain`, `maint`, `down`; or why the query failed (`agent:
   * Connection refused`). HAProxy keeps no reply line, so this is its state, not the line.
   */
  static agentReply(server: ServerStat, configured: number, halted: boolean): string | null {
    const a = server.agent;
    if (!a) return null;
    if (/^L[46]/.test(a.status) && !a.status.endsWith('OK')) return `agent: ${a.lastAgt || a.status}`;
    const words: string[] = [];
    if (configured > 0) words.push(`${Math.floor((server.weight * 100) / configured)}%`);
    if (server.status.startsWith('DRAIN')) words.push('drain');
    if (server.status.startsWith('MAINT') && !halted) words.push('maint');
    if (/^DOWN.*agent/i.test(server.status)) words.push('down');
    return words.join(' ');
  }

  /** Forgets servers no longer present. */
  retain(keys: Set<string>): void {
    for (const k of this.#seen.keys()) if (!keys.has(k)) this.#seen.delete(k);
    for (const k of this.#agentSeen.keys()) if (!keys.has(k)) this.#agentSeen.delete(k);
  }
}

/** Folds `show stat` rows into per-VIP stats keyed by virtual service id. */
export function readStats(rows: Record<string, string>[], clock: CheckClock): { vips: Map<string, VipStat>; freshChecks: { vsId: string; rsId: string; result: CheckResult }[] } {
  const vips = new Map<string, VipStat>();
  const freshChecks: { vsId: string; rsId: string; result: CheckResult }[] = [];
  const keys = new Set<string>();
  for (const row of rows) {
    const proxy = row.pxname ?? '';
    const vsId = vsIdOfProxy(proxy);
    if (!vsId) continue;
    const sv = row.svname ?? '';
    if (proxy.startsWith('fe_') && sv === 'FRONTEND') {
      const v = vip(vips, vsId);
      v.listening = row.status === 'OPEN';
      v.connections = num(row.scur);
      v.responses = { '1xx': num(row.hrsp_1xx), '2xx': num(row.hrsp_2xx), '3xx': num(row.hrsp_3xx), '4xx': num(row.hrsp_4xx), '5xx': num(row.hrsp_5xx), other: num(row.hrsp_other) };
      v.bytesIn = num(row.bin);
      v.bytesOut = num(row.bout);
      v.accepted = num(row.conn_tot) || num(row.stot);
      v.refused = num(row.dcon);
    } else if (proxy.startsWith('be_') && sv === 'BACKEND') {
      vip(vips, vsId).queued = num(row.qcur);
    } else if (proxy.startsWith('be_') && sv !== 'BACKEND') {
      const key = `${vsId}/${sv}`;
      keys.add(key);
      const { result, fresh } = clock.lastCheck(key, row);
      if (fresh && result) freshChecks.push({ vsId, rsId: sv, result });
      vip(vips, vsId).servers.set(sv, {
        health: health(row),
        status: row.status ?? '',
        connections: num(row.scur),
        lastCheck: result,
        weight: num(row.weight),
        agent: clock.lastAgent(key, row),
        requests: num(row.stot),
        bytesIn: num(row.bout),
        bytesOut: num(row.bin),
        connects: num(row.connect),
      });
    }
  }
  clock.retain(keys);
  return { vips, freshChecks };
}

/** A counter that keeps rising when its source starts again from zero (a new worker). */
export class Monotonic {
  #last = 0;
  #base = 0;

  /** The source's value at the last reading. */
  get last(): number {
    return this.#last;
  }

  /** The running total given the source's current value. */
  total(raw: number): number {
    if (raw < this.#last) this.#base += this.#last;
    this.#last = raw;
    return this.#base + raw;
  }
}
