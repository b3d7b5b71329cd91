// HTTP Basic authentication with a brake on guessing: every failed attempt costs the client
// a fixed delay, and after `maxFailures` consecutive failures from one address the API
// answers 429 with Retry-After for an exponentially growing lock-out.
import { setTimeout as sleep } from 'node:timers/promises';
import { ApplianceError } from '../errors.js';
import type { Role, UserStore } from '../users/user-store.js';

/** An authenticated caller. */
export interface Principal {
  username: string;
  role: Role;
}

/** Tuning of the failure brake. */
export interface AuthOptions {
  /** Delay added to every failed attempt (ms). */
  failureDelayMs?: number;
  /** Consecutive failures from one address before it is locked out. */
  maxFailures?: number;
  /** First lock-out (ms); doubles with every further failure, up to `maxLockoutMs`. */
  lockoutMs?: number;
  maxLockoutMs?: number;
}

interface FailureState {
  count: number;
  lockedUntil: number;
  lastAt: number;
}

const CHALLENGE = { 'www-authenticate': 'Basic realm="lbappliance", charset="UTF-8"' };

/** Parses an Authorization header into user and password (null when absent or not Basic). */
export function parseBasic(header: string | undefined): { username: string; password: string } | null {
  if (!header) return null;
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m) return null;
  const decoded = Buffer.from(m[1] ?? '', 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Authenticates requests against the user store. */
export class Authenticator {
  readonly #users: UserStore;
  readonly #failures = new Map<string, FailureState>();
  readonly #delay: number;
  readonly #max: number;
  readonly #lockout: number;
  readonly #maxLockout: number;

  constructor(users: UserStore, options: AuthOptions = {}) {
    this.#users = users;
    this.#delay = options.failureDelayMs ?? 250;
    this.#max = options.maxFailures ?? 10;
    this.#lockout = options.lockoutMs ?? 1000;
    this.#maxLockout = options.maxLockoutMs ?? 60_000;
  }

  /** The caller of a request, or an LB_UNAUTHORIZED / LB_TOO_MANY_REQUESTS error. */
  async authenticate(authorization: string | undefined, address: string): Promise<Principal> {
    const now = Date.now();
    const state = this.#failures.get(address);
    if (state && state.lockedUntil > now) {
      const retry = Math.ceil((state.lockedUntil - now) / 1000);
      throw new ApplianceError('LB_TOO_MANY_REQUESTS', `too many failed logins from ${address}; retry in ${retry} s`, { headers: { 'retry-after': String(retry) } });
    }
    const creds = parseBasic(authorization);
    if (!creds) {
      throw new ApplianceError('LB_UNAUTHORIZED', 'this operation needs HTTP Basic credentials', { headers: CHALLENGE });
    }
    const user = await this.#users.verify(creds.username, creds.password);
    if (user) {
      this.#failures.delete(address);
      return { username: user.username, role: user.role };
    }
    this.#recordFailure(address, now);
    await sleep(this.#delay);
    throw new ApplianceError('LB_UNAUTHORIZED', 'wrong user name or password', { headers: CHALLENGE });
  }

  #recordFailure(address: string, now: number): void {
    const prev = this.#failures.get(address);
    // Failures older than the longest lock-out are forgotten.
    const state: FailureState = prev && now - prev.lastAt < this.#maxLockout ? prev : { count: 0, lockedUntil: 0, lastAt: now };
    state.count += 1;
    state.lastAt = now;
    if (state.count >= this.#max) {
      const extra = state.count - this.#max;
      state.lockedUntil = now + Math.min(this.#lockout * 2 ** extra, this.#maxLockout);
    }
    this.#failures.set(address, state);
    if (this.#failures.size > 10_000) {
      for (const [key, s] of this.#failures) if (now - s.lastAt > this.#maxLockout) this.#failures.delete(key);
    }
  }
}
