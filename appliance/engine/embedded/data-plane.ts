// The traffic-carrying half of the embedded engine: VIP runtimes and their listeners, kept
// in step with snapshots. It runs in the engine's process, or in each worker process when
// the engine uses several (worker-main.ts); health verdicts and persistence come from its
// deps either way.
import { once } from 'node:events';
import type { Logger } from 'pino';
import type { HealthSource } from '../health/health-checker.js';
import { changesSince } from '../../config/snapshot-step.js';
import type { ConfigSnapshot, VipChange, VirtualServiceSnapshot } from '../types.js';
import type { EngineMetrics } from './engine-metrics.js';
import { listenerKind, ListenerSet, type ListenerSpec } from './listener-set.js';
import type { PersistenceTable } from './persistence-table.js';
import { keepsSourceTable } from '../client-network.js';
import { VipRuntime } from './vip-runtime.js';

/** What a data plane is built from. */
export interface DataPlaneDeps {
  logger: Logger;
  metrics: EngineMetrics;
  health: HealthSource;
  persistence: PersistenceTable;
  /** Pick new source-IP clients by hash (several worker processes). */
  hashSourceIp: boolean;
}

/** Live counts of one VIP in one data plane. */
export interface VipStats {
  bound: number;
  total: number;
  error: string | null;
  connections: number;
  /** Open sessions per real server id. */
  active: Record<string, number>;
  /** Client connections and sessions waiting under the VIP's and the servers' limits. */
  queued: number;
}

type ListenerState = { bound: number; total: number; error: string | null };
const NO_LISTENERS: ListenerState = { bound: 0, total: 0, error: null };

/** A VIP's statistics from its runtime and its listeners' state. */
function vipStats(vip: VipRuntime, st: ListenerState = NO_LISTENERS): VipStats {
  const active: Record<string, number> = {};
  for (const s of vip.servers) active[s.id] = s.active;
  return { ...st, connections: vip.connections, active, queued: vip.queued };
}

/** The statistics of a VIP the plane could not set up. */
function failedStats(f: { ports: number; error: string }): VipStats {
  return { bound: 0, total: f.ports, error: f.error, connections: 0, active: {}, queued: 0 };
}

/** VIP runtimes and listeners following snapshots. */
export class DataPlane {
  readonly #deps: DataPlaneDeps;
  /** What every VIP runtime is built with. */
  readonly #runtimeDeps: ConstructorParameters<typeof VipRuntime>[1];
  readonly #listeners: ListenerSet;
  readonly #vips = new Map<string, VipRuntime>();
  /** VIPs of the snapshot this plane could not set up, with the reason (they carry no traffic). */
  readonly #failed = new Map<string, { ports: number; error: string }>();
  #active = true;
  /** The snapshot applied last, complete (a later one may be a step from it). */
  #followed: ConfigSnapshot | null = null;

  constructor(deps: DataPlaneDeps) {
    this.#deps = deps;
    this.#runtimeDeps = { metrics: deps.metrics, health: deps.health, persistence: deps.persistence, hashSourceIp: deps.hashSourceIp };
    this.#listeners = new ListenerSet(deps.metrics, deps.logger);
  }

