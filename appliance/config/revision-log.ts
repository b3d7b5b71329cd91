// The append-only log of configuration changes, with group commit. Each line is one revision's
// change (only the objects it touched), so a write costs what it changes, not what the site
// holds. Lines that arrive while a flush is under way are written together and share the next
// fdatasync; each is still its own revision, and none is acknowledged before its fdatasync
// returned. A line carries a CRC-32 of its text: a line torn by a crash or a power loss (never
// acknowledged: its fdatasync had not returned) ends the log at the next open, and is cut off.
//
// Segments: `wal-<R>.log` holds the revisions after the snapshot `rev-<R>.json` (a full
// revision record, kept by the store); a new snapshot starts a new segment.
import { crc32 } from 'node:zlib';
import { open, readdir, readFile, truncate, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir } from './atomic-file.js';
import { CONFIG_MAPS, type StoredAlertMail, type StoredCertificate, type StoredConfig, type StoredRealServer, type StoredSyslogCollector, type VirtualServiceSpec } from './model.js';
import type { StoredSnmpSettings } from './snmp-settings.js';

/** The objects one revision changed: each id maps to its new value, or null when removed. */
export interface ConfigChange {
  virtualServices: Record<string, VirtualServiceSpec | null>;
  realServers: Record<string, StoredRealServer | null>;
  certificates: Record<string, StoredCertificate | null>;
  /** Absent in lines written before syslog collectors existed. */
  syslogCollectors: Record<string, StoredSyslogCollector | null>;
  alertMail: Record<string, StoredAlertMail | null>;
  /** Absent from the lines of versions before the SNMP settings (issue 18). */
  snmp: Record<string, StoredSnmpSettings | null>;
}

/** One line of the log: a revision, who made it, and what it changed. */
export interface LogEntry {
  revision: number;
  createdAt: string;
  user: string;
  operation: string;
  change: ConfigChange;
}

const SEGMENT = /^wal-(\d{10})\.log$/;
const MAPS = CONFIG_MAPS;

/** The file name of the segment that follows snapshot `revision`. */
export function segmentName(revision: number): string {
  return `wal-${String(revision).padStart(10, '0')}.log`;
}

/**
 * What changed from `base` to `next`: objects are compared by identity (a write replaces the
 * objects it changes and shares the others with its base), so this is O(ids), with no deep
 * comparison and no copy.
 */
export function changeBetween(base: StoredConfig, next: StoredConfig): ConfigChange {
  const change = {} as Record<string, unknown>;
  for (const map of MAPS) change[map] = mapChange((base[map] ?? {}) as Record<string, unknown>, (next[map] ?? {}) as Record<string, unknown>);
  return change as unknown as ConfigChange;
}

/** What changed in one collection, by identity: each replaced or added id's value, null for a removed one. */
export function mapChange(before: Record<string, unknown>, after: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const id in after) if (before[id] !== after[id]) out[id] = after[id];
  for (const id in before) if (!(id in after)) out[id] = null;
  return out;
}

/** Whether a change touches nothing. */
export function isEmptyChange(change: ConfigChange): boolean {
  return MAPS.every((m) => Object.keys(change[m] ?? {}).length === 0);
}

/** Applies a change to a configuration, returning a new one that shares every untouched object (and collection). */
export function applyChange(config: StoredConfig, change: ConfigChange): StoredConfig {
  const next = {} as Record<string, Record<string, unknown>>;
  for (const map of MAPS) {
    const collection = (config[map] ?? {}) as Record<string, unknown>;
    const entries = Object.entries(change[map] ?? {});
    if (entries.length === 0) {
      next[map] = collection;
      continue;
    }
    const target = (next[map] = { ...collection });
    for (const [id, value] of entries) {
      if (value === null) delete target[id];
      else target[id] = value;
    }
  }
  return next as unknown as StoredConfig;
}

/** A log line: CRC-32 (8 hex digits) of the JSON, a space, the JSON, a newline. */
export function encodeEntry(entry: LogEntry): Buffer {
  const json = JSON.stringify(entry);
  const body = Buffer.from(json);
  return Buffer.concat([Buffer.from(`${crc32(body).toString(16).padStart(8, '0')} `), body, Buffer.from('\n')]);
}

/** The entries of a segment's bytes up to the first damaged line, and where that line starts. */
export function decodeEntries(data: Buffer): { entries: LogEntry[]; validBytes: number } {
  const entries: LogEntry[] = [];
  let at = 0;
  while (at < data.length) {
    const nl = data.indexOf(10, at);
    if (nl < 0 || nl - at < 10 || data[at + 8] !== 0x20) break;
    const body = data.subarray(at + 9, nl);
    if (data.toString('latin1', at, at + 8) !== crc32(body).toString(16).padStart(8, '0')) break;
    let entry: LogEntry;
    try {
      entry = JSON.parse(body.toString('utf8')) as LogEntry;
    } catch {
      break;
    }
    if (!Number.isInteger(entry?.revision) || typeof entry.change !== 'object' || entry.change === null) break;
    entries.push(entry);
    at = nl + 1;
  }
  return { entries, validBytes: at };
}

