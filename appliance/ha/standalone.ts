// The HA controller of a node that is not paired: it owns its VIPs and accepts every write.
import { ApplianceError } from '../errors.js';
import type { HaController, HaPairInput, HaPairView, HaStatusView } from './controller.js';

/** A node on its own. */
export class StandaloneHa implements HaController {
  readonly #revision: () => number;

  constructor(revision: () => number) {
    this.#revision = revision;
  }

  pair(): HaPairView {
    return { state: 'standalone', role: null };
  }

  status(): HaStatusView {
    return { role: 'standalone', state: 'standalone', peer: null, revision: this.#revision(), peerBehind: false, lastTransition: null };
  }

  async create(_input: HaPairInput): Promise<HaPairView> {
    throw new ApplianceError('LB_HA_STATE', 'this build has no HA pairing support yet');
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

  summary(): ReturnType<HaController['summary']> {
    return { haRole: 'standalone', haState: 'standalone', peerHeartbeatAgeMs: null };
  }
}
