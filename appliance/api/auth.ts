// HTTP Basic authentication with a brake on guessing: every failed attempt costs the client
// a fixed delay, and after `maxFailures` consecutive failures from one address the API
// answers 429 with Retry-After for an exponentially growing lock-out. Guesses sent in
// parallel count as much as guesses sent in turn: no more than the guesses an address has
// left are ever being checked at once. A user name that is not a local user goes to the
// directory when one is configured; its wrong passwords count as local ones do, and a
// directory that cannot be asked answers 503 (no failure counted) while local users, who
// never wait for the directory, keep logging in.
import { setTimeout as sleep } from 'node:timers/promises';
import { ApplianceError } from '../errors.js';
import { DirectoryUnavailableError } from '../users/directory-client.js';
import { DirectoryLogins } from '../users/directory-logins.js';
import type { Principal, UserStore } from '../users/user-store.js';

/** An authenticated caller (defined with the users, which HA reads too). */
export type { Principal } from '../users/user-store.js';

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
  /** Failed checks since the last success (forgotten after the longest lock-out). */
  count: number;
  lockedUntil: number;
  lastAt: number;
  /** Checks under way: each holds one of the address's guesses until it is decided. */
  inFlight: number;
  /** Requests waiting for a check under way to end before they may be checked. */
  waiters: (() => void)[];
}

/** Requests one address may have waiting for a check; beyond this they are refused at once. */
const MAX_WAITING = 1000;

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

/** The caller a local or directory user stands for. */
function principalOf(user: { username: string; role: Principal['role']; checkedAt?: string }): Principal {
  return user.checkedAt === undefined ? { username: user.username, role: user.role } : { username: user.username, role: user.role, source: 'directory', checkedAt: user.checkedAt };
}

/** Authenticates requests against the user store and the directory. */
export class Authenticator {
  readonly #users: UserStore;
  readonly #directory: DirectoryLogins;
  readonly #failures = new Map<string, FailureState>();
  readonly #delay: number;
  readonly #max: number;
  readonly #lockout: number;
  readonly #maxLockout: number;

  constructor(users: UserStore, options: AuthOptions = {}) {
    this.#users = users;
    this.#directory = new DirectoryLogins(() => users.directory());
    this.#delay = options.failureDelayMs ?? 250;
    this.#max = options.maxFailures ?? 10;
    this.#lockout = options.lockoutMs ?? 1000;
    this.#maxLockout = options.maxLockoutMs ?? 60_000;
  }

  /**
   * The caller of a request, or an LB_UNAUTHORIZED / LB_TOO_MANY_REQUESTS error.
   *
   * Every check of a password, even the cheap one against a session already verified, holds
   * one of the address's remaining guesses until it is decided, so guesses sent all at once
   * are checked no more than guesses sent one by one: the ones beyond the allowance wait for
   * a check under way, then find the address locked out (429, never checked) or, after a
   * success, are checked in turn.
   */
  async authenticate(authorization: string | undefined, address: string): Promise<Principal> {
    const creds = parseBasic(authorization);
    for (;;) {
      const now = Date.now();
      const state = this.#stateOf(address, now);
      if (state && state.lockedUntil > now) throw this.#tooMany(address, state.lockedUntil - now);
      if (!creds) {
        throw new ApplianceError('LB_UNAUTHORIZED', 'this operation needs HTTP Basic credentials', { headers: CHALLENGE });
      }
      if (!state || state.inFlight < this.#allowance(state)) break;
      if (state.waiters.length >= MAX_WAITING) throw this.#tooMany(address, 1000);
      await new Promise<void>((resolve) => state.waiters.push(resolve));
    }
    // Known credentials answer at once and hold their guess for no time at all.
    const local = !this.#directory.enabled || this.#users.has(creds.username);
    const known = local ? this.#users.recognise(creds.username, creds.password) : this.#directory.recognise(creds.username, creds.password);
    if (known) {
      const state = this.#failures.get(address);
      if (state) this.#succeeded(address, state);
      return principalOf(known);
    }
    const state = this.#failures.get(address) ?? this.#newState(address);
    state.inFlight += 1;
    let principal: Principal | null;
    let refusal = 'wrong user name or password';
    try {
      if (local) {
        const user = await this.#users.verify(creds.username, creds.password);
        principal = user && principalOf(user);
      } else {
        const { user, verdict } = await this.#directory.verify(creds.username, creds.password);
        principal = user && principalOf(user);
        if (verdict.kind === 'no-role') refusal = `directory user ${creds.username} is in no group mapped to a role`;
      }
    } catch (err) {
      this.#settle(address, state);
      if (err instanceof DirectoryUnavailableError) {
        throw new ApplianceError('LB_DIRECTORY_UNAVAILABLE', `${creds.username} is not a local user and the directory cannot be asked (${err.message}); local users can still log in`, { headers: { 'retry-after': '5' } });
      }
      throw err;
    }
    if (principal) {
      this.#succeeded(address, state);
      this.#settle(address, state);
      return principal;
    }
    this.#recordFailure(state, Date.now());
    this.#settle(address, state);
    await sleep(this.#delay);
    throw new ApplianceError('LB_UNAUTHORIZED', refusal, { headers: CHALLENGE });
  }

  /** How many checks an address may have under way: its guesses left, or one at a time once it has been locked out. */
  #allowance(state: FailureState): number {
    return state.count >= this.#max ? 1 : this.#max - state.count;
  }

  #tooMany(address: string, ms: number): ApplianceError {
    const retry = Math.max(1, Math.ceil(ms / 1000));
    return new ApplianceError('LB_TOO_MANY_REQUESTS', `too many failed logins from ${address}; retry in ${retry} s`, { headers: { 'retry-after': String(retry) } });
  }

  /** The address's state, with failures older than the longest lock-out forgotten. */
  #stateOf(address: string, now: number): FailureState | undefined {
    const state = this.#failures.get(address);
    if (state && state.count > 0 && state.lockedUntil <= now && now - state.lastAt >= this.#maxLockout) {
      state.count = 0;
      state.lockedUntil = 0;
    }
    return state;
  }

  #newState(address: string): FailureState {
    const state: FailureState = { count: 0, lockedUntil: 0, lastAt: Date.now(), inFlight: 0, waiters: [] };
    this.#failures.set(address, state);
    return state;
  }

  /** Ends a check: its guess is free again (or spent, if it failed) and the waiting requests look again. */
  #settle(address: string, state: FailureState): void {
    state.inFlight -= 1;
    for (const wake of state.waiters.splice(0)) wake();
    this.#forgetIfIdle(address, state);
  }

  #succeeded(address: string, state: FailureState): void {
    state.count = 0;
    state.lockedUntil = 0;
    this.#forgetIfIdle(address, state);
  }

  #forgetIfIdle(address: string, state: FailureState): void {
    if (state.count === 0 && state.inFlight === 0 && state.waiters.length === 0 && this.#failures.get(address) === state) this.#failures.delete(address);
  }

  #recordFailure(state: FailureState, now: number): void {
    state.count += 1;
    state.lastAt = now;
    if (state.count >= this.#max) {
      const extra = state.count - this.#max;
      state.lockedUntil = now + Math.min(this.#lockout * 2 ** extra, this.#maxLockout);
    }
    if (this.#failures.size > 10_000) {
      for (const [key, s] of this.#failures) if (now - s.lastAt > this.#maxLockout && s.inFlight === 0 && s.waiters.length === 0) this.#failures.delete(key);
    }
  }
}
