// The embedded engine: the data plane in this process, on node's net, tls, http and http2.
// apply() diffs each snapshot against the running state: servers, weights, states,
// persistence and health checks change objects the proxies already hold; only a VIP
// whose address, ports, protocol or TLS mode changed touches its own listeners; a new
// certificate is swapped into the live listener.
import { once } from 'node:events';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { ApplianceError } from '../../errors.js';
import { HealthChecker, type HealthTarget } from '../../health/health-checker.js';
import type { ApplyReport, ConfigSnapshot, Engine, EngineStatus, RealServerRuntime, VirtualServiceRuntime, VirtualServiceSnapshot } from '../types.js';
import { EngineMetrics } from './engine-metrics.js';
import { checkCertificate, listenerKind, ListenerSet, type ListenerSpec } from './listener-set.js';
import { PersistenceTable } from './persistence-table.js';
import { VipRuntime } from './vip-runtime.js';

/** What the embedded engine is built from. */
export interface EmbeddedEngineOptions {
  logger: Logger;
  registry: Registry;
}

function healthTargets(vs: VirtualServiceSnapshot): HealthTarget[] {
  const hc = vs.healthCheck;
  return vs.realServers.map((rs) => ({
    key: `${vs.id}/${rs.id}`,
    vipLabel: vs.label,
    serverLabel: rs.label,
    type: hc.type,
    address: rs.address,
    // A server without its own port is checked on the VIP's first port (as HAProxy does).
    port: hc.port ?? rs.port ?? (vs.ports[0] as number),
    path: hc.path,
    host: hc.host,
    expectStatus: hc.expectStatus,
    intervalMs: hc.interval * 1000,
    timeoutMs: hc.timeout * 1000,
    rise: hc.rise,
    fall: hc.fall,
  }));
}

/** The in-process data plane. */
export class EmbeddedEngine implements Engine {
  readonly kind = 'embedded' as const;
  /** Source-IP persistence, exported for HA replication. */
  readonly persistence = new PersistenceTable();
  readonly #log: Logger;
  readonly #metrics: EngineMetrics;
  readonly #health: HealthChecker;
  readonly #listeners: ListenerSet;
  readonly #vips = new Map<string, VipRuntime>();
  #revision = 0;
  #active = true;
  #stopped = false;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: EmbeddedEngineOptions) {
    this.#log = options.logger;
    this.#metrics = new EngineMetrics(options.registry);
    this.#health = new HealthChecker(options.registry, options.logger.child({ component: 'health' }));
    this.#listeners = new ListenerSet(this.#metrics, options.logger);
  }

  async start(): Promise<void> {}

  async check(snapshot: ConfigSnapshot): Promise<void> {
    for (const vs of snapshot.virtualServices) {
      if (!vs.certificate) continue;
      try {
        checkCertificate(vs.certificate);
      } catch (err) {
        throw new ApplianceError('LB_ENGINE_REFUSED', `certificate ${vs.certificate.label} cannot serve TLS on ${vs.label}: ${(err as Error).message}`, {
          field: `/virtualServices/${vs.id}/certificateId`,
        });
      }
    }
  }

  apply(snapshot: ConfigSnapshot): Promise<ApplyReport> {
    const run = this.#queue.then(() => this.#apply(snapshot));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async setActive(active: boolean): Promise<void> {
    const run = this.#queue.then(async () => {
      if (this.#active === active) return;
      this.#active = active;
      await this.#listeners.sync(this.#wantedListeners());
      if (!active) this.#listeners.closeIdle();
      this.#log.info({ active }, active ? 'VIPs bound (active)' : 'VIPs released (passive)');
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  status(): EngineStatus {
    const virtualServices = new Map<string, VirtualServiceRuntime>();
    for (const vip of this.#vips.values()) {
      const realServers = new Map<string, RealServerRuntime>();
      for (const s of vip.servers) realServers.set(s.id, { health: s.cell.health, connections: s.active, lastCheck: s.cell.lastCheck });
      const st = this.#listeners.state(vip.id);
      const listening = vip.spec.enabled && this.#active && st.total > 0 && st.bound === st.total;
      virtualServices.set(vip.id, { listening, error: listening || !vip.spec.enabled || !this.#active ? null : st.error, connections: vip.connections, realServers });
    }
    return { revision: this.#revision, active: this.#active, virtualServices };
  }

  async stop(graceMs = 5000): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.#queue;
    this.#active = false;
    await this.#listeners.sync([]);
    this.#listeners.closeIdle();
    this.#health.stop();
    this.persistence.close();
    const open = this.#listeners.sockets();
    if (open.length > 0) {
      const deadline = AbortSignal.timeout(graceMs);
      await Promise.all(open.map((s) => (s.destroyed ? undefined : once(s, 'close', { signal: deadline }).catch(() => s.destroy()))));
    }
    for (const vip of this.#vips.values()) vip.dispose();
  }

  async #apply(snapshot: ConfigSnapshot): Promise<ApplyReport> {
    const started = performance.now();
    const deps = { metrics: this.#metrics, health: this.#health, persistence: this.persistence };
    const seen = new Set<string>();
    const targets: HealthTarget[] = [];
    const persistenceTimeouts = new Map<string, number>();
    for (const vs of snapshot.virtualServices) {
      seen.add(vs.id);
      const vip = this.#vips.get(vs.id);
      if (vip) vip.update(vs);
      else this.#vips.set(vs.id, new VipRuntime(vs, deps));
      if (vs.enabled && !vs.forceHttps) targets.push(...healthTargets(vs));
      if (vs.persistence.mode === 'source-ip') persistenceTimeouts.set(vs.id, vs.persistence.timeout);
    }
    const removed = [...this.#vips.values()].filter((vip) => !seen.has(vip.id));
    for (const vip of removed) this.#vips.delete(vip.id);
    this.#health.sync(targets);
    this.persistence.configure(persistenceTimeouts);
    const listenersChanged = await this.#listeners.sync(this.#wantedListeners());
    // Connections of a removed VIP finish their exchange; its servers keep no idle ones.
    for (const vip of removed) vip.dispose();
    this.#revision = snapshot.revision;
    return { revision: snapshot.revision, durationMs: performance.now() - started, listenersChanged };
  }

  #wantedListeners(): ListenerSpec[] {
    if (!this.#active) return [];
    const wanted: ListenerSpec[] = [];
    for (const vip of this.#vips.values()) {
      if (!vip.spec.enabled) continue;
      const kind = listenerKind(vip);
      for (const port of vip.spec.ports) wanted.push({ vip, host: vip.spec.ipAddress, port, kind, certificate: vip.spec.certificate });
    }
    return wanted;
  }
}
