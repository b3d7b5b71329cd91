// One real server as the proxy sees it: its settings from the latest snapshot, its health
// cell, its open-session count (leastconn and the overview), and a keep-alive connection
// pool. The object lives as long as the server is in the config, across applies, so counts
// and pooled connections survive changes to weights, states and persistence.
import type { Socket } from 'node:net';
import type { HealthCell } from '../health/health-state.js';
import type { RealServerSnapshot } from '../types.js';
import type { EngineMetrics, ServerCounters } from './engine-metrics.js';
import { UpstreamConnPool } from './upstream-conn.js';
import { cookieValueOf } from '../persistence-cookie.js';


/** A real server at run time. */
export class UpstreamServer {
  readonly id: string;
  readonly key: string;
  readonly cookieValue: string;
  readonly cell: HealthCell;
  label = '';
  address = '';
  /** Null: the port the client connected to. */
  port: number | null = null;
  /** The weight in the configuration; `weight` is what the feedback agent makes of it. */
  configuredWeight = 0;
  backup = false;
  adminState: RealServerSnapshot['adminState'] = 'online';
  reEncrypt = false;
  /** Null: no limit; else the in-flight requests and sessions it may carry (maxConnections). */
  maxConnections: number | null = null;
  /** Called when a request or session of this server ends (the VIP's queue may move). */
  onFree: (() => void) | null = null;
  #active = 0;
  /** Smooth weighted round robin state. */
  current = 0;
  /** Whether the server was removed from the config. */
  removed = false;
  counters!: ServerCounters;
  /** Pooled raw HTTP/1.1 connections (for HTTP/1.1 and HTTP/2 clients alike). */
  rawPool!: UpstreamConnPool;
  readonly #metrics: EngineMetrics;
  #vipLabel = '';

  constructor(vsId: string, rs: RealServerSnapshot, cell: HealthCell, metrics: EngineMetrics, vipLabel: string) {
    this.id = rs.id;
    this.key = `${vsId}/${rs.id}`;
    this.cookieValue = cookieValueOf(vsId, rs.id);
    this.cell = cell;
    this.#metrics = metrics;
    this.update(rs, vipLabel);
  }

  /** Follows a new snapshot of the server; a new address or TLS mode gets a new pool. */
  update(rs: RealServerSnapshot, vipLabel: string): void {
    const moved = this.address !== rs.address || this.port !== rs.port || this.reEncrypt !== rs.reEncrypt;
    if (this.label !== rs.label || this.#vipLabel !== vipLabel) {
      this.counters = this.#metrics.server(vipLabel, rs.label);
      this.#vipLabel = vipLabel;
    }
    this.label = rs.label;
    this.address = rs.address;
    this.port = rs.port;
    this.configuredWeight = rs.weight;
    this.backup = rs.backup;
    this.adminState = rs.adminState;
    this.reEncrypt = rs.reEncrypt;
    this.maxConnections = rs.maxConnections ?? null;
    if (moved) {
      // Connections to the old address finish their exchange and are not reused.
      this.rawPool?.close();
      this.rawPool = new UpstreamConnPool();
    }
  }

  /** The weight new sessions are balanced with: the configured one as the feedback agent scales it. */
  get weight(): number {
    return this.cell.weight(this.configuredWeight);
  }

  /** In-flight HTTP requests plus open TCP sessions. */
  get active(): number {
    return this.#active;
  }

  set active(n: number) {
    const freed = n < this.#active;
    this.#active = n;
    if (freed) this.onFree?.();
  }

  /** Whether the server carries its `maxConnections` (new sessions wait or go elsewhere). */
  get full(): boolean {
    return this.maxConnections !== null && this.#active >= this.maxConnections;
  }

  /** Whether new sessions may go here (health unknown counts as usable until the first verdict). */
  get acceptsNew(): boolean {
    return !this.removed && this.adminState === 'online' && this.weight > 0 && this.cell.health !== 'down';
  }

  /** Whether a persistent client may stay here (drain keeps them, halt, the agent's maint and down do not). */
  get acceptsPersistent(): boolean {
    return !this.removed && this.adminState !== 'halt' && this.cell.agent.state !== 'maint' && this.cell.health !== 'down';
  }

  /** Counts and meters a connection opened to the server. */
  trackSocket(socket: Socket): void {
    this.counters.connections.inc();
    this.#metrics.meter(socket, this.counters.bytesIn, this.counters.bytesOut);
  }

  /** Called when the server leaves the config: pooled connections close, in-flight ones finish. */
  dispose(): void {
    this.removed = true;
    this.rawPool.close();
  }
}
