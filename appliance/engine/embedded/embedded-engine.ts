// The embedded engine: the data plane on node's net, tls, http and http2, in this process
// or in worker processes (LBAPPLIANCE_ENGINE_WORKERS > 1) that share the VIP listeners.
// apply() diffs each snapshot against the running state: servers, weights, states,
// persistence and health checks change objects the proxies already hold; only a VIP whose
// address, ports, protocol or TLS mode changed touches its own listeners; a new
// certificate is swapped into the live listener. Health checks and the source-IP table of
// record (what HA replicates) always live here.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { ApplianceError } from '../../errors.js';
import { changesSince } from '../../config/snapshot-step.js';
import { HealthChecker, type HealthTarget } from '../health/health-checker.js';
import { HealthFeed, type HealthListener } from '../health-feed.js';
import { healthTargets, serverKeys } from '../health/targets.js';
import type { ApplyReport, ConfigSnapshot, Engine, EngineStatus, PersistenceSync, PersistenceTables, RealServerRuntime, VirtualServiceRuntime, VirtualServiceSnapshot } from '../types.js';
import { DataPlane, type VipStats } from './data-plane.js';
import { EngineMetrics } from './engine-metrics.js';
import { checkListeners } from '../listen-probe.js';
import { checkCertificate } from './listener-set.js';
import { SniContexts } from './tls-policy.js';
import { PersistenceTable } from './persistence-table.js';
import { keepsSourceTable } from '../client-network.js';
import { registerWorkerCounters } from './worker-counters.js';
import { WorkerPool } from './worker-pool.js';

/** What the embedded engine is built from. */
export interface EmbeddedEngineOptions {
  logger: Logger;
  registry: Registry;
  /** Data-plane processes: 1 (default) carries traffic in this process. */
  workers?: number;
}

/** The embedded data plane. */

