// The audit log: one JSON line per write (accepted or refused), with who, when, from where
// and, for accepted configuration writes, what changed as an RFC 6902 JSON Patch computed
// with fast-json-patch. Appended to audit.log in the data dir and fsynced.
import { open, readFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import jsonPatch from 'fast-json-patch';

/** One audit entry (the contract's AuditEntry). */
export interface AuditEntry {
  seq: number;
  at: string;
  user: string;
  address: string;
  method: string;
  path: string;
  operation: string;
  status: number;
  revision: number | null;
  changes: { op: string; path: string; value?: unknown }[] | null;
}

const SECRET_KEYS = new Set(['password', 'peerPassword', 'passphrase', 'pem', 'pfx', 'keyPem', 'hash']);

function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_KEYS.has(k) ? '(redacted)' : redact(v)]));
  }
  return value;
}

/** The changes between two documents as JSON Patch operations, secrets redacted. */
export function diff(before: unknown, after: unknown): AuditEntry['changes'] {
  const ops = jsonPatch.compare(before as object, after as object);
  return ops.map((op) => redact(op) as { op: string; path: string; value?: unknown });
}

/** The append-only audit log. */
export class AuditLog {
  readonly #path: string;
  readonly #recent: AuditEntry[] = [];
  readonly #max: number;
  #seq = 0;
  #handle: FileHandle | null = null;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(dataDir: string, keepInMemory = 5000) {
    this.#path = join(dataDir, 'audit.log');
    this.#max = keepInMemory;
  }

  /** Opens the log and reads back its tail. */
  async open(): Promise<void> {
    const text = await readFile(this.#path, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return '';
      throw err;
    });
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        const entry = JSON.parse(line) as AuditEntry;
        this.#seq = Math.max(this.#seq, entry.seq);
        this.#recent.push(entry);
        if (this.#recent.length > this.#max) this.#recent.shift();
      } catch {
        // a line torn by a crash: skip it
      }
    }
    this.#handle = await open(this.#path, 'a', 0o600);
  }

  /** Appends an entry (durably) and returns it. */
  record(entry: Omit<AuditEntry, 'seq'>): Promise<AuditEntry> {
    const run = this.#queue.then(async () => {
      const full: AuditEntry = { seq: ++this.#seq, ...entry };
      this.#recent.push(full);
      if (this.#recent.length > this.#max) this.#recent.shift();
      if (this.#handle) {
        await this.#handle.appendFile(JSON.stringify(full) + '\n');
        await this.#handle.datasync();
      }
      return full;
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Entries newest first, at most `limit`, with seq below `before` when given. */
  list(limit: number, before?: number): AuditEntry[] {
    const out: AuditEntry[] = [];
    for (let i = this.#recent.length - 1; i >= 0 && out.length < limit; i--) {
      const e = this.#recent[i];
      if (e && (before === undefined || e.seq < before)) out.push(e);
    }
    return out;
  }

  /** Closes the file. */
  async close(): Promise<void> {
    await this.#queue;
    await this.#handle?.close();
    this.#handle = null;
  }
}
