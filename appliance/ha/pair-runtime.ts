// One node of a formed pair at run time: the heartbeat, the probe of the peer's API (the
// second path), the ownership state machine (./ownership.ts) carried out on the engine and
// the VIP addresses, configuration replication (primary) and persistence replication (the
// active node streams). Ownership changes run one at a time; ticks wait while one runs.
import type { Logger } from 'pino';
import type { components } from '../../openapi/generated/types.js';
import type { RevisionRecord } from '../config/model.js';
import type { ConfigStore } from '../config/store.js';
import type { Engine } from '../engine/types.js';
import { ApplianceError } from '../errors.js';
import type { UsersDocument, UserStore } from '../users/user-store.js';
import { ConfigReplicator, usersDigest } from './config-replication.js';
import type { HaPairView, HaStatusView } from './controller.js';
import type { HaMetrics } from './ha-metrics.js';
import type { Heartbeat } from './heartbeat-packet.js';
import { decideOwnership, heartbeatAge, peerDead, type OwnershipInput, type OwnershipState, type PeerObservation } from './ownership.js';
import { deriveKeys, type PairKeys } from './pair-keys.js';
import { saveHaState, type PairRecord, type PairSettings } from './pair-state.js';
import { PeerClient } from './peer-client.js';
import { PeerProbe } from './peer-probe.js';
import { PairLinks } from './pair-links.js';
import type { VipAddresses } from './vip-addresses.js';

/** The contract's HaPeerState. */
export type PeerStateView = components['schemas']['HaPeerState'];

/** What a pair runtime is built from. */
export interface PairRuntimeDeps {
  dataDir: string;
  store: ConfigStore;
  users: UserStore;
  engine: Engine;
  logger: Logger;
  tls: { cert: string; key: string; fingerprintSha256: string };
  vip: VipAddresses | null;
  metrics: HaMetrics;
  /** Random id of this process (heartbeats restart their sequence with it). */
  bootId: string;
  /** The peer broke the pair (it said so, or it no longer knows this pair). */
  onPeerLeft: () => void;
}

/** Time limit of a replication call: long enough for a busy peer, short enough for a write to wait. */
export function replicationTimeoutMs(s: PairSettings): number {
  return Math.max(1000, Math.min(5000, s.deadTimeMs));
}

/** Every VIP address of the current configuration. */
export function vipAddressesOf(store: ConfigStore): string[] {
  return [...new Set(Object.values(store.current.config.virtualServices).map((vs) => vs.ipAddress))];
}

interface HeardPeer extends PeerObservation {
  revision: number;
  usersDigest: string;
  bootId: string;
}

/** A running pair member. */
export class PairRuntime {
  readonly #d: PairRuntimeDeps;
  #record: PairRecord;
  readonly #keys: PairKeys;
  #state: OwnershipState;
  #since: number;
  readonly #startedAt = Date.now();
  #returned: boolean;
  #heard: HeardPeer | null = null;
  readonly #probe: PeerProbe;
  #failbackNotBefore = 0;
  #transition: HaStatusView['lastTransition'] = null;
  #busy = false;
  #actions: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | null = null;
  #links: PairLinks | null = null;
  readonly #client: PeerClient;
  readonly #replicator: ConfigReplicator | null;
  #closed = false;
  /** Removes the store and users listeners this run added (a pair re-formed adds new ones). */
  readonly #unsubscribe: (() => void)[] = [];