/** The snapshot revisions that have a segment in `dir`, ascending. */
export async function segmentsIn(dir: string): Promise<number[]> {
  return (await readdir(dir).catch(() => [] as string[]))
    .map((n) => SEGMENT.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

/** Reads a segment's intact entries; with `repair`, cuts a damaged tail off the file. */
export async function readSegment(dir: string, snapshot: number, repair = false): Promise<{ entries: LogEntry[]; cut: number }> {
  const path = join(dir, segmentName(snapshot));
  const data = await readFile(path).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? Buffer.alloc(0) : Promise.reject(err)));
  const { entries, validBytes } = decodeEntries(data);
  const cut = data.length - validBytes;
  if (cut > 0 && repair) {
    await truncate(path, validBytes);
    const h = await open(path, 'r+');
    try {
      await h.sync();
    } finally {
      await h.close();
    }
  }
  return { entries, cut };
}

interface Pending {
  data: Buffer;
  onDurable: () => void;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** The segment being written, with group commit. */
export class RevisionLog {
  readonly #dir: string;
  #handle: FileHandle | null = null;
  #snapshot = 0;
  #pending: Pending[] = [];
  #flushing: Promise<void> | null = null;
  #size = 0;
  #generation = 0;
  /** Called, synchronously, when a flush failed: lines staged on top of it must not be written. */
  onFailure: () => void = () => undefined;
  /** fdatasync calls and the lines they carried (for the tests and the metrics). */
  readonly stats = { flushes: 0, lines: 0 };

  constructor(dir: string) {
    this.#dir = dir;
  }

  /** The snapshot the open segment follows. */
  get snapshot(): number {
    return this.#snapshot;
  }

  /** Opens (creating it durably if needed) the segment that follows snapshot `revision`, for appending. */
  async openSegment(revision: number): Promise<void> {
    await this.flush();
    await this.#handle?.close();
    this.#handle = null;
    const path = join(this.#dir, segmentName(revision));
    const handle = await open(path, 'a', 0o600);
    this.#size = (await handle.stat()).size;
    await fsyncDir(this.#dir);
    this.#handle = handle;
    this.#snapshot = revision;
  }

  /**
   * Bumped by a failed flush. A line is appended with the generation its revision was built
   * in: one built on a revision that never reached the disk is refused, never written after it.
   */
  get generation(): number {
    return this.#generation;
  }

  /**
   * Appends a line; resolves once it is on disk (fdatasync), together with whatever arrived
   * meanwhile. `onDurable` runs synchronously, in log order, as the line becomes durable.
   */
  append(data: Buffer, generation: number, onDurable: () => void = () => undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (generation !== this.#generation) {
        reject(new Error('an earlier revision this one was built on could not be written'));
        return;
      }
      this.#pending.push({ data, onDurable, resolve, reject });
      this.#flushing ??= this.#flushLoop();
    });
  }

  /** Waits until every appended line is on disk (or failed). */
  async flush(): Promise<void> {
    while (this.#flushing) await this.#flushing.catch(() => undefined);
  }

  async #flushLoop(): Promise<void> {
    try {
      while (this.#pending.length > 0) {
        const batch = this.#pending;
        this.#pending = [];
        const handle = this.#handle;
        try {
          if (!handle) throw new Error('the configuration log is not open');
          const data = batch.length === 1 ? (batch[0] as Pending).data : Buffer.concat(batch.map((p) => p.data));
          await handle.write(data, 0, data.length, null);
          await handle.datasync();
          this.#size += data.length;
          this.stats.flushes += 1;
          this.stats.lines += batch.length;
        } catch (err) {
          // Nothing of the batch is acknowledged: cut what part of it reached the file, so the
          // next line does not follow a torn one (the open would stop at the torn line).
          // Lines still pending were built on this batch: they fail with it.
          this.#generation += 1;
          const stale = this.#pending;
          this.#pending = [];
          this.onFailure();
          if (handle) await handle.truncate(this.#size).then(() => handle.datasync()).catch(() => undefined);
          for (const p of [...batch, ...stale]) p.reject(err);
          continue;
        }
        for (const p of batch) p.onDurable();
        for (const p of batch) p.resolve();
      }
    } finally {
      this.#flushing = null;
    }
  }

  /** Deletes the segments of snapshots older than `revision`. */
  async pruneBefore(revision: number): Promise<void> {
    for (const s of await segmentsIn(this.#dir)) if (s < revision && s !== this.#snapshot) await unlink(join(this.#dir, segmentName(s))).catch(() => undefined);
  }

  /** Deletes every segment but the open one's. */
  async removeAllBut(revision: number): Promise<void> {
    for (const s of await segmentsIn(this.#dir)) if (s !== revision) await unlink(join(this.#dir, segmentName(s))).catch(() => undefined);
  }

  /** Flushes and closes the segment. */
  async close(): Promise<void> {
    await this.flush();
    await this.#handle?.close();
    this.#handle = null;
  }
}
