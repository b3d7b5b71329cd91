// Messages between the engine and its worker processes (node's IPC channel, JSON).
import type { AgentState, Health } from '../health/health-state.js';
import type { SnapshotDelta } from './snapshot-delta.js';
import type { VipStats } from './data-plane.js';
import type { PersistenceEntry } from '../types.js';
import type { CounterChange } from './engine-metrics.js';

/** Engine to worker. */
export type ToWorker =
  /** A revision as a delta from the one this worker holds (snapshot-delta.ts). */
  | { t: 'apply'; id: number; delta: SnapshotDelta }
  | { t: 'active'; id: number; active: boolean }
  | { t: 'stop'; id: number; graceMs: number }
  | { t: 'counters'; id: number }
  /** Answered with done and nothing else: whether the worker answers. */
  | { t: 'ping'; id: number }
  | { t: 'health'; key: string; health: Health }
  | { t: 'agent'; key: string; agent: AgentState }
  | { t: 'persist'; entries: PersistenceEntry[] }
  | { t: 'forget'; virtualServiceId: string; client: string }
  /** The engine's TLS session ticket keys (base64), sent before anything else. */
  | { t: 'ticketKeys'; keys: string };

/** A worker's counter series that grew since it last answered a `counters` question (engine-metrics.ts takeChanges). */
export type CounterChanges = CounterChange[];

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
  | { t: 'done'; id: number; listenersChanged?: number; counters?: CounterChanges; stats?: StatsPatch }
  | { t: 'stats'; stats: StatsPatch }
  | { t: 'passive'; key: string; detail: string }
  | { t: 'persist'; entry: PersistenceEntry };