  /**
   * `peerSeen`: what this node knows of its peer at start, when it just talked to it (pairing):
   * counted as a heartbeat, so that a slow first heartbeat does not look like a dead peer.
   */
  constructor(deps: PairRuntimeDeps, record: PairRecord, initial: OwnershipState, peerSeen?: OwnershipState) {
    this.#d = deps;
    this.#record = record;
    this.#keys = deriveKeys(record.key, record.pairId);
    this.#state = initial;
    this.#since = Date.now();
    this.#returned = initial === 'passive';
    if (peerSeen) this.#heard = { at: Date.now(), state: peerSeen, term: record.term, revision: 0, usersDigest: '', bootId: '' };
    this.#client = this.#newClient();
    this.#probe = new PeerProbe({
      client: () => this.#client,
      pairId: record.pairId,
      settings: () => this.#record.settings,
      lastHeard: () => this.#heard?.at ?? this.#startedAt,
      logger: deps.logger,
      onState: (state) => {
        if (!this.#replicator) return;
        this.#replicator.observe(state.revision, state.usersDigest, state.bootId);
        if (this.#replicator.behind) void this.#replicator.catchUp();
      },
      onLeft: () => deps.onPeerLeft(),
    });
    this.#replicator =
      record.role === 'primary'
        ? new ConfigReplicator({ store: deps.store, users: deps.users, peer: () => this.#client, logger: deps.logger, peerDown: () => peerDead(this.#input(Date.now())) })
        : null;
    if (this.#replicator) {
      const replicator = this.#replicator;
      this.#unsubscribe.push(deps.store.onCommit(() => (this.#closed ? undefined : replicator.onCommit())));
      this.#unsubscribe.push(deps.users.onChange(() => (this.#closed ? undefined : replicator.onUsersChanged())));
    }
    deps.metrics.term.set(record.term);
  }

  /** This node's role. */
  get role(): PairRecord['role'] {
    return this.#record.role;
  }

  /** Whether this node owns the VIPs. */
  get state(): OwnershipState {
    return this.#state;
  }

  /** The pair record. */
  get record(): Readonly<PairRecord> {
    return this.#record;
  }

  /** Whether the primary has a write the secondary lacks (on the secondary: whether it lacks one). */
  /** Whether the secondary lacks `revision` (null: anything the primary has). */
  peerLacks(revision: number | null): boolean {
    if (this.#replicator && revision !== null) return this.#replicator.lacks(revision);
    return this.peerBehind;
  }

  get peerBehind(): boolean {
    if (this.#replicator) return this.#replicator.behind;
    return this.#heard !== null && this.#heard.revision > this.#d.store.current.revision;
  }

  /** Starts the heartbeat, replication and the state machine. Binds the VIPs if active. */
  async start(): Promise<void> {
    await this.#startLinks();
    // The addresses move with ownership: snat VIPs take the VIP as their source, so their connections can move too.
    if (this.#d.vip) await this.#d.engine.kernelPairing?.setFloatingSource(true);
    if (this.#state === 'active') {
      if (this.#d.vip) await this.#d.vip.own(vipAddressesOf(this.#d.store));
      await this.#d.engine.setActive(true);
    }
    this.#schedule();
  }

  /** Stops everything; the engine keeps its current ownership. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const off of this.#unsubscribe.splice(0)) off();
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#replicator?.close();
    await this.#actions.catch(() => undefined);
    await this.#stopLinks();
    await this.#d.engine.kernelPairing?.setFloatingSource(false);
    await this.#client.close();
  }

  // ------------------------------------------------------------ views

  /** The contract's HaPair. */
  pairView(): HaPairView {
    const r = this.#record;
    return {
      state: 'paired',
      role: r.role,
      localEndpoint: r.localEndpoint,
      peerEndpoint: r.peerEndpoint,
      localAddress: r.localAddress,
      peerAddress: r.peerAddress,
      peerFingerprintSha256: r.peerFingerprintSha256,
      ...r.settings,
      pairedAt: r.pairedAt,
    };
  }

  /** The contract's HaStatus. */
  statusView(): HaStatusView {
    const now = Date.now();
    const heard = this.#heard;
    const fresh = heard !== null && now - heard.at < this.#record.settings.deadTimeMs;
    const probe = this.#probe.last;
    const probeState = probe?.ok ? probe.state : undefined;
    return {
      role: this.#record.role,
      state: this.#state,
      peer: {
        endpoint: this.#record.peerEndpoint,
        state: fresh ? heard.state : (probeState ?? 'unknown'),
        heartbeatAgeMs: heard ? now - heard.at : null,
        apiReachable: probe?.ok ?? false,
        revision: heard?.revision ?? null,
        term: heard?.term ?? null,
      },
      revision: this.#d.store.current.revision,
      term: this.#record.term,
      peerBehind: this.peerBehind,
      lastTransition: this.#transition,
    };
  }

  /** Milliseconds since the peer's last heartbeat, or null if never heard. */
  heartbeatAgeMs(): number | null {
    return this.#heard ? Date.now() - this.#heard.at : null;
  }

  /** This node as its peer sees it (HaPeerState). */
  peerState(): PeerStateView {
    return {
      pairId: this.#record.pairId,
      role: this.#record.role,
      state: this.#state,
      term: this.#record.term,
      revision: this.#d.store.current.revision,
      usersDigest: usersDigest(this.#d.users),
      bootId: this.#d.bootId,
    };
  }

  // ------------------------------------------------------------ the peer's calls

  /** Stores a revision the primary replicated. */
  async adoptRevision(record: RevisionRecord, keys: Record<string, string>, replaceHistory: boolean): Promise<PeerStateView> {
    if (this.#record.role !== 'secondary') throw new ApplianceError('LB_HA_STATE', 'the primary of a pair takes no replicated revisions');
    await this.#d.store.adopt(record, keys, { replaceHistory });
    return this.peerState();
  }

  /** Replaces the users with the primary's. */
  async adoptUsers(doc: UsersDocument): Promise<PeerStateView> {
    if (this.#record.role !== 'secondary') throw new ApplianceError('LB_HA_STATE', 'the primary of a pair takes no replicated users');
    await this.#d.users.replaceAll(doc);
    return this.peerState();
  }

  /** Gives the VIPs up because the peer takes them (manual takeover or failback). */
  release(term: number, reason: 'takeover' | 'failback'): Promise<PeerStateView> {
    return this.#act(async () => {
      await this.#setTerm(Math.max(this.#record.term, term));
      if (this.#state === 'active') await this.#becomePassive(reason === 'failback' ? 'failback to the primary' : 'takeover by the peer');
      this.#returned = false;
      this.#since = Date.now();
      return this.peerState();
    });
  }

  /**
   * Applies new pair settings (from the primary's updateHaPair, or locally). All or nothing:
   * when the links cannot start with them (a port taken), the old settings and links come back
   * and the links' error is thrown.
   */
  async applySettings(settings: PairSettings): Promise<void> {
    const old = this.#record;
    const portsChanged = settings.heartbeatPort !== old.settings.heartbeatPort || settings.replicationPort !== old.settings.replicationPort;
    // New timers or ports: the links restart (the peer does the same within the same call).
    await this.#stopLinks();
    this.#record = { ...old, settings };
    try {
      await this.#startLinks();
    } catch (err) {
      this.#record = { ...this.#record, settings: old.settings };
      await this.#startLinks();
      throw err;
    }
    await this.#save();
    if (portsChanged) this.#d.logger.info({ settings }, 'HA ports changed');
    this.#schedule();
  }

  /** The peer's API, for the HA node (pair-wide calls such as settings and leaving). */
  get client(): PeerClient {
    return this.#client;
  }

  // ------------------------------------------------------------ this node's calls

  /** Manual takeover: the peer releases first when it answers; then this node binds. */
  takeover(): Promise<void> {
    return this.#act(async () => {
      if (this.#state === 'active') return;
      const term = this.#nextTerm();
      try {
        await this.#client.releaseHaPeer({ term, reason: 'takeover' });
      } catch (err) {
        // A peer that cannot be reached is taken for dead (it yields when it returns: this term is higher).
        this.#d.logger.warn({ err: (err as Error).message }, 'manual takeover: the peer could not be asked to release the VIPs');
      }
      await this.#becomeActive('manual takeover', term);
    });
  }

  // ------------------------------------------------------------ internals

  #newClient(): PeerClient {
    return new PeerClient({
      endpoint: this.#record.peerEndpoint,
      fingerprintSha256: this.#record.peerFingerprintSha256,
      authorization: `Bearer ${this.#keys.apiToken}`,
      timeoutMs: replicationTimeoutMs(this.#record.settings),
      localAddress: this.#record.localAddress,
    });
  }

  async #startLinks(): Promise<void> {
    const r = this.#record;
    const links = new PairLinks({
      record: r,
      keys: this.#keys,
      bootId: this.#d.bootId,
      engine: this.#d.engine,
      tls: this.#d.tls,
      logger: this.#d.logger,
      metrics: this.#d.metrics,
      dataDir: this.#d.dataDir,
      local: () => ({ role: r.role, state: this.#state, term: this.#record.term, revision: this.#d.store.current.revision, usersDigest: usersDigest(this.#d.users) }),
      onHeartbeat: (hb, at) => this.#onHeartbeat(hb, at),
      sendFlowState: (state) => this.#client.putHaPeerFlowState(state),
    });
    await links.start(this.#state === 'active');
    this.#links = links;
  }

  async #stopLinks(): Promise<void> {
    await this.#links?.stop();
    this.#links = null;
  }

  #schedule(): void {
    if (this.#timer) clearInterval(this.#timer);
    // Ticks are cheap (no I/O unless something changes); a fine grain keeps takeover close to the dead time.
    const every = Math.max(10, Math.min(50, Math.floor(this.#record.settings.heartbeatIntervalMs / 4)));
    this.#timer = setInterval(() => this.#tick(), every);
  }

  #input(now: number): OwnershipInput {
    const s = this.#record.settings;
    return {
      now,
      role: this.#record.role,
      state: this.#state,
      term: this.#record.term,
      since: this.#since,
      startedAt: this.#startedAt,
      intervalMs: s.heartbeatIntervalMs,
      deadTimeMs: s.deadTimeMs,
      preferPrimary: s.preferPrimary,
      returned: this.#returned,
      heartbeat: this.#heard,
      probe: this.#probe.last,
    };
  }

  #onHeartbeat(hb: Heartbeat, at: number): void {
    this.#d.metrics.heartbeatsAccepted.inc();
    if (hb.role === this.#record.role) {
      this.#d.logger.error({ role: hb.role }, 'the peer claims this node\'s role: heartbeat ignored');
      return;
    }
    this.#heard = { at, state: hb.state, term: hb.term, revision: hb.revision, usersDigest: hb.usersDigest, bootId: hb.bootId };
    if (this.#state === 'passive' && hb.term > this.#record.term && !this.#busy) void this.#setTerm(hb.term);
    if (this.#replicator) {
      this.#replicator.observe(hb.revision, hb.usersDigest, hb.bootId);
      this.#d.metrics.peerBehind.set(this.#replicator.behind ? 1 : 0);
      if (this.#replicator.behind) void this.#replicator.catchUp();
    }
    this.#tick();
  }

  #tick(): void {
    if (this.#closed || this.#busy) return;
    const now = Date.now();
    this.#probe.maybe(now, heartbeatAge(this.#input(now)));
    const decision = decideOwnership(this.#input(now));
    switch (decision.action) {
      case 'takeover':
        void this.#act(() => this.#becomeActive(decision.reason, this.#nextTerm()));
        return;
      case 'release':
        void this.#act(() => this.#becomePassive(decision.reason));
        return;
      case 'failback':
        if (now >= this.#failbackNotBefore) void this.#act(() => this.#failback());
        return;
      case 'none':
        // The configuration may have gained or lost a VIP address since the last tick.
        if (this.#state === 'active' && this.#d.vip) void this.#d.vip.own(vipAddressesOf(this.#d.store));
    }
  }

  #nextTerm(): number {
    return Math.max(this.#record.term, this.#heard?.term ?? 0, this.#probe.last?.term ?? 0) + 1;
  }

  async #failback(): Promise<void> {
    if (this.#state === 'active') return;
    const term = this.#nextTerm();
    try {
      await this.#client.releaseHaPeer({ term, reason: 'failback' });
    } catch (err) {
      // The secondary keeps the VIPs for now; try again after another dead time.
      this.#failbackNotBefore = Date.now() + this.#record.settings.deadTimeMs;
      this.#d.logger.warn({ err: (err as Error).message }, 'failback: the secondary could not be asked to release the VIPs');
      return;
    }
    await this.#becomeActive('failback', term);
  }

  async #becomeActive(reason: string, term: number): Promise<void> {
    if (this.#state === 'active' || this.#closed) return;
    await this.#setTerm(term);
    // Active from the start of taking over, and the peer hears so at once. Binding takes a
    // while (connection state, kernel rules, addresses, engine; long under load), and a peer
    // that released on request and then heard this node still passive took the VIPs back as
    // 'both passive': a manual takeover ended with the old active node active again.
    this.#setState('active', reason);
    try {
      // The peer's connections enter the kernel, and the layer 4 rules are programmed, before
      // the addresses and their gratuitous ARP draw the packets: a packet of an established
      // flow that met the address without its rules would be reset by the local stack.
      await this.#links?.takeConnections();
      await this.#d.engine.kernelPairing?.setActive(true);
      if (this.#d.vip) await this.#d.vip.own(vipAddressesOf(this.#d.store));
      await this.#d.engine.setActive(true);
    } catch (err) {
      await this.#becomePassive(`taking over failed: ${(err as Error).message}`).catch(() => undefined);
      throw err;
    }
    this.#links?.setActive(true);
  }

  async #becomePassive(reason: string): Promise<void> {
    if (this.#state === 'passive') return;
    // The addresses go first: while the rules are still there the layer 4 flows keep being
    // forwarded (and then follow the addresses to the peer); rules gone with the address still
    // here, the local stack would reset every established flow that reached this node.
    if (this.#d.vip) await this.#d.vip.release();
    await this.#d.engine.setActive(false);
    this.#setState('passive', reason);
    this.#links?.setActive(false);
  }

  #setState(to: OwnershipState, reason: string): void {
    const from = this.#state;
    this.#state = to;
    this.#since = Date.now();
    if (to === 'active') this.#returned = false;
    this.#transition = { at: new Date(this.#since).toISOString(), from, to, reason };
    this.#d.metrics.transitions.inc({ to, reason });
    this.#d.logger.warn({ from, to, reason, term: this.#record.term }, to === 'active' ? 'HA: this node is now active' : 'HA: this node is now passive');
    // The peer learns at once rather than at the next interval.
    this.#links?.sendNow();
  }

  async #setTerm(term: number): Promise<void> {
    if (term === this.#record.term) return;
    this.#record = { ...this.#record, term };
    this.#d.metrics.term.set(term);
    await this.#save();
  }

  #save(): Promise<void> {
    return saveHaState(this.#d.dataDir, { pair: this.#record, released: false });
  }

  #act<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#actions.then(async () => {
      this.#busy = true;
      try {
        return await fn();
      } finally {
        this.#busy = false;
      }
    });
    this.#actions = run.catch((err: unknown) => this.#d.logger.error({ err }, 'HA ownership change failed'));
    return run;
  }
}
