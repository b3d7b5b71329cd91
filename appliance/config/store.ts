// The config store: every accepted write becomes a new revision, durable before it is
// acknowledged, then handed to the engine as an immutable snapshot. A write costs what it
// changes, not what the site holds: it is one line of the append-only revision log (only the
// objects it touched), writes that arrive together share one fdatasync (group commit, each
// still its own revision), and every SNAPSHOT_EVERY revisions, and at a clean stop, the whole
// configuration is written as a snapshot (`revisions/rev-N.json`, the format every earlier
// version wrote one per revision, and still reads). Writes are built one at a time on the
// newest staged revision; a write that fails any check changes nothing (it works on a draft
// that shares the untouched objects and replaces the ones it changes).
import { mkdir, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ApplianceError } from '../errors.js';
import type { SnapshotTarget } from './snapshot.js';
import { removeStaleTemporaries, writeFileAtomic } from './atomic-file.js';
import { checkTarget } from './check-target.js';
import { Keystore } from './keystore.js';
import { CONFIG_MAPS, emptyConfig, keyRefsOf, missingMap, withAllMaps, type RevisionRecord, type StoredConfig } from './model.js';
import { applyChange, changeBetween, encodeEntry, readSegment, RevisionLog, segmentsIn, type ConfigChange, type LogEntry } from './revision-log.js';
import { openDraft } from './draft.js';
import { deriveServerIndex } from './server-index.js';
import { checkRules, type RuleEnvironment } from './rules.js';
import { buildSnapshot, type ConfigSnapshot } from './snapshot.js';
import { checkStoredConfig } from './stored-config-check.js';
import { withContractDefaults } from './contract-defaults.js';

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
  /** What the write changed from `before` to `after`: the objects it replaced or added, null for those it removed. */
  change: Readonly<ConfigChange>;
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
  /** Revisions between two snapshots of the whole configuration (default 100). */
  snapshotEvery?: number;
}

/** Observes how long each write took, from its call to its acknowledgement (seconds). */
export type WriteObserver = (seconds: number, ok: boolean) => void;

const REVISION_FILE = /^rev-(\d{10})\.json$/;

function fileName(revision: number): string {
  return `rev-${String(revision).padStart(10, '0')}.json`;
}

/** The store of configuration revisions. */
export class ConfigStore {
  readonly #dir: string;
  readonly #walDir: string;
  readonly #engine: SnapshotTarget;
  readonly #log: Logger;
  readonly #rules: RuleEnvironment;
  readonly #keep: number;
  readonly #snapshotEvery: number;
  readonly keystore: Keystore;
  readonly #wal: RevisionLog;
  /** The newest revision published (durable, and its write acknowledged or about to be). */
  #current: RevisionRecord = { revision: 0, createdAt: new Date(0).toISOString(), user: 'system', operation: 'initial', config: emptyConfig() };
  /** The newest revision on disk. */
  #durable: RevisionRecord = this.#current;
  #durableSnapshot: ConfigSnapshot | null = null;
  /** The newest revision staged: the next write is built on it. */
  #tip: RevisionRecord = this.#current;
  #history: RevisionInfo[] = [];
  /** Revisions of the snapshot files, ascending. */
  #snapshots: number[] = [];
  /** Key references named by each kept snapshot (all its keys) and log entry (the keys it added). */
  #keyRefs = new Map<number, string[]>();
  /** Writes are built one at a time. */
  #queue: Promise<unknown> = Promise.resolve();
  /** Once durable, writes are published, applied and announced in revision order. */
  #after: Promise<unknown> = Promise.resolve();
  #appliedRevision = -1;
  #listeners: CommitListener[] = [];
  #writeObservers: WriteObserver[] = [];
  #lastApplyMs = 0;
  #applyFailure: ApplyFailure | null = null;
  #checkpointQueued = false;

