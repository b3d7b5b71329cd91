// API users: the built-in administrator `loadbalancer` and any admin, operator or read-only
// users the API creates, stored in users.json (0600) as scrypt hashes only, with the
// directory settings (their bind password in the clear: the appliance must send it);
// replicated to the HA peer together.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ApplianceError } from '../errors.js';
import { writeFileAtomic } from '../config/atomic-file.js';
import { hashPassword, verifyPassword } from './password-hash.js';
import type { DirectorySettings } from './directory-settings.js';
import type { Role } from './roles.js';

/** The built-in administrator's name. */
export const ADMIN_USER = 'loadbalancer';

/** A user's role (admin, operator or read-only). */
export type { Role } from './roles.js';

/** An authenticated caller: a user of this store, a directory user, or the HA peer acting as one. */
export interface Principal {
  username: string;
  role: Role;
  /** `directory` for a user checked against the directory (local otherwise). */
  source?: 'local' | 'directory';
  /** When a directory user's login was checked. */
  checkedAt?: string;
}

/** A user as stored. */
export interface StoredUser {
  username: string;
  role: Role;
  hash: string;
  createdAt: string;
}

/** The users file. */
export interface UsersDocument {
  users: StoredUser[];
  /** The directory logins' settings (absent or null: local users only). */
  directory?: DirectorySettings | null;
}

/** Called after a user change is stored, before it is acknowledged (HA replication). */
export type UsersListener = () => Promise<void> | void;

/** The store of API users. */
export class UserStore {
  readonly #path: string;
  #users = new Map<string, StoredUser>();
  #directory: DirectorySettings | null = null;
  /** Verified credentials, so that only the first request of a session pays for scrypt. */
  readonly #verified = new Map<string, Buffer>();
  readonly #cacheKey = randomBytes(32);
  /** A real hash of a random password, checked for unknown users so they cost what a known one does. */
  #placeholder: Promise<string> | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #listeners: UsersListener[] = [];

  constructor(dataDir: string) {
    this.#path = join(dataDir, 'users.json');
  }

  /**
   * Loads users.json. On first start (no file) creates the administrator with `initialPassword`;
   * returns whether it did so.
   */
  async open(initialPassword: () => string): Promise<{ created: boolean }> {
    await this.#placeholderHash();
    try {
      const doc = JSON.parse(await readFile(this.#path, 'utf8')) as UsersDocument;
      this.#users = new Map(doc.users.map((u) => [u.username, u]));
      this.#directory = doc.directory ?? null;
      if (this.#users.has(ADMIN_USER)) return { created: false };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const admin: StoredUser = { username: ADMIN_USER, role: 'admin', hash: await hashPassword(initialPassword()), createdAt: new Date().toISOString() };
    this.#users.set(ADMIN_USER, admin);
    await this.#save();
    return { created: true };
  }

  #fingerprint(username: string, password: string, hash: string): Buffer {
    return createHmac('sha256', this.#cacheKey).update(`${username}\0${hash}\0${password}`).digest();
  }

  #placeholderHash(): Promise<string> {
    this.#placeholder ??= hashPassword(randomBytes(24).toString('base64url'));
    return this.#placeholder;
  }

  /** The user if these are the credentials of a session already verified (no scrypt), else null. */
  recognise(username: string, password: string): StoredUser | null {
    const user = this.#users.get(username);
    const cached = this.#verified.get(username);
    if (!user || !cached) return null;
    const fp = this.#fingerprint(username, password, user.hash);
    return cached.length === fp.length && timingSafeEqual(cached, fp) ? user : null;
  }

  /** The user if the password is right, else null. */
  async verify(username: string, password: string): Promise<StoredUser | null> {
    const user = this.#users.get(username);
    if (!user) {
      // Run scrypt on a real hash all the same, so user names cannot be probed by timing.
      await verifyPassword(password, await this.#placeholderHash());
      return null;
    }
    if (this.recognise(username, password)) return user;
    const fp = this.#fingerprint(username, password, user.hash);
    if (!(await verifyPassword(password, user.hash))) return null;
    this.#verified.set(username, fp);
    return user;
  }

  /** Whether a local user has this name (local users never go to the directory). */
  has(username: string): boolean {
    return this.#users.has(username);
  }

  /** The directory settings (with the bind password), or null. */
  directory(): DirectorySettings | null {
    return this.#directory;
  }

  /** Sets or removes (null) the directory settings. */
  setDirectory(settings: DirectorySettings | null): Promise<void> {
    return this.#serial(async () => {
      this.#directory = settings;
      await this.#save();
      await this.#changed();
    });
  }

  /** Every user (without hashes). */
  list(): Omit<StoredUser, 'hash'>[] {
    return [...this.#users.values()].map(({ hash: _h, ...u }) => u);
  }

  /** Creates a user. */
  create(username: string, password: string, role: Role): Promise<Omit<StoredUser, 'hash'>> {
    return this.#serial(async () => {
      if (this.#users.has(username)) throw new ApplianceError('LB_USER_EXISTS', `user ${username} already exists`, { field: '/username' });
      const user: StoredUser = { username, role, hash: await hashPassword(password), createdAt: new Date().toISOString() };
      this.#users.set(username, user);
      await this.#save();
      await this.#changed();
      const { hash: _h, ...rest } = user;
      return rest;
    });
  }

  /** Removes a user (not the administrator). */
  remove(username: string): Promise<void> {
    return this.#serial(async () => {
      if (username === ADMIN_USER) throw new ApplianceError('LB_BUILTIN_USER', `${ADMIN_USER} cannot be removed`, { field: 'username' });
      if (!this.#users.delete(username)) throw new ApplianceError('LB_NOT_FOUND', `no user ${username}`, { field: 'username' });
      this.#verified.delete(username);
      await this.#save();
      await this.#changed();
    });
  }

  /** Sets a user's password. */
  setPassword(username: string, password: string): Promise<void> {
    return this.#serial(async () => {
      const user = this.#users.get(username);
      if (!user) throw new ApplianceError('LB_NOT_FOUND', `no user ${username}`, { field: 'username' });
      user.hash = await hashPassword(password);
      this.#verified.delete(username);
      await this.#save();
      await this.#changed();
    });
  }

  /** Registers a listener run after each create, remove or password change (not replaceAll). */
  onChange(listener: UsersListener): () => void {
    this.#listeners.push(listener);
    return () => {
      const at = this.#listeners.indexOf(listener);
      if (at >= 0) this.#listeners.splice(at, 1);
    };
  }

  async #changed(): Promise<void> {
    for (const listener of this.#listeners) await listener();
  }

  /** The whole document (with hashes), for replication to the HA peer. */
  export(): UsersDocument {
    return { users: [...this.#users.values()].map((u) => ({ ...u })), directory: this.#directory };
  }

  /** Replaces every user with a replicated document. */
  replaceAll(doc: UsersDocument): Promise<void> {
    return this.#serial(async () => {
      this.#users = new Map(doc.users.map((u) => [u.username, { ...u }]));
      this.#directory = doc.directory ?? null;
      this.#verified.clear();
      await this.#save();
    });
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #save(): Promise<void> {
    await writeFileAtomic(this.#path, JSON.stringify(this.export(), null, 1), 0o600);
  }
}