/** TLS VIP snapshots whose certificate and SNI contexts were built once without error. */
const tlsChecked = new WeakSet<VirtualServiceSnapshot>();
export class EmbeddedEngine implements Engine {
  readonly kind = 'embedded' as const;
  /** Source-IP persistence of record, for HA replication (export, import, change events). */
  readonly persistence = new PersistenceTable();
  /** The HA layer streams this engine's table to the peer. */
  readonly persistenceSync: PersistenceSync = { kind: 'stream', table: this.persistence };
  /** The table of record, read and cleared through the API (worker processes are told of a clear). */
  readonly persistenceTables: PersistenceTables = {
    list: async (vsId) => this.persistence.entries(vsId, Date.now()).map((e) => ({ client: e.client, realServerId: e.realServerId, expiresInSeconds: Math.ceil(e.remainingMs / 1000) })),
    clear: async (vsId, key) => {
      const had = this.persistence.forget(vsId, key);
      this.#pool?.forget(vsId, key);
      return had;
    },
  };
  readonly #log: Logger;
  readonly #health: HealthChecker;
  /** Health changes for onHealth, fed by the checker (which runs here in worker mode too). */
  readonly #feed: HealthFeed;
  readonly #plane: DataPlane | null;
  readonly #pool: WorkerPool | null;
  #snapshot: ConfigSnapshot = { revision: 0, virtualServices: [] };
  /** The last revision the store asked for, applied or not: its listeners are this engine's to bind (the listen check probes only new ones). */
  #requested: ConfigSnapshot = { revision: 0, virtualServices: [] };
  /** The last snapshot check() accepted. */
  #checked: ConfigSnapshot | null = null;
  #active = true;
  #stopped = false;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: EmbeddedEngineOptions) {
    this.#log = options.logger;
    this.#health = new HealthChecker(options.registry, options.logger.child({ component: 'health' }));
    this.#feed = new HealthFeed((err) => this.#log.error({ err }, 'a health listener failed'));
    this.#health.onTransition((key, to, detail) => this.#feed.reportKey(key, to, detail));
    const workers = Math.max(1, Math.floor(options.workers ?? 1));
    if (workers === 1) {
      this.#pool = null;
      this.#plane = new DataPlane({ logger: options.logger, metrics: new EngineMetrics(options.registry), health: this.#health, persistence: this.persistence, hashSourceIp: false });
      return;
    }
    this.#plane = null;
    const pool = new WorkerPool(workers, options.logger, {
      passive: (key, detail) => this.#health.passiveFailure(key, detail),
      persist: (e) => this.persistence.set(e.virtualServiceId, e.client, e.realServerId, e.lastSeen),
      state: () => ({ health: this.#health.verdicts(), agents: this.#health.agents(), persistence: this.persistence.export() }),
    });
    this.#pool = pool;
    this.#health.onTransition((key, to) => pool.health(key, to));
    this.#health.onAgent((key, cell) => pool.agent(key, cell.agent));
    this.persistence.on('imported', (entries) => pool.persist(entries));
    registerWorkerCounters(options.registry, () => pool.counters());
  }

  async start(): Promise<void> {
    await this.#pool?.start();
  }

  async checkListeners(snapshot: ConfigSnapshot): Promise<void> {
    if (this.#active) await checkListeners(snapshot, this.#requested);
  }

  async check(snapshot: ConfigSnapshot): Promise<void> {
    // Made from the last snapshot accepted here by replacing VIPs: the others were accepted then.
    const changes = changesSince(this.#checked, snapshot);
    const vips = changes ? changes.map((c) => c.after) : snapshot.virtualServices;
    for (const vs of vips) {
      // Connecting from the client's address needs IP_TRANSPARENT on the outgoing socket,
      // which Node.js cannot set: refused here rather than silently proxied from our own address.
      if (vs.transparent) {
        throw new ApplianceError('LB_ENGINE_REFUSED', `the embedded engine cannot connect to real servers from the client's address (Node.js has no IP_TRANSPARENT sockets); run the appliance with --engine haproxy for a transparent VIP (${vs.label})`, {
          field: `/virtualServices/${vs.id}/transparent`,
        });
      }
    }
    for (const vs of vips) {
      // A VIP snapshot this engine already accepted is the same frozen object: not checked again.
      if (!vs.certificate || tlsChecked.has(vs)) continue;
      try {
        checkCertificate(vs.certificate, vs.tls);
        new SniContexts(vs);
      } catch (err) {
        throw new ApplianceError('LB_ENGINE_REFUSED', `certificate ${vs.certificate.label} cannot serve TLS on ${vs.label}: ${(err as Error).message}`, {
          field: `/virtualServices/${vs.id}/certificateId`,
        });
      }
      tlsChecked.add(vs);
    }
    this.#checked = snapshot;
  }

  apply(snapshot: ConfigSnapshot): Promise<ApplyReport> {
    this.#requested = snapshot;
    return this.#serialise(async () => {
      const started = performance.now();
      // A revision made from the one applied by replacing VIPs: only those are followed (snapshot-step.ts).
      const changes = changesSince(this.#snapshot, snapshot);
      if (changes) {
        this.#health.syncPart(changes.flatMap((c) => serverKeys(c.before)), changes.flatMap((c) => this.#targetsOf(c.after)));
        this.#feed.retainChanged(changes);
        if (this.#pool) this.persistence.configureSome(changes.map((c) => [c.after.id, keepsSourceTable(c.after.persistence) ? c.after.persistence.timeout : null] as const));
      } else {
        const targets: HealthTarget[] = [];
        for (const vs of snapshot.virtualServices) targets.push(...this.#targetsOf(vs));
        this.#health.sync(targets);
        this.#feed.retain(snapshot);
        if (this.#pool) {
          const timeouts = new Map<string, number>();
          for (const vs of snapshot.virtualServices) if (keepsSourceTable(vs.persistence)) timeouts.set(vs.id, vs.persistence.timeout);
          this.persistence.configure(timeouts);
        }
      }
      // In one process the data plane keeps the table's timeouts itself.
      const listenersChanged = this.#plane ? await this.#plane.apply(snapshot) : await (this.#pool as WorkerPool).apply(snapshot);
      this.#snapshot = snapshot;
      return { revision: snapshot.revision, durationMs: performance.now() - started, listenersChanged };
    });
  }

  /** The health checks of a VIP's servers (none while it is disabled or only redirects). */
  #targetsOf(vs: VirtualServiceSnapshot): readonly HealthTarget[] {
    if (!vs.enabled || vs.forceHttps) return [];
    try {
      return healthTargets(vs);
    } catch (err) {
      // Its servers stay unchecked (unknown); the data plane reports the VIP's own failure.
      this.#log.error({ virtualService: vs.label, err }, 'health checks of a virtual service not set up');
      return [];
    }
  }

  setActive(active: boolean): Promise<void> {
    return this.#serialise(async () => {
      if (this.#active === active) return;
      this.#active = active;
      this.#feed.active = active;
      if (this.#plane) await this.#plane.setActive(active);
      else await (this.#pool as WorkerPool).setActive(active);
      this.#log.info({ active }, active ? 'VIPs bound (active)' : 'VIPs released (passive)');
    });
  }

  status(onlyVirtualService?: string): EngineStatus {
    const stats: Record<string, VipStats> = this.#plane ? this.#plane.stats(onlyVirtualService) : (this.#pool as WorkerPool).stats(onlyVirtualService);
    const virtualServices = new Map<string, VirtualServiceRuntime>();
    for (const vs of this.#snapshot.virtualServices) {
      if (onlyVirtualService !== undefined && vs.id !== onlyVirtualService) continue;
      const st = stats[vs.id];
      const realServers = new Map<string, RealServerRuntime>();
      for (const rs of vs.realServers) {
        const cell = this.#health.peek(`${vs.id}/${rs.id}`);
        realServers.set(rs.id, {
          health: cell?.health ?? 'unknown',
          connections: st?.active[rs.id] ?? 0,
          lastCheck: cell?.lastCheck ?? null,
          effectiveWeight: cell ? cell.weight(rs.weight) : rs.weight,
          agent: cell?.agent.last ?? null,
        });
      }
      const listening = vs.enabled && this.#active && st !== undefined && st.total > 0 && st.bound === st.total;
      virtualServices.set(vs.id, { listening, error: listening || !vs.enabled || !this.#active ? null : (st?.error ?? null), connections: st?.connections ?? 0, queued: st?.queued ?? 0, realServers });
    }
    return { revision: this.#snapshot.revision, active: this.#active, virtualServices };
  }

  onHealth(listener: HealthListener): () => void {
    return this.#feed.subscribe(listener);
  }

  async stop(graceMs = 5000): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.#queue;
    this.#active = false;
    this.#health.stop();
    this.persistence.close();
    if (this.#plane) await this.#plane.stop(graceMs);
    else await (this.#pool as WorkerPool).stop(graceMs);
  }

  #serialise<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}
