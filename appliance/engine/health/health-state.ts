// The health verdict of one real server: rise/fall counting over check results, plus the
// passive verdict of the proxy (a failed connect takes a server down at once).
import type { CheckResult } from '../types.js';

/** A server's health as the balancer and the overview see it. */
export type Health = 'up' | 'down' | 'unknown';

/** Mutable health of one real server; the balancer reads `health` on every pick. */
export class HealthCell {
  health: Health = 'unknown';
  lastCheck: CheckResult | null = null;
  #successes = 0;
  #failures = 0;

  /** Records an active check result; returns the new health when it changed. */
  record(result: CheckResult, rise: number, fall: number): Health | null {
    this.lastCheck = result;
    if (result.ok) {
      this.#failures = 0;
      this.#successes++;
      // The first verdict needs one result: a fresh server should not wait `rise` intervals.
      if (this.health === 'unknown' || (this.health === 'down' && this.#successes >= rise)) return this.#set('up');
    } else {
      this.#successes = 0;
      this.#failures++;
      if (this.health === 'unknown' || (this.health === 'up' && this.#failures >= fall)) return this.#set('down');
    }
    return null;
  }

  /** A connection attempt by the proxy failed: down at once, back only through `rise` checks. */
  passiveFailure(detail: string): Health | null {
    this.#successes = 0;
    this.lastCheck = { at: new Date().toISOString(), ok: false, durationMs: 0, detail: `passive: ${detail}` };
    return this.health === 'down' ? null : this.#set('down');
  }

  /** Forgets everything (the server moved: its old verdict says nothing about the new address). */
  reset(): void {
    this.health = 'unknown';
    this.lastCheck = null;
    this.#successes = 0;
    this.#failures = 0;
  }

  /** Forces a health (checks of type `none` treat every server as up). */
  force(health: Health): Health | null {
    this.#successes = 0;
    this.#failures = 0;
    return this.health === health ? null : this.#set(health);
  }

  #set(health: Health): Health {
    this.health = health;
    return health;
  }
}
