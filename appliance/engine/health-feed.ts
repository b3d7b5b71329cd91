// How an engine tells whoever listens that a real server's health changed, the moment its
// checks (or HAProxy's, or the kernel plane's) decide it: listeners get one call per change
// instead of reading every server's status on a timer. Each engine owns one feed and reports
// verdicts into it; the feed remembers the last verdict per server so that a source which
// only reads state (HAProxy's stats) and one that reports transitions (the health checker)
// publish the same changes. The engines know nothing of who listens (the events layer).
import type { Health } from './health/health-state.js';
import { serverKeys } from './health/targets.js';
import type { ConfigSnapshot, VipChange } from './types.js';

/** One real server's health changing, as the engine's checks saw it. */
export interface HealthTransition {
  virtualServiceId: string;
  realServerId: string;
  /** The verdict before; 'unknown' when the server had none yet (see `first`). */
  from: Health;
  to: Health;
  /** Whether this is the server's first verdict since it joined the VIP. */
  first: boolean;
  /** The check's detail (why it is down), '' when the engine has none. */
  detail: string;
  /** ISO time the engine saw the change. */
  at: string;
  /** Whether the node owned the VIPs when it changed (false: the passive node of an HA pair). */
  active: boolean;
}

/** Called once per health change. */
export type HealthListener = (transition: HealthTransition) => void;

/** The health changes of one engine, with the last verdict of every server. */
export class HealthFeed {
  readonly #listeners = new Set<HealthListener>();
  /** The last verdict per `vsId/rsId`; absent: none yet. */
  readonly #last = new Map<string, Health>();
  readonly #onError: (err: unknown) => void;
  /** Whether the engine owns the VIPs (its setActive keeps it). */
  active = true;

  /** `onError` hears of a listener that threw (the others still run). */
  constructor(onError: (err: unknown) => void = () => undefined) {
    this.#onError = onError;
  }

  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: HealthListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Reports a server's verdict: listeners hear of it only when it differs from the last one. */
  report(virtualServiceId: string, realServerId: string, health: Health, detail: string): void {
    const key = `${virtualServiceId}/${realServerId}`;
    const before = this.#last.get(key);
    if (before === health) return;
    // A server that joins unchecked has no verdict yet: nothing changed.
    if (before === undefined && health === 'unknown') return;
    this.#last.set(key, health);
    if (this.#listeners.size === 0) return;
    const transition: HealthTransition = { virtualServiceId, realServerId, from: before ?? 'unknown', to: health, first: before === undefined, detail, at: new Date().toISOString(), active: this.active };
    for (const listener of this.#listeners) {
      try {
        listener(transition);
      } catch (err) {
        this.#onError(err);
      }
    }
  }

  /** Reports a verdict under a health checker's key (`vsId/rsId`). */
  reportKey(key: string, health: Health, detail: string): void {
    const slash = key.indexOf('/');
    this.report(key.slice(0, slash), key.slice(slash + 1), health, detail);
  }

  /** Forgets the servers a snapshot no longer has (a server added again starts with no verdict). */
  retain(snapshot: ConfigSnapshot): void {
    if (this.#last.size === 0) return;
    const keep = new Set<string>();
    for (const vs of snapshot.virtualServices) for (const key of serverKeys(vs)) keep.add(key);
    for (const key of this.#last.keys()) if (!keep.has(key)) this.#last.delete(key);
  }

  /** `retain` for a revision that changed only these VIPs: forgets the servers they no longer have. */
  retainChanged(changes: readonly VipChange[]): void {
    if (this.#last.size === 0) return;
    for (const { before, after } of changes) {
      const now = new Set(serverKeys(after));
      for (const key of serverKeys(before)) if (!now.has(key)) this.#last.delete(key);
    }
  }
}
