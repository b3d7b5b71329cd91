// The interface between the control plane and a data plane engine. The config store hands
// every new revision to the engine as an immutable snapshot; the engine never sees HTTP
// routes or the store, and the API reads the engine's live status through `status()`.
// Health changes are pushed (`onHealth`) so that nobody has to poll every server to see one.

// The snapshot types are the config package's (it builds them); the engines read them.
export type { CertificateSnapshot, ConfigSnapshot, RealServerSnapshot, SniCertificateSnapshot, VirtualServiceSnapshot } from '../config/snapshot.js';
import type { ConfigSnapshot, SnapshotTarget, VirtualServiceSnapshot } from '../config/snapshot.js';
import type { VipChange as StepChange } from '../config/snapshot-step.js';

/** One VIP a revision changed (config/snapshot-step.ts): its snapshot before and after. */
export type VipChange = StepChange<VirtualServiceSnapshot>;
import type { HealthListener } from './health-feed.js';
export type { HealthListener, HealthTransition } from './health-feed.js';

/** The result of one health check. */
export interface CheckResult {
  /** ISO time the check finished. */
  at: string;
  ok: boolean;
  durationMs: number;
  detail: string;
}

/** Live state of one real server. */
export interface RealServerRuntime {
  health: 'up' | 'down' | 'unknown';
  connections: number;
  lastCheck: CheckResult | null;
  /** The weight new clients are balanced with (the feedback agent's share); absent: the configured weight. */
  effectiveWeight?: number;
  /** The feedback agent's last reply; absent or null without one. */
  agent?: { at: string; reply: string } | null;
}

/** Live state of one virtual service. */
export interface VirtualServiceRuntime {
  /** Whether every port is bound. */
  listening: boolean;
  /** Why it is not listening when it should be. */
  error: string | null;
  connections: number;
  /** Client connections and sessions waiting under the VIP's or its servers' connection limits. */
  queued: number;
  realServers: ReadonlyMap<string, RealServerRuntime>;
}

/** Live state of the whole data plane. */
export interface EngineStatus {
  /** The revision the engine runs. */
  revision: number;
  /** Whether this node owns the VIPs (false on the passive node of an HA pair). */
  active: boolean;
  virtualServices: ReadonlyMap<string, VirtualServiceRuntime>;
}

/** What applying a revision did. */
export interface ApplyReport {
  revision: number;
  durationMs: number;
  /** Listeners opened, closed or re-bound (hitless changes touch none). */
  listenersChanged: number;
}

/**
 * Where an engine that replicates source-IP persistence by itself (HAProxy `peers`) meets
 * the HA peer. Set by the HA layer when a pair forms; null when the node is on its own.
 */
export interface PersistenceReplication {
  /** This node's peer name (both nodes must use the names the other one is given). */
  localName: string;
  /** The address this node's replication listens on (its pair address). */
  localAddress: string;
  /** The TCP port of replication on both nodes (default 7778). */
  port: number;
  /** The other node of the pair. */
  peer: { name: string; address: string };
}

/** One source-IP persistence entry, as replicated between the nodes of a pair. */
export interface PersistenceEntry {
  virtualServiceId: string;
  /** The client's address. */
  client: string;
  realServerId: string;
  /** Epoch milliseconds of the client's last new session. */
  lastSeen: number;
}

/** A change to a persistence table: `set` (new or moved entry), `delete` (expired, or its server left) or `clear` (the API forgot the client). */
export interface PersistenceChange {
  type: 'set' | 'delete' | 'clear';
  entry: PersistenceEntry;
}

/** A persistence table the HA layer can stream to the peer (the embedded engine's). */
export interface ReplicablePersistence {
  export(): PersistenceEntry[];
  import(entries: readonly PersistenceEntry[]): number;
  /** Forgets one client (a clear made on the peer). */
  forget(virtualServiceId: string, client: string): boolean;
  on(event: 'change', listener: (change: PersistenceChange) => void): unknown;
  off(event: 'change', listener: (change: PersistenceChange) => void): unknown;
}

/**
 * How an engine's source-IP persistence reaches the HA peer: `stream`, the HA layer streams
 * the engine's table (embedded engine); `engine`, the engine replicates it itself and is
 * pointed at the peer (HAProxy's `peers`); `none`, nothing to replicate.
 */
export type PersistenceSync =
  | { kind: 'stream'; table: ReplicablePersistence }
  | { kind: 'engine'; setPeer(settings: PersistenceReplication | null): Promise<void> }
  | { kind: 'none' };

