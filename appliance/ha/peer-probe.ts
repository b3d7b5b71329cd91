// The second path of failure detection: probes of the peer's API (getHaPeerState). While
// heartbeats arrive the API is asked every few seconds (for the status page); once two
// heartbeats are missing, every interval, each probe limited so that it has failed before the
// dead time runs out (two failures in a row count: see ./ownership.ts). A peer that answers
// as a stranger to this pair three times in a row has left it (it was broken there while this
// node was away).
import type { Logger } from 'pino';
import { ApplianceError } from '../errors.js';
import type { HaPeerStateView } from './controller.js';
import { recordProbe, type ApiProbe } from './ownership.js';
import type { PairSettings } from './pair-state.js';
import { peerCodeOf, type PeerClient } from './peer-client.js';

/** How often the peer's API is asked while the heartbeat is fine. */
export const IDLE_PROBE_MS = 5000;

/**
 * Time limit of one probe of the peer's API. Probes start two intervals after the last
 * heartbeat and follow each other every interval; the limit lets two of them fail before the
 * dead time runs out, so that a partition is decided at the dead time too.
 */
export function probeTimeoutMs(s: PairSettings): number {
  return Math.max(100, Math.min(1000, Math.floor((s.deadTimeMs - 2 * s.heartbeatIntervalMs) / 2)));
}

/** What the probe needs. */
export interface PeerProbeOptions {
  client: () => PeerClient;
  pairId: string;
  settings: () => PairSettings;
  /** When the peer was last heard (its last heartbeat, or the start): a run of failures counts from there. */
  lastHeard: () => number;
  logger: Logger;
  /** The peer answered with its state. */
  onState: (state: HaPeerStateView) => void;
  /** The peer answers, but no longer as a member of this pair. */
  onLeft: () => void;
}

/** Probes of the peer's API. */
export class PeerProbe {
  readonly #o: PeerProbeOptions;
  #last: ApiProbe | null = null;
  #running = false;
  #lastAt = Date.now();
  #strangerAnswers = 0;

  constructor(options: PeerProbeOptions) {
    this.#o = options;
  }

  /** The latest finished probe. */
  get last(): ApiProbe | null {
    return this.#last;
  }

  /** Starts a probe if one is due (given the heartbeat's age) and none is running. */
  maybe(now: number, heartbeatAgeMs: number): void {
    if (this.#running) return;
    const s = this.#o.settings();
    const suspect = heartbeatAgeMs >= 2 * s.heartbeatIntervalMs;
    if (now - this.#lastAt < (suspect ? s.heartbeatIntervalMs : IDLE_PROBE_MS)) return;
    this.#running = true;
    this.#lastAt = now;
    void this.#probe(now, probeTimeoutMs(s)).finally(() => {
      this.#running = false;
    });
  }

  async #probe(startedAt: number, timeoutMs: number): Promise<void> {
    try {
      const state = await this.#o.client().getHaPeerState({ signal: AbortSignal.timeout(timeoutMs) });
      if (state.pairId !== this.#o.pairId) throw new ApplianceError('LB_HA_STATE', 'the peer belongs to another pair');
      this.#last = recordProbe(this.#last, { startedAt, finishedAt: Date.now(), ok: true, state: state.state, term: state.term }, this.#o.lastHeard());
      this.#strangerAnswers = 0;
      this.#o.onState(state);
    } catch (err) {
      this.#last = recordProbe(this.#last, { startedAt, finishedAt: Date.now(), ok: false }, this.#o.lastHeard());
      const code = peerCodeOf(err) ?? (err instanceof ApplianceError && err.code === 'LB_HA_STATE' ? 'LB_HA_STATE' : undefined);
      // Three answers in a row, so that no single odd answer breaks a pair.
      if (code === 'LB_UNAUTHORIZED' || code === 'LB_HA_STATE') this.#strangerAnswers++;
      else this.#strangerAnswers = 0;
      if (this.#strangerAnswers >= 3) {
        this.#strangerAnswers = 0;
        this.#o.logger.warn({ code }, 'the peer no longer belongs to this pair; breaking this side too');
        this.#o.onLeft();
      }
    }
  }
}
