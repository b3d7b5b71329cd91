// The health verdict of one real server: rise/fall counting over check results, plus the
// passive verdict of the proxy (a failed connect takes a server down at once), and what its
// feedback agent last asked for (a weight share, drain or maint, down until up).
import type { CheckResult } from '../types.js';
import { effectiveWeight, type AgentVerdict } from './agent-reply.js';

/** What a server's feedback agent asked for, and its last reply. */
export interface AgentState {
  percent: number | null;
  state: 'drain' | 'maint' | null;
  down: boolean;
  /** The last reply line (or why none was read) and when; null before the first query. */
  last: { at: string; reply: string } | null;
}

/** A server's health as the balancer and the overview see it. */
export type Health = 'up' | 'down' | 'unknown';

/** Mutable health of one real server; the balancer reads `health` on every pick. */
export class HealthCell {
  #health: Health = 'unknown';
  lastCheck: CheckResult | null = null;
  /** The feedback agent's state (all null without an agent). */
  agent: AgentState = { percent: null, state: null, down: false, last: null };

  /** The verdict the balancer uses: the checks', or down while the agent says so. */
  get health(): Health {
    return this.agent.down ? 'down' : this.#health;
  }

  /** The checks' verdict (another process's checker hands it over). */
  set health(health: Health) {
    this.#health = health;
  }

  /** The checks' own verdict, whatever the agent says. */
  get checkHealth(): Health {
    return this.#health;
  }

  /** The weight new clients are balanced with, given the configured one. */
  weight(configured: number): number {
    return effectiveWeight(configured, this.agent);
  }

  /** Records an agent reply (or a failed query, `verdict` null); returns the new health when it changed. */
  recordAgent(reply: string, verdict: AgentVerdict | null): Health | null {
    const before = this.health;
    const a = this.agent;
    a.last = { at: new Date().toISOString(), reply };
    if (verdict) {
      if (verdict.percent !== null) a.percent = verdict.percent;
      if (verdict.state !== null) a.state = verdict.state === 'ready' ? null : verdict.state;
      if (verdict.health !== null) a.down = verdict.health === 'down';
    }
    return this.health === before ? null : this.health;
  }

  /** Forgets the agent's state (the VIP no longer has an agent). */
  clearAgent(): Health | null {
    const before = this.health;
    this.agent = { percent: null, state: null, down: false, last: null };
    return this.health === before ? null : this.health;
  }
  #successes = 0;
  #failures = 0;

  /** Records an active check result; returns the new health when it changed. */
  record(result: CheckResult, rise: number, fall: number): Health | null {
    this.lastCheck = result;
    if (result.ok) {
      this.#failures = 0;
      this.#successes++;
      // The first verdict needs one result: a fresh server should not wait `rise` intervals.
      if (this.#health === 'unknown' || (this.#health === 'down' && this.#successes >= rise)) return this.#set('up');
    } else {
      this.#successes = 0;
      this.#failures++;
      if (this.#health === 'unknown' || (this.#health === 'up' && this.#failures >= fall)) return this.#set('down');
    }
    return null;
  }

  /** A connection attempt by the proxy failed: down at once, back only through `rise` checks. */
  passiveFailure(detail: string): Health | null {
    this.#successes = 0;
    this.lastCheck = { at: new Date().toISOString(), ok: false, durationMs: 0, detail: `passive: ${detail}` };
    return this.#health === 'down' ? null : this.#set('down');
  }

  /** Forgets everything (the server moved: its old verdict says nothing about the new address). */
  reset(): void {
    this.#health = 'unknown';
    this.lastCheck = null;
    this.#successes = 0;
    this.#failures = 0;
  }

  /** Forces a health (checks of type `none` treat every server as up). */
  force(health: Health): Health | null {
    this.#successes = 0;
    this.#failures = 0;
    return this.#health === health ? null : this.#set(health);
  }

  #set(health: Health): Health | null {
    const before = this.health;
    this.#health = health;
    // While the agent holds the server down, a check's change is not a change of its health.
    return this.health === before ? null : this.health;
  }
}
