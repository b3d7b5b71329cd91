// Messages between the engine and its worker processes (node's IPC channel, JSON).
import type { AgentState, Health } from '../health/health-state.js';
import type { SnapshotDelta } from './snapshot-delta.js';
import type { VipStats } from './data-plane.js';
import type { PersistenceEntry } from '../types.js';

/** Engine to worker. */
export type ToWorker =
  /** A revision as a delta from the one this worker holds (snapshot-delta.ts). */
  | { t: 'apply'; id: number; delta: SnapshotDelta }
  | { t: 'active'; id: number; active: boolean }
  | { t: 'stop'; id: number; graceMs: number }
  | { t: 'counters'; id: number }
  | { t: 'health'; key: string; health: Health }
  | { t: 'agent'; key: string; agent: AgentState }
  | { t: 'persist'; entries: PersistenceEntry[] }
  | { t: 'forget'; virtualServiceId: string; client: string }
  /** The engine's TLS session ticket keys (base64), sent before anything else. */
  | { t: 'ticketKeys'; keys: string };

/** Counter values of one worker: metric name -> serialised label set -> value. */
export type CounterValues = Record<string, Record<string, number>>;

/**
 * A worker's VIP statistics as a change from the ones it sent before: the VIPs whose counts or
 * listener state changed, and the ones it no longer carries. With a thousand VIPs a whole copy
 * five times a second from every worker (and with every apply's answer) was the engine
 * process's largest cost of a one-change revision (issue 17).
 */
export interface StatsPatch {
  changed: Record<string, VipStats>;
  removed: string[];
}

/** Worker to engine. */
export type FromWorker =
  | { t: 'ready' }
  | { t: 'done'; id: number; listenersChanged?: number; counters?: CounterValues; stats?: StatsPatch }
  | { t: 'stats'; stats: StatsPatch }
  | { t: 'passive'; key: string; detail: string }
  | { t: 'persist'; entry: PersistenceEntry };
