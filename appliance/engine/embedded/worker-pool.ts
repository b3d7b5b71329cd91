// The engine's data-plane worker processes (node's cluster module): each one runs a
// DataPlane (worker-main.ts) and accepts on the same shared listening sockets, so the
// kernel spreads connections over the cores. The pool sends them the TLS session ticket
// keys, snapshots, HA ownership, health verdicts and source-IP entries, collects their
// counts, and replaces a worker that dies with one that gets the current snapshot.
import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { AgentState, Health } from '../health/health-state.js';
import type { ConfigSnapshot } from '../types.js';
import type { VipStats } from './data-plane.js';
import type { CounterChanges, FromWorker, StatsPatch, ToWorker } from './ipc-messages.js';
import type { PersistenceEntry } from '../types.js';
import { sessionTicketKeys } from './tls-policy.js';
import { snapshotDelta, type SnapshotDelta } from './snapshot-delta.js';
import { changesSince } from '../../config/snapshot-step.js';

/** What the pool reports to the engine, and the engine state a new worker starts from. */
export interface WorkerPoolEvents {
  passive(key: string, detail: string): void;
  persist(entry: PersistenceEntry): void;
  /** Current health verdicts and source-IP entries. */
  state(): { health: [string, Health][]; agents: [string, AgentState][]; persistence: PersistenceEntry[] };
}

interface Pending {
  waiting: Set<Worker>;
  results: FromWorker[];
  resolve: (results: FromWorker[]) => void;
}

/** Data-plane worker processes. */
export class WorkerPool {
  readonly #count: number;
  readonly #log: Logger;
  readonly #events: WorkerPoolEvents;
  readonly #workers = new Set<Worker>();
  /** Workers that have caught up with the current state (only they are asked and told). */
  readonly #ready = new Set<Worker>();
  readonly #stats = new Map<Worker, Record<string, VipStats>>();
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #snapshot: ConfigSnapshot | null = null;
  /** The revision each worker holds (what the next delta is taken from). */
  readonly #sent = new Map<Worker, ConfigSnapshot>();
  #active = true;
  #stopping = false;

  constructor(count: number, log: Logger, events: WorkerPoolEvents) {
    this.#count = count;
    this.#log = log;
    this.#events = events;
  }