  /** Follows a snapshot; returns how many listeners were opened or closed. */
  async apply(snapshot: ConfigSnapshot): Promise<number> {
    // Made from the snapshot followed last by replacing VIPs: only those are followed (snapshot-step.ts).
    const changes = changesSince(this.#followed, snapshot);
    this.#followed = null;
    const changed = changes ? await this.#applyChanges(changes) : await this.#applyWhole(snapshot);
    this.#followed = snapshot;
    return changed;
  }

  async #applyWhole(snapshot: ConfigSnapshot): Promise<number> {
    const seen = new Set<string>();
    const timeouts = new Map<string, number>();
    const failedBefore = new Set(this.#failed.keys());
    this.#failed.clear();
    for (const vs of snapshot.virtualServices) {
      if (!this.#follow(vs, failedBefore.has(vs.id))) continue;
      seen.add(vs.id);
      if (keepsSourceTable(vs.persistence)) timeouts.set(vs.id, vs.persistence.timeout);
    }
    const removed = [...this.#vips.values()].filter((vip) => !seen.has(vip.id));
    for (const vip of removed) this.#vips.delete(vip.id);
    this.#deps.persistence.configure(timeouts);
    const changed = await this.#listeners.sync(this.#wanted());
    // Connections of a removed VIP finish their exchange; its servers keep no idle ones.
    for (const vip of removed) vip.dispose();
    return changed;
  }

  /** The same as a whole apply for a snapshot whose other VIPs are the ones followed now. */
  async #applyChanges(changes: readonly VipChange[]): Promise<number> {
    const ids = new Set<string>();
    const timeouts: [string, number | null][] = [];
    const removed: VipRuntime[] = [];
    for (const { after: vs } of changes) {
      ids.add(vs.id);
      const ok = this.#follow(vs, this.#failed.delete(vs.id));
      timeouts.push([vs.id, ok && keepsSourceTable(vs.persistence) ? vs.persistence.timeout : null]);
      const vip = this.#vips.get(vs.id);
      if (!ok && vip) {
        this.#vips.delete(vs.id);
        removed.push(vip);
      }
    }
    this.#deps.persistence.configureSome(timeouts);
    const changed = await this.#listeners.sync(this.#wanted(ids), ids);
    for (const vip of removed) vip.dispose();
    return changed;
  }

  /** Creates or updates a VIP's runtime; false (the VIP failed, with its reason) when the plane cannot carry its settings. */
  #follow(vs: VirtualServiceSnapshot, failedBefore: boolean): boolean {
    const deps = this.#runtimeDeps;
    // One VIP's settings the plane cannot carry fail that VIP, never the others (issue 19).
    try {
      const vip = this.#vips.get(vs.id);
      // The store reuses an unchanged VIP's frozen snapshot: nothing of it to follow (a VIP
      // that failed is tried again, so it is failed again with its reason).
      if (!vip) this.#vips.set(vs.id, new VipRuntime(vs, deps));
      else if (vip.spec !== vs || failedBefore) vip.update(vs);
      return true;
    } catch (err) {
      const error = `cannot set up ${vs.label}: ${(err as Error)?.message ?? String(err)}`;
      this.#failed.set(vs.id, { ports: Array.isArray(vs.ports) ? vs.ports.length : 0, error });
      this.#deps.logger.error({ virtualService: vs.label, err }, 'virtual service not set up');
      return false;
    }
  }

  /** Binds (true) or releases (false) every VIP listener. */
  async setActive(active: boolean): Promise<void> {
    if (this.#active === active) return;
    this.#active = active;
    await this.#listeners.sync(this.#wanted());
    if (!active) this.#listeners.closeIdle();
  }

  /** Listener state and counts per VIP (of `only` alone when given). */
  stats(only?: string): Record<string, VipStats> {
    const out: Record<string, VipStats> = {};
    const states = this.#listeners.states(only);
    const one = only === undefined ? undefined : this.#vips.get(only);
    for (const vip of only === undefined ? this.#vips.values() : one ? [one] : []) out[vip.id] = vipStats(vip, states.get(vip.id));
    for (const [id, f] of this.#failed) if (only === undefined || id === only) out[id] = failedStats(f);
    return out;
  }

  /**
   * The statistics that changed since they were last sent, for a worker process's reports:
   * `sent` holds a fingerprint per VIP id and is brought up to date; VIPs in `skip` count as
   * gone. A VIP whose counts and listener state are as before costs a short string, not an
   * object and its JSON, so a thousand quiet VIPs cost next to nothing five times a second.
   * `only`: look at these VIP ids alone (those a revision touched; the periodic report covers the rest).
   */
  statsSince(sent: Map<string, string>, skip: ReadonlySet<string>, only?: readonly string[]): { changed: Record<string, VipStats>; removed: string[] } {
    const changed: Record<string, VipStats> = {};
    const states = this.#listeners.states(only);
    const vips = only ? only.flatMap((id) => this.#vips.get(id) ?? []) : this.#vips.values();
    for (const vip of vips) {
      if (skip.has(vip.id) || this.#failed.has(vip.id)) continue;
      const st = states.get(vip.id) ?? NO_LISTENERS;
      let fingerprint = `${st.bound}|${st.total}|${vip.connections}|${vip.queued}|${st.error ?? ''}`;
      for (const s of vip.servers) fingerprint += `|${s.id}=${s.active}`;
      if (sent.get(vip.id) === fingerprint) continue;
      sent.set(vip.id, fingerprint);
      changed[vip.id] = vipStats(vip, st);
    }
    for (const [id, f] of this.#failed) {
      if (skip.has(id) || (only && !only.includes(id))) continue;
      const fingerprint = `failed|${f.ports}|${f.error}`;
      if (sent.get(id) === fingerprint) continue;
      sent.set(id, fingerprint);
      changed[id] = failedStats(f);
    }
    const removed: string[] = [];
    for (const id of only ?? sent.keys()) {
      if (!sent.has(id)) continue;
      if (skip.has(id) || (!this.#vips.has(id) && !this.#failed.has(id))) removed.push(id);
    }
    for (const id of removed) sent.delete(id);
    return { changed, removed };
  }

  /** Releases every listener; open connections get `graceMs` to finish, then are closed. */
  async stop(graceMs: number): Promise<void> {
    this.#active = false;
    await this.#listeners.sync([]);
    this.#listeners.closeIdle();
    const open = this.#listeners.sockets();
    if (open.length > 0) {
      const deadline = AbortSignal.timeout(graceMs);
      await Promise.all(open.map((s) => (s.destroyed ? undefined : once(s, 'close', { signal: deadline }).catch(() => s.destroy()))));
    }
    for (const vip of this.#vips.values()) vip.dispose();
  }

  /** The listeners of every VIP, or of the VIPs `only` names. */
  #wanted(only?: ReadonlySet<string>): ListenerSpec[] {
    if (!this.#active) return [];
    const wanted: ListenerSpec[] = [];
    const vips = only ? [...only].flatMap((id) => this.#vips.get(id) ?? []) : this.#vips.values();
    for (const vip of vips) {
      if (!vip.spec.enabled) continue;
      const kind = listenerKind(vip);
      for (const port of vip.spec.ports) wanted.push({ vip, host: vip.spec.ipAddress, port, kind, certificate: vip.spec.certificate });
    }
    return wanted;
  }
}
