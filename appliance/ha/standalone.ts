// The HA controller of a node that is not paired: it owns its VIPs and accepts every write.
// It cannot pair by itself: the HA node (./ha-node.ts) pairs and uses this class for the
// views of its standalone state.
import { ApplianceError } from '../errors.js';
import type { HaController, HaPairInput, HaPairView, HaPeerEndpoints, HaStatusView } from './controller.js';

function notPaired(): never {
  throw new ApplianceError('LB_HA_STATE', 'this node is not part of an HA pair');
}

/** A node on its own. */
export class StandaloneHa implements HaController {
  readonly #revision: () => number;
  readonly #released: () => boolean;

  /** `released`: whether this node keeps its VIPs released (it was passive when its pair was broken). */
  constructor(revision: () => number, released: () => boolean = () => false) {
    this.#revision = revision;
    this.#released = released;
  }

  pair(): HaPairView {
    return { state: 'standalone', role: null };
  }

  status(): HaStatusView {
    return { role: 'standalone', state: this.#released() ? 'passive' : 'standalone', peer: null, revision: this.#revision(), term: null, peerBehind: false, lastTransition: null };
  }

  async create(_input: HaPairInput): Promise<HaPairView> {
    throw new ApplianceError('LB_HA_STATE', 'this controller cannot pair');
  }

  async update(): Promise<HaPairView> {
    throw new ApplianceError('LB_NOT_FOUND', 'this node is not part of an HA pair', { field: '' });
  }

  async remove(): Promise<void> {
    throw new ApplianceError('LB_NOT_FOUND', 'this node is not part of an HA pair');
  }

  async takeover(): Promise<HaStatusView> {
    throw new ApplianceError('LB_NOT_FOUND', 'this node is not part of an HA pair');
  }

  guard = (): void => undefined;

  peerToken(): 'unpaired' {
    return 'unpaired';
  }

  peerSync(): null {
    return null;
  }

  peer: HaPeerEndpoints = {
    join: async () => notPaired(),
    leave: async () => notPaired(),
    state: () => notPaired(),
    revision: async () => notPaired(),
    users: async () => notPaired(),
    settings: async () => notPaired(),
    flowState: () => notPaired(),
    release: async () => notPaired(),
  };

  summary(): ReturnType<HaController['summary']> {
    return { haRole: 'standalone', haState: this.#released() ? 'passive' : 'standalone', peerHeartbeatAgeMs: null };
  }
}