  constructor(options: ConfigStoreOptions) {
    this.#dir = join(options.dataDir, 'config', 'revisions');
    this.#walDir = join(options.dataDir, 'config', 'log');
    this.keystore = new Keystore(join(options.dataDir, 'config', 'keys'));
    this.#engine = options.engine;
    this.#log = options.logger;
    this.#rules = options.rules;
    this.#keep = options.keep ?? 100;
    this.#snapshotEvery = Math.max(1, options.snapshotEvery ?? 100);
    this.#wal = new RevisionLog(this.#walDir);
    // A failed flush: what was staged on top of it never happened.
    this.#wal.onFailure = () => {
      this.#tip = this.#durable;
    };
  }

  /**
   * Loads the newest intact snapshot and the log after it, and applies the result to the
   * engine. Never fails because of what the revision holds: a revision the engine cannot run
   * is reported (applyFailure) and the API still starts, to take a fix or a rollback (issue
   * 19: no crash loop). A log line torn by a crash (never acknowledged) is cut off.
   */
  async open(): Promise<void> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    await mkdir(this.#walDir, { recursive: true, mode: 0o700 });
    await this.keystore.init();
    const removed = await removeStaleTemporaries(this.#dir);
    if (removed > 0) this.#log.warn({ removed }, 'removed temporary files left by an interrupted write');
    const snapshots = (await readdir(this.#dir))
      .map((n) => REVISION_FILE.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => b - a);
    let base: RevisionRecord | null = null;
    const intact: number[] = [];
    for (const revision of snapshots) {
      const text = await readFile(join(this.#dir, fileName(revision)), 'utf8').catch(() => null);
      let record: RevisionRecord | null = null;
      try {
        if (text === null) throw new Error('unreadable');
        record = base === null ? parseRecord(text, revision) : null;
        if (base !== null) headerOf(text, revision);
      } catch (err) {
        this.#log.error({ revision, err }, 'revision file is unreadable; setting it aside');
        await rename(join(this.#dir, fileName(revision)), join(this.#dir, `${fileName(revision)}.corrupt`)).catch(() => undefined);
        continue;
      }
      intact.push(revision);
      base ??= record;
      const header = headerOf(text as string, revision);
      this.#history.push(header);
      this.#keyRefs.set(revision, keyRefsIn(text as string));
    }
    this.#snapshots = intact.sort((a, b) => a - b);
    let current: RevisionRecord = base ?? this.#current;
    // Every segment's entries count for the history; those after the loaded snapshot make the current revision.
    const segments = await segmentsIn(this.#walDir);
    let cut = 0;
    let broken = false;
    for (const [i, segment] of segments.entries()) {
      const { entries, cut: torn } = await readSegment(this.#walDir, segment, i === segments.length - 1);
      cut += torn;
      for (const entry of entries) {
        if (entry.revision > current.revision) {
          if (broken || entry.revision !== current.revision + 1) {
            broken = true;
            continue;
          }
          current = { revision: entry.revision, createdAt: entry.createdAt, user: entry.user, operation: entry.operation, config: applyChange(current.config, entry.change) };
        }
        if (!this.#history.some((h) => h.revision === entry.revision)) this.#history.push(infoOf(entry));
        this.#keyRefs.set(entry.revision, keyRefsOfChange(entry.change));
      }
    }
    if (cut > 0) this.#log.warn({ bytes: cut }, 'cut a log line torn by an interrupted write (never acknowledged)');
    if (broken) this.#log.error({ revision: current.revision }, 'the revision log breaks off after this revision; later lines are ignored');
    this.#history = this.#history.filter((h) => h.revision <= current.revision).sort((a, b) => b.revision - a.revision);
    this.#current = this.#durable = this.#tip = upgraded(current);
    // New lines follow the newest snapshot's segment, or a fresh one from this revision.
    // (A log that breaks off gets a snapshot of what it holds: nothing is appended after a gap.)
    if (broken) await this.#writeSnapshot(this.#current);
    else await this.#wal.openSegment(Math.max(segments.at(-1) ?? 0, this.#snapshots.at(-1) ?? 0));
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

  /** Log flushes (fdatasync) and the revisions they carried since the store opened. */
  get logStats(): { flushes: number; lines: number } {
    return { ...this.#wal.stats };
  }

  /** Kept revisions, newest first. */
  history(): RevisionInfo[] {
    return this.#history.slice(0, this.#keep);
  }

  /** A kept revision's record, or null: its snapshot with the log after it replayed. */
  async revision(revision: number): Promise<RevisionRecord | null> {
    if (revision === this.#current.revision) return this.#current;
    if (!this.history().some((h) => h.revision === revision)) return null;
    const from = [...this.#snapshots].reverse().find((s) => s <= revision);
    let record: RevisionRecord;
    if (from === undefined) record = { revision: 0, createdAt: new Date(0).toISOString(), user: 'system', operation: 'initial', config: emptyConfig() };
    else record = parseRecord(await readFile(join(this.#dir, fileName(from)), 'utf8'), from);
    if (record.revision === revision) return upgraded(record);
    await this.#wal.flush();
    for (const segment of await segmentsIn(this.#walDir)) {
      if (segment < record.revision) continue;
      for (const entry of (await readSegment(this.#walDir, segment)).entries) {
        if (entry.revision !== record.revision + 1) continue;
        record = { revision: entry.revision, createdAt: entry.createdAt, user: entry.user, operation: entry.operation, config: applyChange(record.config, entry.change) };
        if (record.revision === revision) return upgraded(record);
      }
    }
    return null;
  }

  /** Registers a listener run after each commit, before the write is acknowledged. */
  onCommit(listener: CommitListener): () => void {
    this.#listeners.push(listener);
    return () => {
      const at = this.#listeners.indexOf(listener);
      if (at >= 0) this.#listeners.splice(at, 1);
    };
  }

  /** Registers an observer of every write's latency (the metrics' histogram). */
  onWrite(observer: WriteObserver): void {
    this.#writeObservers.push(observer);
  }

  /**
   * Runs a mutation on a draft of the newest configuration and commits the result as a new
   * revision, after the rules and the engine accepted it. Writes are built one at a time;
   * their log lines share fdatasyncs; each is acknowledged once it is on disk, applied and
   * replicated, in revision order.
   */
  commit<T>(ctx: CommitContext, mutate: Mutation<T>): Promise<CommitResult<T>> {
    const started = performance.now();
    const staged = this.#queue.then(() => this.#stage(ctx, mutate));
    this.#queue = staged.catch(() => undefined);
    const done = staged.then((s) => s.done);
    done.then(
      () => this.#observe(started, true),
      () => this.#observe(started, false),
    );
    return done;
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
      await this.#after;
      if (record.revision <= this.#current.revision && record.revision !== 0 && !options.replaceHistory) return;
      try {
        checkStoredConfig(record.config, { reserved: [] });
      } catch (err) {
        throw err instanceof ApplianceError ? err.withFieldPrefix('/record/config') : err;
      }
      for (const [ref, pem] of Object.entries(keys)) {
        if (Keystore.refOf(pem) !== ref) throw new ApplianceError('LB_VALIDATION', `key ${ref} is not the SHA-256 of the key it names`, { field: `/keys/${ref}` });
      }
      // Objects equal to this node's keep their identity: the log line holds only what changed.
      const adopted: RevisionRecord = { ...record, config: sharing(this.#current.config, record.config) };
      const snapshot = await buildSnapshot(adopted.revision, adopted.config, async (ref) => {
        if (keys[ref] !== undefined) return keys[ref];
        return this.keystore.get(ref).catch(() => {
          const id = Object.entries(adopted.config.certificates).find(([, c]) => c.keyRef === ref)?.[0] ?? '';
          throw new ApplianceError('LB_VALIDATION', `the private key ${ref} of certificate ${id} is neither sent nor kept here`, { field: `/record/config/certificates/${id}/keyRef` });
        });
      }, this.#durableSnapshot);
      await this.#engine.check(snapshot);
      for (const pem of Object.values(keys)) await this.keystore.put(pem);
      if (options.replaceHistory) {
        await this.#writeSnapshot(adopted, true);
      } else if (adopted.revision === this.#durable.revision + 1) {
        const change = changeBetween(this.#durable.config, adopted.config);
        await this.#wal.append(encodeEntry(entryOf(adopted, change)), this.#wal.generation, () => this.#becameDurable(adopted, snapshot));
        this.#keyRefs.set(adopted.revision, keyRefsOfChange(change));
      } else {
        await this.#writeSnapshot(adopted);
      }
      this.#durable = this.#tip = adopted;
      this.#durableSnapshot = snapshot;
      this.#publish(adopted);
      await this.#apply(adopted, snapshot);
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Waits for every queued write to finish. */
  async drain(): Promise<void> {
    await this.#queue;
    await this.#after;
  }

  /** Finishes the queued writes and writes a snapshot of the current revision (a clean stop). */
  async close(): Promise<void> {
    await this.drain();
    const run = this.#queue.then(async () => {
      if (!this.#snapshots.includes(this.#durable.revision)) await this.#writeSnapshot(this.#durable);
      await this.#wal.close();
    });
    this.#queue = run.catch(() => undefined);
    await run;
  }

  /** Builds, checks and stages a write; `done` settles when it is acknowledged or refused. */
  async #stage<T>(ctx: CommitContext, mutate: Mutation<T>): Promise<{ done: Promise<CommitResult<T>> }> {
    const base = this.#tip;
    const generation = this.#wal.generation;
    const opened = openDraft(base.config);
    const staged: string[] = [];
    const tools: MutationTools = {
      addKey: (pem) => {
        staged.push(pem);
        return Keystore.refOf(pem);
      },
      baseRevision: base.revision,
      base: base.config,
    };
    const value = await mutate(opened.config, tools);
    const { config: draft, change, inOrder } = opened.close();
    // The rules, the snapshot and the views group the draft's servers by VIP: derived from the
    // base's grouping when the servers kept their order, not built over every server (issue 17).
    if (inOrder.has('realServers')) deriveServerIndex(draft, base.config, change.realServers);
    checkRules(base.config, draft, this.#rules, change);
    const record: RevisionRecord = {
      revision: base.revision + 1,
      createdAt: new Date().toISOString(),
      user: ctx.user,
      operation: ctx.operation,
      config: draft,
    };
    // Shared with the next revisions from now on: a later write must replace them, never edit them.
    for (const map of Object.values(change)) for (const v of Object.values(map as Record<string, unknown>)) deepFreeze(v);
    const snapshot = await buildSnapshot(record.revision, record.config, (ref) => {
      const stagedPem = staged.find((p) => Keystore.refOf(p) === ref);
      return stagedPem !== undefined ? Promise.resolve(stagedPem) : this.#keyOf(ref);
    }, this.#tipSnapshot, { config: base.config, change, inOrder });
    await this.#engine.check(snapshot);
    await this.#engine.checkListeners(snapshot);
    for (const pem of staged) await this.keystore.put(pem);
    if (generation !== this.#wal.generation) throw new ApplianceError('LB_INTERNAL', 'the revision this write was built on could not be stored; nothing was changed, send it again');
    this.#tip = record;
    this.#tipSnapshot = snapshot;
    this.#keyRefs.set(record.revision, keyRefsOfChange(change));
    const durable = this.#wal.append(encodeEntry(entryOf(record, change)), generation, () => this.#becameDurable(record, snapshot));
    const done = this.#after.then(async () => {
      await durable;
      this.#publish(record);
      // The engine runs the newest durable revision: writes flushed together are applied once.
      if (this.#appliedRevision < this.#durable.revision) await this.#apply(this.#durable, this.#durableSnapshot ?? undefined);
      for (const listener of this.#listeners) await listener(record);
      this.#scheduleCheckpoint();
      return { revision: record.revision, value, changed: true, before: base, after: record, change };
    });
    this.#after = done.catch(() => undefined);
    return { done };
  }

  #tipSnapshot: ConfigSnapshot | null = null;

  #becameDurable(record: RevisionRecord, snapshot: ConfigSnapshot): void {
    this.#durable = record;
    this.#durableSnapshot = snapshot;
  }

  #publish(record: RevisionRecord): void {
    this.#current = record;
    this.#history = this.#history.filter((h) => h.revision !== record.revision);
    this.#history.unshift({ revision: record.revision, createdAt: record.createdAt, user: record.user, operation: record.operation });
    if (this.#history.length > this.#keep * 2) this.#history.length = this.#keep;
  }

  #observe(started: number, ok: boolean): void {
    const seconds = (performance.now() - started) / 1000;
    for (const o of this.#writeObservers) o(seconds, ok);
  }

  /** Every SNAPSHOT_EVERY revisions, a snapshot is written between two writes. */
  #scheduleCheckpoint(): void {
    const last = this.#snapshots.at(-1) ?? 0;
    if (this.#checkpointQueued || this.#current.revision - last < this.#snapshotEvery) return;
    this.#checkpointQueued = true;
    const run = this.#queue.then(async () => {
      try {
        await this.#wal.flush();
        await this.#writeSnapshot(this.#durable);
      } catch (err) {
        this.#log.error({ err }, 'could not write a configuration snapshot; the log keeps growing until one succeeds');
      } finally {
        this.#checkpointQueued = false;
      }
    });
    this.#queue = run;
  }

  /**
   * Writes `record` whole as a snapshot, durably, and starts the log's next segment after it;
   * then deletes snapshots and segments no kept revision needs (with `alone`, every other one).
   */
  async #writeSnapshot(record: RevisionRecord, alone = false): Promise<void> {
    await writeFileAtomic(join(this.#dir, fileName(record.revision)), JSON.stringify(record), 0o600);
    await this.#wal.openSegment(record.revision);
    if (alone) {
      for (const s of this.#snapshots) if (s !== record.revision) await unlink(join(this.#dir, fileName(s))).catch(() => undefined);
      await this.#wal.removeAllBut(record.revision);
      this.#snapshots = [record.revision];
      this.#history = [];
      this.#keyRefs.clear();
    } else if (!this.#snapshots.includes(record.revision)) {
      this.#snapshots.push(record.revision);
    }
    this.#keyRefs.set(record.revision, keyRefsOf(record.config));
    await this.#prune();
  }

  async #apply(record: RevisionRecord, prebuilt?: ConfigSnapshot): Promise<void> {
    const started = performance.now();
    this.#appliedRevision = Math.max(this.#appliedRevision, record.revision);
    try {
      const snapshot = prebuilt ?? (await buildSnapshot(record.revision, record.config, (ref) => this.#keyOf(ref)));
      this.#durableSnapshot ??= snapshot;
      this.#tipSnapshot ??= snapshot;
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
      const [id, cert] = Object.entries(this.#tip.config.certificates).find(([, c]) => c.keyRef === ref) ?? [];
      throw new ApplianceError('LB_INTERNAL', `the private key of certificate ${cert ? `${cert.label} (${id})` : ref} is missing from the keystore (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); replace the certificate, or roll back to a revision without it`, {
        field: id ? `/certificates/${id}` : undefined,
        cause: err,
      });
    }
  }

  /**
   * Deletes the snapshots and log segments older than the newest snapshot at or before the
   * oldest kept revision (it and the log after it rebuild every kept revision), and the keys
   * no kept revision, nor a write under way, names.
   */
  async #prune(): Promise<void> {
    const kept = this.#history.slice(0, this.#keep);
    this.#history = kept;
    const oldest = kept.at(-1)?.revision ?? this.#durable.revision;
    const base = [...this.#snapshots].reverse().find((s) => s <= oldest) ?? 0;
    for (const s of this.#snapshots.filter((x) => x < base)) await unlink(join(this.#dir, fileName(s))).catch(() => undefined);
    this.#snapshots = this.#snapshots.filter((x) => x >= base);
    await this.#wal.pruneBefore(base);
    for (const r of [...this.#keyRefs.keys()]) if (r < base) this.#keyRefs.delete(r);
    const keep = new Set<string>(keyRefsOf(this.#tip.config));
    for (const refs of this.#keyRefs.values()) for (const r of refs) keep.add(r);
    await this.keystore.prune(keep);
  }
}

function deepFreeze(value: unknown): void {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
}

function entryOf(record: RevisionRecord, change: ConfigChange): LogEntry {
  return { revision: record.revision, createdAt: record.createdAt, user: record.user, operation: record.operation, change };
}

function infoOf(entry: LogEntry | RevisionRecord): RevisionInfo {
  return { revision: entry.revision, createdAt: entry.createdAt, user: entry.user, operation: entry.operation };
}

function keyRefsOfChange(change: ConfigChange): string[] {
  return keyRefsOf(change as unknown as Partial<StoredConfig>);
}

/** The key (and secret) references a snapshot file's text names (without parsing the whole configuration). */
function keyRefsIn(text: string): string[] {
  return [...text.matchAll(/"(?:keyRef|passwordRef)":"([0-9a-f]+)"/g)].map((m) => m[1] as string);
}

/** A snapshot file's revision, time, user and operation, read from its head (they precede the configuration). */
function headerOf(text: string, revision: number): RevisionInfo {
  const m = /^\{"revision":(\d+),"createdAt":("(?:[^"\\]|\\.)*"),"user":("(?:[^"\\]|\\.)*"),"operation":("(?:[^"\\]|\\.)*"),"config":\{/.exec(text);
  if (m && Number(m[1]) === revision) return { revision, createdAt: JSON.parse(m[2] as string) as string, user: JSON.parse(m[3] as string) as string, operation: JSON.parse(m[4] as string) as string };
  return infoOf(parseRecord(text, revision));
}

/** A revision file's record, checked to hold the revision its name says. */
function parseRecord(text: string, revision: number): RevisionRecord {
  const record = JSON.parse(text) as RevisionRecord;
  const config = record.config as Partial<StoredConfig> | null;
  // A revision an earlier version stored lacks the collections added since (CONFIG_MAP_SINCE).
  if (typeof config === 'object' && config !== null && !Array.isArray(config)) withAllMaps(config);
  if (record.revision !== revision || typeof config !== 'object' || config === null || missingMap(config as Record<string, unknown>) !== null) {
    throw new ApplianceError('LB_INTERNAL', `revision file ${fileName(revision)} does not hold revision ${revision}`);
  }
  // ... and the settings added since: the contract's defaults.
  withContractDefaults(record.config);
  return record;
}

/** `next` with every object equal (as JSON) to `base`'s object of the same id replaced by `base`'s. */
function sharing(base: StoredConfig, next: StoredConfig): StoredConfig {
  const out: StoredConfig = emptyConfig();
  for (const map of CONFIG_MAPS) {
    const from = (base[map] ?? {}) as Record<string, unknown>;
    const to = out[map] as Record<string, unknown>;
    for (const [id, v] of Object.entries(next[map] ?? {})) to[id] = from[id] !== undefined && JSON.stringify(from[id]) === JSON.stringify(v) ? from[id] : v;
  }
  return out;
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
