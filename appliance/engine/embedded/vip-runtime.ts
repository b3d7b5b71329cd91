// One virtual service at run time: its latest snapshot, its real servers (kept across
// applies), its balancer and the session choice that persistence and balancing make
// together. Listeners and proxies hold this object; apply mutates it in place, so a change
// of servers, weights, states or persistence reaches the next request without touching a
// listener.
import type { HealthSource } from '../health/health-checker.js';
import type { VirtualServiceSnapshot } from '../types.js';
import { Balancer } from './balancer.js';
import type { EngineMetrics, VipCounters } from './engine-metrics.js';
import type { PersistenceTable } from './persistence-table.js';
import { UpstreamServer } from './upstream-server.js';

/** What a VIP runtime needs from the engine. */
export interface VipDeps {
  metrics: EngineMetrics;
  health: HealthSource;
  /** Pick new source-IP clients by hash, so every worker process picks the same server. */
  hashSourceIp?: boolean;
  persistence: PersistenceTable;
}

/** The result of choosing a server for a new session. */
export interface Choice {
  server: UpstreamServer;
  /** The persistence cookie to set (http-cookie mode, when the client did not name this server). */
  setCookie: boolean;
}

/** A virtual service at run time. */
export class VipRuntime {
  readonly id: string;
  spec!: VirtualServiceSnapshot;
  servers: UpstreamServer[] = [];
  readonly byId = new Map<string, UpstreamServer>();
  readonly byCookie = new Map<string, UpstreamServer>();
  readonly balancer = new Balancer();
  counters!: VipCounters;
  /** Client connections open now. */
  connections = 0;
  // Settings read per request, flattened at apply.
  clientTimeoutMs = 0;
  serverTimeoutMs = 0;
  connectTimeoutMs = 0;
  cookieName: string | null = null;
  cookieMaxAge = 0;
  sourceIp = false;
  readonly #deps: VipDeps;

  constructor(spec: VirtualServiceSnapshot, deps: VipDeps) {
    this.id = spec.id;
    this.#deps = deps;
    this.update(spec);
  }

  /** Follows a new snapshot of the VIP. */
  update(spec: VirtualServiceSnapshot): void {
    if (this.spec?.label !== spec.label) this.counters = this.#deps.metrics.vip(spec.label);
    this.spec = spec;
    this.balancer.algorithm = spec.algorithm;
    this.clientTimeoutMs = spec.timeouts.client * 1000;
    this.serverTimeoutMs = spec.timeouts.server * 1000;
    this.connectTimeoutMs = spec.timeouts.connect * 1000;
    this.cookieName = spec.persistence.mode === 'http-cookie' ? spec.persistence.cookieName : null;
    this.cookieMaxAge = spec.persistence.timeout;
    this.sourceIp = spec.persistence.mode === 'source-ip';
    const next: UpstreamServer[] = [];
    const seen = new Set<string>();
    for (const rs of spec.realServers) {
      seen.add(rs.id);
      let server = this.byId.get(rs.id);
      if (server) server.update(rs, spec.label);
      else {
        server = new UpstreamServer(spec.id, rs, this.#deps.health.cell(`${spec.id}/${rs.id}`), this.#deps.metrics, spec.label);
        this.byId.set(rs.id, server);
        this.byCookie.set(server.cookieValue, server);
      }
      next.push(server);
    }
    for (const [id, server] of this.byId) {
      if (seen.has(id)) continue;
      server.dispose();
      this.byId.delete(id);
      this.byCookie.delete(server.cookieValue);
      this.#deps.persistence.dropServer(this.id, id);
    }
    this.servers = next;
  }

  /**
   * Chooses the server of a new session: the persistent one if it may still serve, else a
   * balanced pick (remembered for source-IP clients). Null when no server can serve.
   */
  choose(client: string, cookie: string | undefined): Choice | null {
    if (this.sourceIp) {
      const now = Date.now();
      const rsId = this.#deps.persistence.lookup(this.id, client, now);
      const kept = rsId === undefined ? undefined : this.byId.get(rsId);
      if (kept?.acceptsPersistent) return { server: kept, setCookie: false };
      const picked = this.#deps.hashSourceIp ? this.balancer.pickByHash(this.servers, client) : this.balancer.pick(this.servers);
      if (picked) this.#deps.persistence.set(this.id, client, picked.id, now);
      return picked ? { server: picked, setCookie: false } : null;
    }
    if (this.cookieName !== null && cookie !== undefined) {
      const kept = this.byCookie.get(cookie);
      if (kept?.acceptsPersistent) return { server: kept, setCookie: false };
    }
    const picked = this.balancer.pick(this.servers);
    return picked ? { server: picked, setCookie: this.cookieName !== null } : null;
  }

  /** Another server after `tried` failed before anything was sent (persistence follows it). */
  chooseAgain(client: string, tried: ReadonlySet<UpstreamServer>): Choice | null {
    const picked = this.balancer.pick(this.servers, tried);
    if (!picked) return null;
    if (this.sourceIp) this.#deps.persistence.set(this.id, client, picked.id, Date.now());
    return { server: picked, setCookie: this.cookieName !== null };
  }

  /** A connect to a server failed: the health checker hears of it at once. */
  connectFailed(server: UpstreamServer, detail: string): void {
    this.#deps.health.passiveFailure(server.key, detail);
  }

  /** The VIP left the config. */
  dispose(): void {
    for (const s of this.servers) s.dispose();
    this.#deps.persistence.dropVip(this.id);
  }
}
