// The config store: every accepted write becomes a new revision, persisted atomically and
// durably before it is acknowledged, then handed to the engine as an immutable snapshot.
// Writes are serialised; a write that fails any check changes nothing (it works on a copy).
import { mkdir, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ApplianceError } from '../errors.js';
import type { SnapshotTarget } from './snapshot.js';
import { removeStaleTemporaries, writeFileAtomic } from './atomic-file.js';
import { checkTarget } from './check-target.js';
import { Keystore } from './keystore.js';
import { emptyConfig, type RevisionRecord, type StoredConfig } from './model.js';
import { checkRules, type RuleEnvironment } from './rules.js';
import { buildSnapshot } from './snapshot.js';
import { checkStoredConfig } from './stored-config-check.js';

/** Who is writing and through which operation. */
export interface CommitContext {
  user: string;
  operation: string;
}

/** Tools a mutation may use besides the draft. */
export interface MutationTools {
  /** Stages a private key; it is stored durably before the revision. Returns its reference. */
  addKey(keyPem: string): string;
  /** The revision the draft was copied from. */
  readonly baseRevision: number;
  /** The configuration the draft was copied from (read-only). */
  readonly base: Readonly<StoredConfig>;
}

/** A mutation: changes the draft in place (or returns a whole new config) and a result. */
export type Mutation<T> = (draft: StoredConfig, tools: MutationTools) => Promise<T> | T;

/** Summary of a kept revision. */
export interface RevisionInfo {
  revision: number;
  createdAt: string;
  user: string;
  operation: string;
}

/** What a commit produced. */
export interface CommitResult<T> {
  revision: number;
  value: T;
  changed: boolean;
  /**
   * The revision the write was made on (N-1) and the one it made (N). Taken inside the write's
   * turn, so `before` is never an older revision that a concurrent write has since replaced.
   */
  before: Readonly<RevisionRecord>;
  after: Readonly<RevisionRecord>;
}

/** Why the engine does not run the current revision as stored. */
export interface ApplyFailure {
  revision: number;
  /** ISO time of the failed apply. */
  at: string;
  message: string;
}

/** Called after a revision is stored and applied, before the write is acknowledged. */
export type CommitListener = (record: RevisionRecord) => Promise<void> | void;

/** Options of the config store. */
export interface ConfigStoreOptions {
  dataDir: string;
  engine: SnapshotTarget;
  logger: Logger;
  rules: RuleEnvironment;
  /** How many revisions to keep for rollback (default 100). */
  keep?: number;
}

const REVISION_FILE = /^rev-(\d{10})\.json$/;

function fileName(revision: number): string {
  return `rev-${String(revision).padStart(10, '0')}.json`;
}

function keyRefsOf(config: StoredConfig): string[] {
  return Object.values(config.certificates).map((c) => c.keyRef);
}

/** The store of configuration revisions. */
export class ConfigStore {
  readonly #dir: string;
  readonly #engine: SnapshotTarget;
  readonly #log: Logger;
  readonly #rules: RuleEnvironment;
  readonly #keep: number;
  readonly keystore: Keystore;
  #current: RevisionRecord = { revision: 0, createdAt: new Date(0).toISOString(), user: 'system', operation: 'initial', config: emptyConfig() };
  #history: RevisionInfo[] = [];
  #keyRefs = new Map<number, string[]>();
  #queue: Promise<unknown> = Promise.resolve();
  #listeners: CommitListener[] = [];
  #lastApplyMs = 0;
  #applyFailure: ApplyFailure | null = null;

  constructor(options: ConfigStoreOptions) {
    this.#dir = join(options.dataDir, 'config', 'revisions');
    this.keystore = new Keystore(join(options.dataDir, 'config', 'keys'));
    this.#engine = options.engine;
    this.#log = options.logger;
    this.#rules = options.rules;
    this.#keep = options.keep ?? 100;
  }

