// One virtual service at run time: its latest snapshot, its real servers (kept across
// applies), its balancer and the session choice that persistence and balancing make
// together. Listeners and proxies hold this object; apply mutates it in place, so a change
// of servers, weights, states or persistence reaches the next request without touching a
// listener. It also holds the VIP's limits: client connections over `limits.maxConnections`
// and sessions waiting for a real server at its own `maxConnections` wait in its queues.
import type { Socket } from 'node:net';
import type { HealthSource } from '../health/health-checker.js';
import type { VirtualServiceSnapshot } from '../types.js';
import { allFull, Balancer } from './balancer.js';
import type { EngineMetrics, VipCounters } from './engine-metrics.js';
import type { PersistenceTable } from './persistence-table.js';
import { UpstreamServer } from './upstream-server.js';
import { clientKey, type ClientPrefixes } from '../client-network.js';

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

/** `queue`: every server that could take the session is at its maxConnections; wait (VipRuntime.wait). */
export type ChoiceOrWait = Choice | 'queue' | null;

/** The health cell of a fallback server: never checked, always usable. */
const FALLBACK_CELL = { health: 'unknown' as const, lastCheck: null };

interface Waiter {
  ready: () => void;
  timer: NodeJS.Timeout;
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
  /** http-cookie persistence that also keeps a source-IP table, for clients that send no cookie. */
  sourceIpFallback = false;
  /** Prefix lengths clients are kept by, or null for whole addresses. */
  #prefixes: ClientPrefixes | null = null;
  /** The Strict-Transport-Security value of responses on TLS connections (tls.hstsMaxAge), or null. */
  hsts: string | null = null;
  /** The `server` fallback, when configured. */
  fallback: UpstreamServer | null = null;
  /** Whether the built-in maintenance page answers when no server can. */
  fallbackPage = false;
  /** Client connections admitted (served) now, under limits.maxConnections. */
  #admitted = 0;
  readonly #connectionQueue: Waiter[] = [];
  readonly #serverQueue: Waiter[] = [];
  #waking = false;
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
    this.sourceIpFallback = spec.persistence.mode === 'http-cookie' && spec.persistence.sourceIpFallback;
    const { ipv4PrefixLength, ipv6PrefixLength } = spec.persistence;
    this.#prefixes = ipv4PrefixLength >= 32 && ipv6PrefixLength >= 128 ? null : { ipv4PrefixLength, ipv6PrefixLength };
    const tls = spec.tls;
    this.hsts = tls.hstsMaxAge === null || spec.certificate === null ? null : `max-age=${tls.hstsMaxAge}${tls.hstsIncludeSubDomains ? '; includeSubDomains' : ''}`;
    const next: UpstreamServer[] = [];
    const seen = new Set<string>();
    for (const rs of spec.realServers) {
      seen.add(rs.id);
      let server = this.byId.get(rs.id);
      if (server) server.update(rs, spec.label);
      else {
        server = new UpstreamServer(spec.id, rs, this.#deps.health.cell(`${spec.id}/${rs.id}`), this.#deps.metrics, spec.label);
        server.onFree = () => this.#wake();
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
    this.#updateFallback(spec);
    // New servers, weights or limits may let waiting sessions go.
    this.#wake();
  }

  #updateFallback(spec: VirtualServiceSnapshot): void {
    const fb = spec.fallback;
    this.fallbackPage = fb.mode === 'page';
    if (fb.mode !== 'server' || fb.address === null) {
      this.fallback?.dispose();
      this.fallback = null;
      return;
    }
    // A server of its own, named `(fallback)` in the metrics (no real server label has brackets).
    const rs = { id: 'fallback', label: '(fallback)', address: fb.address, port: fb.port, weight: 1, reEncrypt: false, backup: false, adminState: 'online' as const, maxConnections: null };
    if (this.fallback) this.fallback.update(rs, spec.label);
    else this.fallback = new UpstreamServer(spec.id, rs, FALLBACK_CELL as never, this.#deps.metrics, spec.label);
  }

  /** Sessions waiting for a real server now (the overview's `queued`). */
  get queued(): number {
    return this.#serverQueue.length + this.#connectionQueue.length;
  }

  /**
   * Serves a new client connection now, or when an admitted one closes (limits.whenFull
   * `queue`, at most queueTimeout), or refuses it (`refuse`): the VIP's maxConnections.
   */
  admit(socket: Socket, serve: () => void): void {
    const limits = this.spec.limits;
    const admitted = () => {
      this.#admitted++;
      socket.once('close', () => {
        this.#admitted--;
        this.#admitNext();
      });
      serve();
    };
    if (limits.maxConnections === null || this.#admitted < limits.maxConnections) return admitted();
    if (limits.whenFull === 'refuse') {
      this.counters.refused.inc();
      socket.destroy();
      return;
    }
    socket.pause();
    socket.on('error', () => socket.destroy());
    const waiter: Waiter = {
      ready: () => (socket.destroyed ? undefined : admitted()),
      timer: setTimeout(() => {
        this.#remove(this.#connectionQueue, waiter);
        socket.destroy();
      }, limits.queueTimeout * 1000),
    };
    socket.once('close', () => {
      clearTimeout(waiter.timer);
      this.#remove(this.#connectionQueue, waiter);
    });
    this.#connectionQueue.push(waiter);
  }

  #admitNext(): void {
    const max = this.spec.limits.maxConnections;
    while (this.#connectionQueue.length > 0 && (max === null || this.#admitted < max)) {
      const w = this.#connectionQueue.shift() as Waiter;
      clearTimeout(w.timer);
      w.ready();
    }
  }

  /**
   * Waits for a server to have room (choose said `queue`): `ready` runs when one frees a
   * slot (choose again then), `expired` after limits.queueTimeout. Returns a cancel function.
   */
  wait(ready: () => void, expired: () => void): () => void {
    const waiter: Waiter = {
      ready,
      timer: setTimeout(() => {
        this.#remove(this.#serverQueue, waiter);
        expired();
      }, this.spec.limits.queueTimeout * 1000),
    };
    this.#serverQueue.push(waiter);
    return () => {
      clearTimeout(waiter.timer);
      this.#remove(this.#serverQueue, waiter);
    };
  }

  #remove(queue: Waiter[], waiter: Waiter): void {
    const i = queue.indexOf(waiter);
    if (i >= 0) queue.splice(i, 1);
  }

  /** A server slot may be free: the oldest waiters choose again (after the current call stack). */
  #wake(): void {
    if (this.#serverQueue.length === 0 || this.#waking) return;
    this.#waking = true;
    process.nextTick(() => {
      this.#waking = false;
      // Each waiter that still finds every server full queues again at the back.
      let n = this.#serverQueue.length;
      while (n-- > 0 && this.#serverQueue.length > 0 && !allFull(this.servers)) {
        const w = this.#serverQueue.shift() as Waiter;
        clearTimeout(w.timer);
        w.ready();
      }
    });
  }

  /**
   * Chooses the server of a new session: the persistent one if it may still serve, else a
   * balanced pick (remembered for source-IP clients). Null when no server can serve.
   */
  choose(client: string, cookie: string | undefined): ChoiceOrWait {
    const table = this.#deps.persistence;
    if (this.sourceIp) {
      const now = Date.now();
      const key = this.tableKey(client);
      const rsId = table.lookup(this.id, key, now);
      const kept = rsId === undefined ? undefined : this.byId.get(rsId);
      // A persistent client waits for its own server when that one is full (as HAProxy queues it there).
      if (kept?.acceptsPersistent) return kept.full ? 'queue' : { server: kept, setCookie: false };
      const picked = this.#deps.hashSourceIp ? this.balancer.pickByHash(this.servers, key) : this.balancer.pick(this.servers);
      if (picked) table.set(this.id, key, picked.id, now);
      return picked ? { server: picked, setCookie: false } : this.#none();
    }
    if (this.cookieName !== null && cookie !== undefined) {
      const kept = this.byCookie.get(cookie);
      if (kept?.acceptsPersistent) {
        // The cookie wins; the source-IP table learns (or refreshes) where it sent the client.
        if (this.sourceIpFallback && !kept.full) table.set(this.id, this.tableKey(client), kept.id, Date.now());
        return kept.full ? 'queue' : { server: kept, setCookie: false };
      }
    }
    if (this.sourceIpFallback) {
      // No usable cookie: the client's address (or network) may still name its server.
      const now = Date.now();
      const key = this.tableKey(client);
      const rsId = table.lookup(this.id, key, now);
      const kept = rsId === undefined ? undefined : this.byId.get(rsId);
      if (kept?.acceptsPersistent) return kept.full ? 'queue' : { server: kept, setCookie: true };
      const picked = this.balancer.pick(this.servers);
      if (picked) table.set(this.id, key, picked.id, now);
      return picked ? { server: picked, setCookie: true } : this.#none();
    }
    const picked = this.balancer.pick(this.servers);
    return picked ? { server: picked, setCookie: this.cookieName !== null } : this.#none();
  }

  /** The persistence table's key of a client: its address, or its network (persistence prefix lengths). */
  tableKey(client: string): string {
    return this.#prefixes === null ? client : clientKey(client, this.#prefixes);
  }

  /** No server took the session: wait when they are only full, else the fallback server (or null). */
  #none(): ChoiceOrWait {
    if (allFull(this.servers)) return 'queue';
    return this.fallback ? { server: this.fallback, setCookie: false } : null;
  }

  /** Another server after `tried` failed before anything was sent (persistence follows it). */
  chooseAgain(client: string, tried: ReadonlySet<UpstreamServer>): Choice | null {
    const picked = this.balancer.pick(this.servers, tried);
    if (!picked) return null;
    if (this.sourceIp || this.sourceIpFallback) this.#deps.persistence.set(this.id, this.tableKey(client), picked.id, Date.now());
    return { server: picked, setCookie: this.cookieName !== null };
  }

  /** A connect to a server failed: the health checker hears of it at once. */
  connectFailed(server: UpstreamServer, detail: string): void {
    this.#deps.health.passiveFailure(server.key, detail);
  }

  /** The VIP left the config. */
  dispose(): void {
    for (const s of this.servers) s.dispose();
    this.fallback?.dispose();
    this.#deps.persistence.dropVip(this.id);
  }
}
