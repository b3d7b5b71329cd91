// Messages between the engine and its worker processes (node's IPC channel, JSON).
import type { AgentState, Health } from '../health/health-state.js';
import type { ConfigSnapshot } from '../types.js';
import type { VipStats } from './data-plane.js';
import type { PersistenceEntry } from '../types.js';

/** Engine to worker. */
export type ToWorker =
  | { t: 'apply'; id: number; snapshot: ConfigSnapshot }
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

/** Worker to engine. */
export type FromWorker =
  | { t: 'ready' }
  | { t: 'done'; id: number; listenersChanged?: number; counters?: CounterValues; stats?: Record<string, VipStats> }
  | { t: 'stats'; stats: Record<string, VipStats> }
  | { t: 'passive'; key: string; detail: string }
  | { t: 'persist'; entry: PersistenceEntry };
