// The links between the two nodes of a pair besides the API: the UDP heartbeat, persistence
// replication (the built-in TLS stream, or the engine's own `peers` when it has them) and,
// on a node that programs the kernel (layer 4 VIPs), connection tracking state through
// conntrackd. Started together, stopped together, restarted together when the ports or
// timers change.
import type { Logger } from 'pino';
import type { Engine, KernelFlowState } from '../engine/types.js';
import { ApplianceError } from '../errors.js';
import type { HaMetrics } from './ha-metrics.js';
import { deviceHolding } from '../engine/kernel/interfaces.js';
import { ConntrackSync, conntrackdAvailable } from './conntrack-sync.js';
import { FlowStateReplication } from './flow-state-replication.js';
import { HeartbeatLink } from './heartbeat.js';
import type { Heartbeat } from './heartbeat-packet.js';
import type { PairKeys } from './pair-keys.js';
import type { PairRecord } from './pair-state.js';
import { PersistenceStream, type PersistenceReplication } from './persistence-replication.js';

/** What the links need. */
export interface PairLinksOptions {
  record: PairRecord;
  keys: PairKeys;
  bootId: string;
  engine: Engine;
  tls: { cert: string; key: string };
  logger: Logger;
  metrics: HaMetrics;
  /** The data dir (conntrackd's files). */
  dataDir: string;
  /** This node's side of the next heartbeat. */
  local: () => Pick<Heartbeat, 'role' | 'state' | 'term' | 'revision' | 'usersDigest'>;
  /** An accepted heartbeat of the peer. */
  onHeartbeat: (hb: Heartbeat, receivedAt: number) => void;
  /** Sends the layer 4 flow state to the peer (its peer API). */
  sendFlowState: (state: KernelFlowState) => Promise<unknown>;
}

/** A socket error of a link as a problem naming the setting whose port it is (other errors as they are). */
function bindError(err: unknown, link: string, address: string, port: number, field: string): unknown {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === 'EADDRINUSE') return new ApplianceError('LB_ADDRESS_IN_USE', `the ${link} port ${port} is already in use on ${address}`, { field, cause: err });
  if (code === 'EADDRNOTAVAIL' || code === 'EACCES') return new ApplianceError('LB_HA_STATE', `the ${link} cannot bind ${address} port ${port} (${code})`, { field, cause: err });
  return err;
}

/** The heartbeat and persistence replication of one pair member. */
export class PairLinks {
  readonly #o: PairLinksOptions;
  #heartbeat: HeartbeatLink | null = null;
  #persistence: PersistenceReplication | null = null;
  #conntrack: ConntrackSync | null = null;
  #flows: FlowStateReplication | null = null;

  constructor(options: PairLinksOptions) {
    this.#o = options;
  }

  /**
   * Binds the heartbeat socket and the replication listener (or configures the engine's peers).
   * All or nothing: a link that cannot start closes the others and throws a 409 naming the
   * setting (`/heartbeatPort` or `/replicationPort`) when its port cannot be bound.
   */
  async start(active: boolean): Promise<void> {
    try {
      await this.#start(active);
    } catch (err) {
      await this.stop().catch(() => undefined);
      throw err;
    }
  }

  async #start(active: boolean): Promise<void> {
    const { record: r, keys, logger } = this.#o;
    const heartbeat = new HeartbeatLink({
      localAddress: r.localAddress,
      peerAddress: r.peerAddress,
      port: r.settings.heartbeatPort,
      intervalMs: r.settings.heartbeatIntervalMs,
      key: keys.heartbeat,
      pairId: r.pairId,
      bootId: this.#o.bootId,
      logger,
      local: this.#o.local,
      onHeartbeat: this.#o.onHeartbeat,
      onReject: (reason) => this.#o.metrics.heartbeatsRejected.inc({ reason }),
    });
    await heartbeat.start().catch((err: unknown) => Promise.reject(bindError(err, 'heartbeat', r.localAddress, r.settings.heartbeatPort, '/heartbeatPort')));
    this.#heartbeat = heartbeat;
    await this.#startConntrack(active);
    const pairing = this.#o.engine.kernelPairing;
    if (pairing?.programsKernel) {
      this.#flows = new FlowStateReplication({ pairing, send: this.#o.sendFlowState, logger: logger.child({ component: 'flow-state' }) });
      this.#flows.setActive(active);
    }
    const engine = this.#o.engine;
    const sync = engine.persistenceSync;
    if (sync.kind === 'engine') {
      // Both ends use the pair roles as their peer names.
      await sync.setPeer({ localName: r.role, localAddress: r.localAddress, port: r.settings.replicationPort, peer: { name: r.role === 'primary' ? 'secondary' : 'primary', address: r.peerAddress } });
      return;
    }
    if (sync.kind !== 'stream') return;
    const table = sync.table;
    const stream = new PersistenceStream({
      table,
      localAddress: r.localAddress,
      peerAddress: r.peerAddress,
      port: r.settings.replicationPort,
      tls: this.#o.tls,
      peerFingerprintSha256: r.peerFingerprintSha256,
      token: keys.replicationToken,
      logger,
    });
    this.#persistence = stream;
    await stream.start().catch((err: unknown) => Promise.reject(bindError(err, 'persistence replication', r.localAddress, r.settings.replicationPort, '/replicationPort')));
    stream.setActive(active);
  }

  /**
   * conntrackd, on a node that programs the kernel, over UDP on the replication port. Never
   * fails the pair: without it the pair runs, and established nat and snat connections do not
   * survive a takeover (logged).
   */
  async #startConntrack(active: boolean): Promise<void> {
    const { record: r, logger, engine } = this.#o;
    if (!engine.kernelPairing?.programsKernel) return;
    if (!conntrackdAvailable()) {
      logger.warn('conntrackd is not installed: established nat and snat connections will not survive a takeover');
      return;
    }
    const sync = new ConntrackSync({
      dataDir: this.#o.dataDir,
      localAddress: r.localAddress,
      peerAddress: r.peerAddress,
      port: r.settings.replicationPort,
      device: await deviceHolding(r.localAddress),
      logger: logger.child({ component: 'conntrackd' }),
    });
    try {
      await sync.start(active);
      this.#conntrack = sync;
    } catch (err) {
      await sync.stop();
      logger.error({ err: (err as Error).message }, 'conntrackd did not start: established nat and snat connections will not survive a takeover');
    }
  }

  /** Before this node draws the VIPs' traffic: the peer's replicated connections go into its kernel. */
  async takeConnections(): Promise<void> {
    await this.#conntrack?.becomeActive();
  }

  /** The connection state replication of this node, if it runs (tests, support). */
  get conntrack(): ConntrackSync | null {
    return this.#conntrack;
  }

  /** Sends a heartbeat now (a change of state). */
  sendNow(): void {
    this.#heartbeat?.sendNow();
  }

  /** The active node streams its persistence table; the passive one receives. */
  setActive(active: boolean): void {
    this.#persistence?.setActive(active);
    this.#flows?.setActive(active);
    if (!active) void this.#conntrack?.becomePassive();
  }

  /** Closes everything. */
  async stop(): Promise<void> {
    await this.#heartbeat?.stop();
    this.#heartbeat = null;
    await this.#conntrack?.stop();
    this.#conntrack = null;
    await this.#flows?.stop();
    this.#flows = null;
    await this.#persistence?.close();
    this.#persistence = null;
    const sync = this.#o.engine.persistenceSync;
    if (sync.kind === 'engine') await sync.setPeer(null);
  }
}