  /** Starts the workers. */
  async start(): Promise<void> {
    // Each worker accepts on the shared socket itself: no hand-off through this process.
    cluster.schedulingPolicy = cluster.SCHED_NONE;
    cluster.setupPrimary({ exec: fileURLToPath(new URL('./worker-main.js', import.meta.url)) });
    await Promise.all(Array.from({ length: this.#count }, (_, index) => this.#fork(index)));
  }

  /** Sends a snapshot to every worker; resolves when all follow it. */
  async apply(snapshot: ConfigSnapshot): Promise<number> {
    this.#snapshot = snapshot;
    // Workers that hold the same revision (all of them, but for one that just caught up) share one delta.
    const deltas = new Map<ConfigSnapshot | null, SnapshotDelta>();
    const results = await this.#ask((id, worker) => ({ t: 'apply', id, delta: this.#deltaFor(worker, snapshot, deltas) }));
    return Math.max(0, ...results.map((r) => (r.t === 'done' ? (r.listenersChanged ?? 0) : 0)));
  }

  /** Binds or releases the VIPs in every worker. */
  async setActive(active: boolean): Promise<void> {
    this.#active = active;
    await this.#ask((id) => ({ t: 'active', id, active }));
  }

  /** Tells every worker a server's health. */
  health(key: string, health: Health): void {
    this.#broadcast({ t: 'health', key, health });
  }

  /** Tells every worker what a server's feedback agent asked for. */
  agent(key: string, agent: AgentState): void {
    this.#broadcast({ t: 'agent', key, agent });
  }

  /** Tells every worker to forget a client (the API cleared it). */
  forget(virtualServiceId: string, client: string): void {
    this.#broadcast({ t: 'forget', virtualServiceId, client });
  }

  /** Shares source-IP entries with every worker but the one they came from. */
  persist(entries: PersistenceEntry[], except?: Worker): void {
    this.#broadcast({ t: 'persist', entries }, except);
  }

  /** How many workers answer a question (the ones started and caught up). */
  async answering(): Promise<number> {
    return (await this.#ask((id) => ({ t: 'ping', id }))).length;
  }

  /** What every worker's counters grew by since it was last asked. */
  async counters(): Promise<CounterChanges> {
    const all: CounterChanges = [];
    for (const r of await this.#ask((id) => ({ t: 'counters', id }))) {
      if (r.t === 'done' && r.counters) for (const change of r.counters) all.push(change);
    }
    return all;
  }

  /** Per VIP (`only` alone when given): listeners bound in every worker, connections and sessions summed. */
  stats(only?: string): Record<string, VipStats> {
    const out: Record<string, VipStats> = {};
    for (const stats of this.#stats.values()) {
      const entries = only === undefined ? Object.entries(stats) : stats[only] ? [[only, stats[only]] as const] : [];
      for (const [vsId, s] of entries) {
        const o = out[vsId];
        if (!o) {
          out[vsId] = { ...s, active: { ...s.active } };
          continue;
        }
        o.bound = Math.min(o.bound, s.bound);
        o.error ??= s.error;
        o.connections += s.connections;
        o.queued += s.queued;
        for (const [rsId, n] of Object.entries(s.active)) o.active[rsId] = (o.active[rsId] ?? 0) + n;
      }
    }
    return out;
  }

  /** Stops every worker; their connections get `graceMs`. */
  async stop(graceMs: number): Promise<void> {
    this.#stopping = true;
    await this.#ask((id) => ({ t: 'stop', id, graceMs }));
    for (const w of this.#workers) w.kill();
  }

  /** Starts the worker at `index` (0 alone carries the VIPs that need one view, one-view.ts). */
  #fork(index: number): Promise<void> {
    const worker = cluster.fork({ LBAPPLIANCE_ENGINE_WORKER: '1', LBAPPLIANCE_ENGINE_WORKER_INDEX: String(index) });
    this.#workers.add(worker);
    // A worker that dies still looks connected until its channel's end is read: a message
    // written to it meanwhile fails with EPIPE, which an 'error' event with no listener would
    // turn into the engine process's own death. Its exit is handled below.
    worker.on('error', (err) => this.#log.warn({ pid: worker.process.pid, err }, 'engine worker unreachable'));
    worker.on('message', (m: FromWorker) => this.#onMessage(worker, m));
    worker.once('exit', (code, signal) => {
      this.#workers.delete(worker);
      this.#ready.delete(worker);
      this.#stats.delete(worker);
      this.#sent.delete(worker);
      for (const [id, p] of this.#pending) {
        if (p.waiting.delete(worker) && p.waiting.size === 0) {
          this.#pending.delete(id);
          p.resolve(p.results);
        }
      }
      if (this.#stopping) return;
      this.#log.error({ pid: worker.process.pid, code, signal }, 'engine worker died; starting another');
      void this.#fork(index);
    });
    return new Promise((resolve) => {
      worker.once('message', async (m: FromWorker) => {
        if (m.t !== 'ready') return resolve();
        // A replacement catches up with the current state before it is asked or told anything;
        // a revision applied meanwhile is sent again.
        // The engine's ticket keys first: every listener this worker opens resumes the others' sessions.
        this.#send(worker, { t: 'ticketKeys', keys: sessionTicketKeys().toString('base64') });
        const { health, agents, persistence } = this.#events.state();
        for (const [key, h] of health) this.#send(worker, { t: 'health', key, health: h });
        for (const [key, agent] of agents) this.#send(worker, { t: 'agent', key, agent });
        if (persistence.length > 0) this.#send(worker, { t: 'persist', entries: persistence });
        let applied: ConfigSnapshot | null = null;
        let active = true;
        while ((this.#snapshot !== null && applied !== this.#snapshot) || active !== this.#active) {
          if (this.#snapshot !== null && applied !== this.#snapshot) {
            applied = this.#snapshot;
            const delta = this.#deltaFor(worker, applied);
            await this.#askOne(worker, (id) => ({ t: 'apply', id, delta }));
          }
          if (active !== this.#active) {
            active = this.#active;
            await this.#askOne(worker, (id) => ({ t: 'active', id, active }));
          }
        }
        if (worker.isConnected()) this.#ready.add(worker);
        resolve();
      });
    });
  }

  #onMessage(worker: Worker, m: FromWorker): void {
    switch (m.t) {
      case 'done': {
        // Answers to apply and setActive carry the listener state right after the change.
        if (m.stats) this.#patchStats(worker, m.stats);
        const p = this.#pending.get(m.id);
        if (!p) return;
        p.results.push(m);
        p.waiting.delete(worker);
        if (p.waiting.size === 0) {
          this.#pending.delete(m.id);
          p.resolve(p.results);
        }
        return;
      }
      case 'stats':
        this.#patchStats(worker, m.stats);
        return;
      case 'passive':
        this.#events.passive(m.key, m.detail);
        return;
      case 'persist':
        this.persist([m.entry], worker);
        this.#events.persist(m.entry);
        return;
      case 'ready':
        return;
    }
  }

  /** The delta from what `worker` holds to `snapshot` (shared through `deltas` by workers that hold the same); the worker holds `snapshot` from now on. */
  #deltaFor(worker: Worker, snapshot: ConfigSnapshot, deltas = new Map<ConfigSnapshot | null, SnapshotDelta>()): SnapshotDelta {
    const base = this.#sent.get(worker) ?? null;
    let delta = deltas.get(base);
    if (!delta) {
      // Made from what the worker holds by replacing VIPs: those are the delta, no pass over the rest.
      const changes = changesSince(base, snapshot);
      delta = changes ? { revision: snapshot.revision, changed: changes.map((c) => c.after) } : snapshotDelta(base, snapshot);
      deltas.set(base, delta);
    }
    this.#sent.set(worker, snapshot);
    return delta;
  }

  /** Follows a worker's statistics patch (its first is whole: a worker starts with none sent). */
  #patchStats(worker: Worker, patch: StatsPatch): void {
    let stats = this.#stats.get(worker);
    if (!stats) this.#stats.set(worker, (stats = {}));
    Object.assign(stats, patch.changed);
    for (const id of patch.removed) delete stats[id];
  }

  #broadcast(message: ToWorker, except?: Worker): void {
    for (const w of this.#ready) if (w !== except && w.isConnected()) this.#send(w, message);
  }

  /** Sends to one worker; a worker that has just died fails the write, and its exit replaces it (#fork). */
  #send(worker: Worker, message: ToWorker): void {
    worker.send(message, (err: Error | null) => {
      if (err) this.#log.warn({ pid: worker.process.pid, err, message: message.t }, 'message to an engine worker lost');
    });
  }

  #ask(make: (id: number, worker: Worker) => ToWorker): Promise<FromWorker[]> {
    const id = this.#nextId++;
    const workers = [...this.#ready].filter((w) => w.isConnected());
    if (workers.length === 0) return Promise.resolve([]);
    return new Promise((resolve) => {
      this.#pending.set(id, { waiting: new Set(workers), results: [], resolve });
      for (const w of workers) this.#send(w, make(id, w));
    });
  }

  #askOne(worker: Worker, make: (id: number) => ToWorker): Promise<FromWorker[]> {
    const id = this.#nextId++;
    return new Promise((resolve) => {
      this.#pending.set(id, { waiting: new Set([worker]), results: [], resolve });
      this.#send(worker, make(id));
    });
  }
}
