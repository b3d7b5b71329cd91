// Configuration and user replication, primary to secondary, over the peer's API. Every
// revision committed on the primary is pushed before the write is acknowledged (the store's
// commit listeners run before the answer); if the secondary cannot take it within the reply
// time, or is known to be down, the write is acknowledged anyway and marked: the secondary
// is behind, and catches up, revision by revision, as soon as its heartbeat shows it back
// with an older revision or other users.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { keyRefsOf, type RevisionRecord } from '../config/model.js';
import type { ConfigStore } from '../config/store.js';
import type { UserStore } from '../users/user-store.js';
import type { PeerClient } from './peer-client.js';

/** Digest of a users document (first 8 bytes of SHA-256, hex): compared through heartbeats. */
export function usersDigest(users: UserStore): string {
  const exported = users.export();
  const doc = exported.users.sort((a, b) => a.username.localeCompare(b.username));
  const hash = createHash('sha256').update(JSON.stringify(doc));
  // The directory settings travel with the users; keys sorted, so both nodes spell them alike.
  if (exported.directory) hash.update(canonicalJson(exported.directory));
  return hash.digest('hex').slice(0, 16);
}

/** JSON with every object's keys sorted. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The private keys and secrets a revision needs, by keystore reference. */
export async function keysOf(store: ConfigStore, record: RevisionRecord): Promise<Record<string, string>> {
  const keys: Record<string, string> = {};
  for (const ref of keyRefsOf(record.config)) keys[ref] = await store.keystore.get(ref);
  return keys;
}

/** What the replicator needs. */
export interface ConfigReplicatorOptions {
  store: ConfigStore;
  users: UserStore;
  peer: () => PeerClient;
  logger: Logger;
  /** Whether the peer is known to be down (no heartbeat, API not answering): writes do not wait for it. */
  peerDown: () => boolean;
}

/** The primary's side of configuration replication. */
export class ConfigReplicator {
  readonly #o: ConfigReplicatorOptions;
  /** The newest revision the secondary is known to hold. */
  #peerRevision = 0;
  #peerUsers = '';
  #peerBoot = '';
  #behind = false;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;
  /** A catch-up is queued or running (heartbeats keep asking while the peer is behind). */
  #catchingUp = false;

  constructor(options: ConfigReplicatorOptions) {
    this.#o = options;
  }

  /** Whether the secondary lacks a revision or a user change of this node's. */
  get behind(): boolean {
    return this.#behind;
  }

  /**
   * Whether the secondary lacks `revision`: it is behind and has not reported holding it. With
   * group commit, later revisions may still be on their way when an earlier one is answered.
   */
  lacks(revision: number): boolean {
    return this.#behind && this.#peerRevision < revision;
  }

  /**
   * Records what the peer reports holding (from its heartbeat or its API). Within one boot of
   * the peer its revision only grows (a heartbeat sent before a push arrives late), so the
   * highest is kept; a restarted peer is taken at its word.
   */
  observe(revision: number, users: string, bootId: string): void {
    this.#peerRevision = bootId === this.#peerBoot ? Math.max(this.#peerRevision, revision) : revision;
    this.#peerBoot = bootId;
    this.#peerUsers = users;
    this.#behind = this.#peerRevision !== this.#o.store.current.revision || users !== usersDigest(this.#o.users);
  }

  /** Pushes a just-committed revision, and any the secondary missed (a store commit listener: never throws). */
  async onCommit(): Promise<void> {
    if (this.#closed) return;
    if (this.#o.peerDown()) {
      this.#behind = true;
      return;
    }
    await this.#serial(() => this.#catchUp());
  }

  /** Pushes the users after a change (a user store listener: never throws). */
  async onUsersChanged(): Promise<void> {
    if (this.#closed) return;
    if (this.#o.peerDown()) {
      this.#behind = true;
      return;
    }
    await this.#serial(() => this.#pushUsers());
  }

  /** Brings a returned secondary up to date (called when a heartbeat shows it behind); one at a time. */
  async catchUp(): Promise<void> {
    if (this.#catchingUp || this.#closed) return;
    this.#catchingUp = true;
    try {
      await this.#serial(() => this.#catchUp());
    } finally {
      this.#catchingUp = false;
    }
  }

  /** Stops replicating. */
  close(): void {
    this.#closed = true;
  }

  async #catchUp(): Promise<void> {
    const { store } = this.#o;
    const latest = store.current.revision;
    if (this.#peerRevision > latest) {
      // The secondary holds revisions the primary does not (the primary's data was restored
      // from an older copy): the primary's configuration wins, as at pairing.
      this.#o.logger.warn({ peerRevision: this.#peerRevision, revision: latest }, 'the secondary is ahead of the primary; replacing its configuration with the primary\'s');
      const current = store.current;
      try {
        const state = await this.#o.peer().putHaPeerRevision({ record: current as never, keys: await keysOf(store, current), replaceHistory: true });
        this.#peerRevision = state.revision;
      } catch (err) {
        this.#behind = true;
        this.#o.logger.warn({ err: (err as Error).message }, 'the secondary did not take the primary\'s configuration');
        return;
      }
    }
    if (this.#peerRevision < latest) {
      // Every missed revision that is still kept, oldest first, so the secondary's history
      // matches the primary's; a pruned one is skipped (its successor holds the whole config).
      const missed = store
        .history()
        .map((h) => h.revision)
        .filter((r) => r > this.#peerRevision && r <= latest)
        .sort((a, b) => a - b);
      for (const revision of missed) {
        const record = await store.revision(revision);
        if (record && !(await this.#push(record))) return;
      }
    }
    if (this.#peerUsers !== usersDigest(this.#o.users)) await this.#pushUsers();
  }

  async #push(record: RevisionRecord): Promise<boolean> {
    try {
      const state = await this.#o.peer().putHaPeerRevision({ record: record as never, keys: await keysOf(this.#o.store, record) });
      this.observe(state.revision, state.usersDigest, state.bootId);
      return true;
    } catch (err) {
      this.#behind = true;
      this.#o.logger.warn({ revision: record.revision, err: (err as Error).message }, 'the secondary did not take the revision; it will catch up when it is back');
      return false;
    }
  }

  async #pushUsers(): Promise<boolean> {
    try {
      const state = await this.#o.peer().putHaPeerUsers(this.#o.users.export());
      this.observe(state.revision, state.usersDigest, state.bootId);
      return true;
    } catch (err) {
      this.#behind = true;
      this.#o.logger.warn({ err: (err as Error).message }, 'the secondary did not take the users; it will catch up when it is back');
      return false;
    }
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}
