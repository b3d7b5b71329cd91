// The HA pair as the API sees it. The standalone controller is what a node runs when it is
// not paired; the HA node (./ha-node.ts) is the one the appliance runs: standalone until it
// pairs, then primary or secondary of a pair, standalone again when the pair is broken.
import type { components } from '../../openapi/generated/types.js';
import type { OperationId } from '../../openapi/generated/operations.js';
import type { WriteGuard } from '../write-guard.js';
import type { Principal } from '../users/user-store.js';
import { etagOf } from '../config/canonical-json.js';

/** The contract's HaPair. */
export type HaPairView = components['schemas']['HaPair'];
/** The contract's HaStatus. */
export type HaStatusView = components['schemas']['HaStatus'];
/** The contract's HaPairInput. */
export type HaPairInput = components['schemas']['HaPairInput'];
/** The contract's HaPeerState (internal). */
export type HaPeerStateView = components['schemas']['HaPeerState'];

/** The ETag of the pair's configuration as read (getHaPair) and matched by updateHaPair's If-Match. */
export function haPairEtag(view: HaPairView): string {
  return etagOf(view);
}

/** The internal operations the peer calls (the contract's `ha-internal` tag). */
export interface HaPeerEndpoints {
  /** Becomes the secondary of the pair the primary describes. */
  join(body: components['schemas']['HaPeerJoin']): Promise<HaPeerStateView>;
  /** The peer broke the pair. */
  leave(): Promise<void>;
  /** This node's ownership state. */
  state(): HaPeerStateView;
  /** Stores a replicated revision. */
  revision(body: components['schemas']['HaPeerRevision']): Promise<HaPeerStateView>;
  /** Replaces the users with the primary's. */
  users(body: components['schemas']['HaPeerUsers']): Promise<HaPeerStateView>;
  /** Applies the pair's new settings. */
  settings(body: components['schemas']['HaPeerSettings']): Promise<HaPeerStateView>;
  /** Holds the active peer's layer 4 flows and persistent clients for a takeover. */
  flowState(body: components['schemas']['HaPeerFlowState']): void;
  /** Releases the VIPs for the peer. */
  release(body: components['schemas']['HaPeerRelease']): Promise<HaPeerStateView>;
}

/** What the API needs from the HA layer. */
export interface HaController {
  /** The pair's configuration. */
  pair(): HaPairView;
  /** The live state. */
  status(): HaStatusView;
  /** Pairs this node (primary) with a secondary. */
  create(input: HaPairInput, principal: Principal): Promise<HaPairView>;
  /** Changes the pair's settings (a merge patch); 412 unless `ifMatch` matches the pair's current ETag. */
  update(patch: Record<string, unknown>, ifMatch: string | undefined): Promise<HaPairView>;
  /** Breaks the pair. */
  remove(): Promise<void>;
  /** Makes this node active. */
  takeover(): Promise<HaStatusView>;
  /** Refuses writes this node must not take (the secondary refuses configuration writes). */
  guard: WriteGuard;
  /**
   * Whether a token the peer presents is this pair's (derived from the pair key), compared in
   * constant time; `unpaired`: this node is in no pair (nor joining one) and takes no peer
   * calls. The API reads the token from the request (api/peer-auth.ts).
   */
  peerToken(token: string): 'accepted' | 'refused' | 'unpaired';
  /** On the primary, whether the secondary has every revision (`behind`: not yet); null on any other node. */
  peerSync(revision?: number | null): 'in-sync' | 'behind' | null;
  /** The internal operations the peer calls. */
  peer: HaPeerEndpoints;
  /** Role and ownership for the overview and metrics. */
  summary(): { haRole: 'standalone' | 'primary' | 'secondary'; haState: 'standalone' | 'active' | 'passive'; peerHeartbeatAgeMs: number | null };
}