/** One entry of a VIP's source-IP table as the API shows it. */
export interface PersistenceTableEntry {
  /** The client key: its address, or its network (`10.1.2.0/24`) under the VIP's prefix lengths. */
  client: string;
  realServerId: string;
  /** Seconds until it is forgotten if the client opens no new session. */
  expiresInSeconds: number;
}

/** The source-IP tables of this node's data plane, read and cleared through the API (runtime state, not configuration). */
export interface PersistenceTables {
  /** The entries of a VIP, ordered by client; empty when the VIP keeps none here. */
  list(vsId: string): Promise<PersistenceTableEntry[]>;
  /** Forgets the entry under a client key (client-network.ts); false when there was none. */
  clear(vsId: string, key: string): Promise<boolean>;
}

/** Tables of an engine that keeps none. */
export const NO_PERSISTENCE_TABLES: PersistenceTables = { list: async () => [], clear: async () => false };

/** The kinds of data plane engine. */
export type EngineKind = 'embedded' | 'haproxy' | 'none';

/** A data plane engine; the store hands it every revision as a SnapshotTarget. */
export interface Engine extends SnapshotTarget {
  readonly kind: EngineKind;
  /** Starts the engine (e.g. the HAProxy master); no VIPs yet. */
  start(): Promise<void>;
  /** Refuses a candidate it could not carry, with an ApplianceError (LB_ENGINE_REFUSED); changes nothing. */
  check(snapshot: ConfigSnapshot): Promise<void>;
  /** Makes the running data plane follow the snapshot without dropping established connections. */
  apply(snapshot: ConfigSnapshot): Promise<ApplyReport>;
  /** Binds (true) or releases (false) the VIPs: HA ownership. Engines start active. */
  setActive(active: boolean): Promise<void>;
  /**
   * Live state: health, connections, listeners. With `onlyVirtualService`, `virtualServices`
   * holds that VIP alone (none when it has no such VIP): what one object's answer needs, at
   * the cost of one VIP rather than of the site (a write's answer at a thousand VIPs).
   */
  status(onlyVirtualService?: string): EngineStatus;
  /** Calls `listener` once per real server health change, as its checks decide it; returns the function that stops it. */
  onHealth(listener: HealthListener): () => void;
  /** Stops listening and releases everything; established connections get `graceMs` to finish. */
  stop(graceMs?: number): Promise<void>;
  /** How its source-IP persistence reaches the HA peer. */
  readonly persistenceSync: PersistenceSync;
  /** Its source-IP tables, for the API. */
  readonly persistenceTables: PersistenceTables;
  /** The kernel data plane's part in an HA pair (absent: the engine programs no kernel rules). */
  readonly kernelPairing?: KernelPairing;
}

/** One layer 4 VIP's flows and persistent clients as an HA pair hands them over (kernel/flow-state.ts; the contract's HaPeerFlowState item). */
export interface VipFlowState {
  id: string;
  flows: Array<{ client: string; clientPort: number; port: number; realServerId: string; expiresSeconds: number }>;
  clients: Array<{ client: string; realServerId: string; expiresSeconds: number }>;
}

/** The state of every layer 4 VIP of a node. */
export interface KernelFlowState {
  virtualServices: VipFlowState[];
}

/** What the HA layer needs of the kernel data plane (layer 4 VIPs). */
export interface KernelPairing {
  /** Whether this node programs the kernel: its connection tracking state is worth replicating to the peer. */
  readonly programsKernel: boolean;
  /**
   * In a pair whose VIP addresses move with ownership (true), snat VIPs take their VIP address
   * as the source towards the servers instead of this node's own, so that the servers' replies
   * follow the VIP to whichever node is active and a replicated connection survives a takeover.
   */
  setFloatingSource(floating: boolean): Promise<void>;
  /**
   * Programs (true) or removes (false) the layer 4 rules alone, ahead of the rest of the engine:
   * a node taking over programs them before it adds the VIP addresses, so no packet of an
   * established flow meets the address without its rules (the local stack would reset it).
   */
  setActive(active: boolean): Promise<void>;
  /** The flows and persistent clients in this node's kernel (the active node's, sent to the peer). */
  exportFlowState(): Promise<KernelFlowState>;
  /** Holds the active peer's flows and clients, written into this node's kernel when it takes over. */
  holdPeerFlowState(state: KernelFlowState): void;
}
