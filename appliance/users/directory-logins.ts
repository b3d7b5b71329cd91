// Directory logins as the authenticator sees them: the configured directory (from the user
// store, so a replicated change applies at once), a short in-memory cache of successful
// logins (cacheSeconds; keyed by an HMAC of name and password under a per-process key, and
// dropped whenever the settings change), and the verdict in the appliance's terms.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { directoryLogin, type DirectoryVerdict } from './directory-client.js';
import type { DirectorySettings } from './directory-settings.js';
import type { Role } from './roles.js';

/** A successful directory login. */
export interface DirectoryUser {
  username: string;
  role: Role;
  checkedAt: string;
}

interface Cached {
  fingerprint: Buffer;
  user: DirectoryUser;
  until: number;
}

/** At most this many cached logins (the oldest go first). */
const MAX_CACHED = 10_000;

/** Checks users against the configured directory. */
export class DirectoryLogins {
  readonly #settings: () => DirectorySettings | null;
  readonly #key = randomBytes(32);
  #cache = new Map<string, Cached>();
  #cachedFor: DirectorySettings | null = null;

  constructor(settings: () => DirectorySettings | null) {
    this.#settings = settings;
  }

  /** Whether a directory is configured. */
  get enabled(): boolean {
    return this.#settings() !== null;
  }

  #fingerprint(username: string, password: string): Buffer {
    return createHmac('sha256', this.#key).update(`${username}\0${password}`).digest();
  }

  /** The cache, emptied when the settings it was filled under are no longer the current ones. */
  #current(): Map<string, Cached> {
    const settings = this.#settings();
    if (settings !== this.#cachedFor) {
      this.#cache = new Map();
      this.#cachedFor = settings;
    }
    return this.#cache;
  }

  /** The user of a login checked within cacheSeconds (no directory round trip), else null. */
  recognise(username: string, password: string): DirectoryUser | null {
    const cache = this.#current();
    const hit = cache.get(username);
    if (!hit) return null;
    if (hit.until <= Date.now()) {
      cache.delete(username);
      return null;
    }
    const fp = this.#fingerprint(username, password);
    return timingSafeEqual(fp, hit.fingerprint) ? hit.user : null;
  }

  /** Asks the directory (throws DirectoryUnavailableError when it cannot be asked). */
  async verify(username: string, password: string): Promise<{ user: DirectoryUser | null; verdict: DirectoryVerdict }> {
    const settings = this.#settings();
    if (!settings) return { user: null, verdict: { kind: 'no-such-user' } };
    const verdict = await directoryLogin(settings, username, password);
    if (verdict.kind !== 'accepted') return { user: null, verdict };
    const user: DirectoryUser = { username, role: verdict.role, checkedAt: new Date().toISOString() };
    const seconds = settings.cacheSeconds ?? 60;
    const cache = this.#current();
    if (seconds > 0 && this.#settings() === settings) {
      if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as string);
      cache.set(username, { fingerprint: this.#fingerprint(username, password), user, until: Date.now() + seconds * 1000 });
    }
    return { user, verdict };
  }
}
