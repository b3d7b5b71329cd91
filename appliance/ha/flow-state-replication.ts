// The active node of a pair sends its layer 4 flows and persistent clients (the kernel's
// dynamic maps: engine/kernel/flow-state.ts) to the passive node every second, over the peer
// API; the passive node holds the last copy for the moment it takes over. Only on a node that
// programs the kernel; nothing is sent while there is nothing to send, apart from one empty
// copy that tells the peer its held copy is stale. A failed send is retried at the next tick
// (the peer may be down; a takeover then uses what it last received).
import type { Logger } from 'pino';
import type { KernelFlowState, KernelPairing } from '../engine/types.js';

/** How often the active node sends its state. */
export const FLOW_STATE_INTERVAL_MS = 1000;

/** What the sender needs. */
export interface FlowStateReplicationOptions {
  pairing: KernelPairing;
  send: (state: KernelFlowState) => Promise<unknown>;
  logger: Logger;
  intervalMs?: number;
}

/** The sender of one pair member (it sends only while active). */
export class FlowStateReplication {
  readonly #o: FlowStateReplicationOptions;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> = Promise.resolve();
  #lastWasEmpty = false;
  #failing = false;

  constructor(options: FlowStateReplicationOptions) {
    this.#o = options;
  }

  setActive(active: boolean): void {
    if (active && !this.#timer) {
      this.#lastWasEmpty = false;
      this.#timer = setInterval(() => {
        this.#running = this.#running.then(() => this.#tick());
      }, this.#o.intervalMs ?? FLOW_STATE_INTERVAL_MS);
      this.#timer.unref();
    } else if (!active && this.#timer) {
      clearInterval(this.#timer);
      this.#timer = null;
    }
  }

  async stop(): Promise<void> {
    this.setActive(false);
    await this.#running;
  }

  async #tick(): Promise<void> {
    if (!this.#timer) return;
    try {
      const state = await this.#o.pairing.exportFlowState();
      const empty = state.virtualServices.length === 0;
      if (empty && this.#lastWasEmpty) return;
      await this.#o.send(state);
      this.#lastWasEmpty = empty;
      if (this.#failing) this.#o.logger.info('layer 4 flow state reaches the peer again');
      this.#failing = false;
    } catch (err) {
      if (!this.#failing) this.#o.logger.warn({ err: (err as Error).message }, 'layer 4 flow state not sent to the peer (retried every second)');
      this.#failing = true;
    }
  }
}