  /**
   * Loads the newest intact revision and applies it to the engine. Never fails because of
   * what the revision holds: a revision the engine cannot run is reported (applyFailure) and
   * the API still starts, to take a fix or a rollback (issue 19: no crash loop).
   */
  async open(): Promise<void> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    await this.keystore.init();
    const removed = await removeStaleTemporaries(this.#dir);
    if (removed > 0) this.#log.warn({ removed }, 'removed temporary files left by an interrupted write');
    const revisions = (await readdir(this.#dir))
      .map((n) => REVISION_FILE.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => b - a);
    let loaded = false;
    for (const revision of revisions) {
      const record = await this.#read(revision).catch((err: unknown) => {
        this.#log.error({ revision, err }, 'revision file is unreadable; setting it aside');
        return rename(join(this.#dir, fileName(revision)), join(this.#dir, `${fileName(revision)}.corrupt`)).then(() => null);
      });
      if (!record) continue;
      if (!loaded) {
        this.#current = record;
        loaded = true;
      }
      this.#history.push({ revision: record.revision, createdAt: record.createdAt, user: record.user, operation: record.operation });
      this.#keyRefs.set(record.revision, keyRefsOf(record.config));
    }
    this.#log.info({ revision: this.#current.revision, kept: this.#history.length }, 'configuration loaded');
    await this.#apply(this.#current);
  }

  /** The current revision (do not modify it). */
  get current(): Readonly<RevisionRecord> {
    return this.#current;
  }

  /** Why the engine does not run the current revision, or null when it does. */
  get applyFailure(): ApplyFailure | null {
    return this.#applyFailure;
  }

  /** Duration of the last engine apply, in milliseconds. */
  get lastApplyMs(): number {
    return this.#lastApplyMs;
  }

  /** Kept revisions, newest first. */
  history(): RevisionInfo[] {
    return [...this.#history];
  }

  /** A kept revision's record, or null. */
  async revision(revision: number): Promise<RevisionRecord | null> {
    if (revision === this.#current.revision) return this.#current;
    if (!this.#history.some((h) => h.revision === revision)) return null;
    return this.#read(revision);
  }

  /** Registers a listener run after each commit, before the write is acknowledged. */
  onCommit(listener: CommitListener): () => void {
    this.#listeners.push(listener);
    return () => {
      const at = this.#listeners.indexOf(listener);
      if (at >= 0) this.#listeners.splice(at, 1);
    };
  }

  /**
   * Runs a mutation on a copy of the current configuration and commits the result as a new
   * revision, after the rules and the engine accepted it. Serialised with other writes.
   */
  commit<T>(ctx: CommitContext, mutate: Mutation<T>): Promise<CommitResult<T>> {
    const run = this.#queue.then(() => this.#commit(ctx, mutate));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Replaces the current revision with one received from the HA primary (same number). With
   * `replaceHistory` (pairing: the primary's configuration wins) it is installed whatever this
   * node had, and every revision this node kept is deleted, so that the two nodes' histories
   * cannot disagree. Like a commit, it is checked whole before anything is stored (the shape
   * of a stored configuration, the rules, the keys its certificates need, the engine): a
   * refused revision changes nothing. The rules run without this node's reserved listeners:
   * the primary judged those for the pair, and a secondary that refused them would split it.
   * A refusal names its field within `{ record, keys }` (the peer operation's body).
   */
  adopt(record: RevisionRecord, keys: Record<string, string>, options: { replaceHistory?: boolean } = {}): Promise<void> {
    const run = this.#queue.then(async () => {
      if (record.revision <= this.#current.revision && record.revision !== 0 && !options.replaceHistory) return;
      try {
        checkStoredConfig(record.config, { reserved: [] });
      } catch (err) {
        throw err instanceof ApplianceError ? err.withFieldPrefix('/record/config') : err;
      }
      for (const [ref, pem] of Object.entries(keys)) {
        if (Keystore.refOf(pem) !== ref) throw new ApplianceError('LB_VALIDATION', `key ${ref} is not the SHA-256 of the key it names`, { field: `/keys/${ref}` });
      }
      const snapshot = await buildSnapshot(record.revision, record.config, async (ref) => {
        if (keys[ref] !== undefined) return keys[ref];
        return this.keystore.get(ref).catch(() => {
          const id = Object.entries(record.config.certificates).find(([, c]) => c.keyRef === ref)?.[0] ?? '';
          throw new ApplianceError('LB_VALIDATION', `the private key ${ref} of certificate ${id} is neither sent nor kept here`, { field: `/record/config/certificates/${id}/keyRef` });
        });
      });
      await this.#engine.check(snapshot);
      if (options.replaceHistory) {
        for (const h of this.#history) await unlink(join(this.#dir, fileName(h.revision))).catch(() => undefined);
        this.#history = [];
        this.#keyRefs.clear();
      }
      for (const pem of Object.values(keys)) await this.keystore.put(pem);
      await this.#persist(record);
      await this.#apply(record, snapshot);
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Waits for every queued write to finish. */
  async drain(): Promise<void> {
    await this.#queue;
  }

  async #commit<T>(ctx: CommitContext, mutate: Mutation<T>): Promise<CommitResult<T>> {
    const base = this.#current;
    const draft = structuredClone(base.config);
    const staged: string[] = [];
    const tools: MutationTools = {
      addKey: (pem) => {
        staged.push(pem);
        return Keystore.refOf(pem);
      },
      baseRevision: base.revision,
      base: base.config,
    };
    const value = await mutate(draft, tools);
    checkRules(base.config, draft, this.#rules);
    const record: RevisionRecord = {
      revision: base.revision + 1,
      createdAt: new Date().toISOString(),
      user: ctx.user,
      operation: ctx.operation,
      config: draft,
    };
    const snapshot = await buildSnapshot(record.revision, record.config, (ref) => {
      const stagedPem = staged.find((p) => Keystore.refOf(p) === ref);
      return stagedPem !== undefined ? Promise.resolve(stagedPem) : this.#keyOf(ref);
    });
    await this.#engine.check(snapshot);
    await this.#engine.checkListeners(snapshot);
    for (const pem of staged) await this.keystore.put(pem);
    await this.#persist(record);
    await this.#apply(record, snapshot);
    for (const listener of this.#listeners) await listener(record);
    return { revision: record.revision, value, changed: true, before: base, after: record };
  }

  async #persist(record: RevisionRecord): Promise<void> {
    await writeFileAtomic(join(this.#dir, fileName(record.revision)), JSON.stringify(record), 0o600);
    this.#current = record;
    this.#history = this.#history.filter((h) => h.revision !== record.revision);
    this.#history.unshift({ revision: record.revision, createdAt: record.createdAt, user: record.user, operation: record.operation });
    this.#keyRefs.set(record.revision, keyRefsOf(record.config));
    await this.#prune();
  }

  async #apply(record: RevisionRecord, prebuilt?: Awaited<ReturnType<typeof buildSnapshot>>): Promise<void> {
    const started = performance.now();
    try {
      const snapshot = prebuilt ?? (await buildSnapshot(record.revision, record.config, (ref) => this.#keyOf(ref)));
      const report = await this.#engine.apply(snapshot);
      this.#lastApplyMs = performance.now() - started;
      this.#applyFailure = null;
      this.#log.info({ revision: record.revision, applyMs: Math.round(this.#lastApplyMs * 10) / 10, listenersChanged: report.listenersChanged }, 'revision applied');
    } catch (err) {
      // The revision is stored; the engine keeps serving what it can and reports the rest in its
      // status; the overview says why until a write or a rollback applies.
      this.#applyFailure = { revision: record.revision, at: new Date().toISOString(), message: (err as Error)?.message ?? String(err) };
      this.#log.error({ revision: record.revision, err }, 'engine could not apply the revision completely');
    }
  }

  /** A key of the keystore; a missing one is named by the certificate that needs it. */
  async #keyOf(ref: string): Promise<string> {
    try {
      return await this.keystore.get(ref);
    } catch (err) {
      const [id, cert] = Object.entries(this.#current.config.certificates).find(([, c]) => c.keyRef === ref) ?? [];
      throw new ApplianceError('LB_INTERNAL', `the private key of certificate ${cert ? `${cert.label} (${id})` : ref} is missing from the keystore (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); replace the certificate, or roll back to a revision without it`, {
        field: id ? `/certificates/${id}` : undefined,
        cause: err,
      });
    }
  }

  async #prune(): Promise<void> {
    while (this.#history.length > this.#keep) {
      const old = this.#history.pop();
      if (!old) break;
      this.#keyRefs.delete(old.revision);
      await unlink(join(this.#dir, fileName(old.revision))).catch(() => undefined);
    }
    const keep = new Set<string>();
    for (const refs of this.#keyRefs.values()) for (const r of refs) keep.add(r);
    await this.keystore.prune(keep);
  }

  async #read(revision: number): Promise<RevisionRecord> {
    const text = await readFile(join(this.#dir, fileName(revision)), 'utf8');
    const record = JSON.parse(text) as RevisionRecord;
    const isMap = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
    const config = record.config as Partial<StoredConfig> | null;
    if (record.revision !== revision || !isMap(config) || !isMap(config?.virtualServices) || !isMap(config?.realServers) || !isMap(config?.certificates)) {
      throw new ApplianceError('LB_INTERNAL', `revision file ${fileName(revision)} does not hold revision ${revision}`);
    }
    return upgraded(record);
  }
}

/**
 * A stored revision as this version reads it. A check path outside RFC 3986 (admitted by the
 * contract before issue 19) reads back percent-encoded: what both engines send for it anyway,
 * and a value the contract admits, so the VIP can be read, backed up and written again.
 */
function upgraded(record: RevisionRecord): RevisionRecord {
  for (const vs of Object.values(record.config.virtualServices)) {
    const hc = (vs as Partial<typeof vs>).healthCheck;
    if (hc && typeof hc.path === 'string') hc.path = checkTarget(hc.path);
  }
  return record;
}
