// The HA pair as the API sees it. The standalone controller is what a node runs when it is
// not paired; the pair implementation lives beside it and replaces it once a pair is formed.
import type { components } from '../../openapi/generated/types.js';
import type { WriteGuard } from '../api/spec-router.js';
import type { Principal } from '../api/auth.js';

/** The contract's HaPair. */
export type HaPairView = components['schemas']['HaPair'];
/** The contract's HaStatus. */
export type HaStatusView = components['schemas']['HaStatus'];
/** The contract's HaPairInput. */
export type HaPairInput = components['schemas']['HaPairInput'];

/** What the API needs from the HA layer. */
export interface HaController {
  /** The pair's configuration. */
  pair(): HaPairView;
  /** The live state. */
  status(): HaStatusView;
  /** Pairs this node (primary) with a secondary. */
  create(input: HaPairInput, principal: Principal): Promise<HaPairView>;
  /** Changes the pair's settings (a merge patch already validated into a full input). */
  update(patch: Record<string, unknown>, ifMatch: string | undefined): Promise<HaPairView>;
  /** Breaks the pair. */
  remove(): Promise<void>;
  /** Makes this node active. */
  takeover(): Promise<HaStatusView>;
  /** Refuses writes this node must not take (the secondary refuses configuration writes). */
  guard: WriteGuard;
  /** Role and ownership for the overview and metrics. */
  summary(): { haRole: 'standalone' | 'primary' | 'secondary'; haState: 'standalone' | 'active' | 'passive'; peerHeartbeatAgeMs: number | null };
}
