// The audit log: one JSON line per write (accepted or refused), with who, when, from where
// and, for accepted configuration writes, what changed as an RFC 6902 JSON Patch computed
// with fast-json-patch. Appended to audit.log in the data dir and fsynced. Every entry on
// disk can be listed: an index of each line's sequence number and place in the file (three
// numbers an entry) finds any page, read from the file; the newest entries are also kept in
// memory, so the usual request (the newest page) does not touch the disk.
import { open, type FileHandle } from 'node:fs/promises';
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
  readonly #cacheSize: number;
  /** Sequence number, byte offset and byte length (without the newline) of every line on disk, oldest first. */
  readonly #seqs: number[] = [];
  readonly #offsets: number[] = [];
  readonly #lengths: number[] = [];
  /** The newest entries (the tail of the index), parsed. */
  #recent: AuditEntry[] = [];
  #size = 0;
  /** The file does not end with a newline (a line torn by a crash): the next entry starts a new line. */
  #newlineFirst = false;
  #seq = 0;
  #handle: FileHandle | null = null;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #recorded: ((entry: AuditEntry) => void)[] = [];

  /** `keepInMemory`: how many of the newest entries are served without reading the file. */
  constructor(dataDir: string, keepInMemory = 5000) {
    this.#path = join(dataDir, 'audit.log');
    this.#cacheSize = keepInMemory;
  }

  /** Opens the log and indexes every entry in it (read in chunks, not as one string). */
  async open(): Promise<void> {
    const reader = await open(this.#path, 'r').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      throw err;
    });
    if (reader) {
      try {
        const chunk = Buffer.alloc(1 << 20);
        let carry = Buffer.alloc(0);
        let carryAt = 0;
        for (;;) {
          const { bytesRead } = await reader.read(chunk, 0, chunk.length, carryAt + carry.length);
          if (bytesRead === 0) break;
          const data = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, bytesRead)]) : chunk.subarray(0, bytesRead);
          let lineStart = 0;
          for (let nl = data.indexOf(10); nl !== -1; nl = data.indexOf(10, lineStart)) {
            this.#indexLine(data.subarray(lineStart, nl), carryAt + lineStart);
            lineStart = nl + 1;
          }
          carry = Buffer.from(data.subarray(lineStart));
          carryAt += lineStart;
        }
        if (carry.length > 0) {
          this.#indexLine(carry, carryAt);
          this.#newlineFirst = true;
        }
        this.#size = carryAt + carry.length;
      } finally {
        await reader.close();
      }
    }
    this.#handle = await open(this.#path, 'a', 0o600);
  }

  #indexLine(line: Buffer, offset: number): void {
    if (line.length === 0) return;
    let entry: AuditEntry;
    try {
      entry = JSON.parse(line.toString('utf8')) as AuditEntry;
    } catch {
      return; // a line torn by a crash: skip it
    }
    // Sequence numbers only grow along the file (the index is searched by them).
    if (typeof entry !== 'object' || entry === null || !Number.isInteger(entry.seq) || entry.seq <= this.#seq) return;
    this.#seq = entry.seq;
    this.#append(entry, offset, line.length);
  }

  #append(entry: AuditEntry, offset: number, length: number): void {
    this.#seqs.push(entry.seq);
    this.#offsets.push(offset);
    this.#lengths.push(length);
    this.#recent.push(entry);
    // Trimmed in batches, not one shift per entry.
    if (this.#recent.length >= 2 * this.#cacheSize) this.#recent = this.#recent.slice(-this.#cacheSize);
  }

  /** Registers a listener told of each entry once it is on disk (it must not throw). */
  onRecord(listener: (entry: AuditEntry) => void): void {
    this.#recorded.push(listener);
  }

  /** Appends an entry (durably) and returns it. */
  record(entry: Omit<AuditEntry, 'seq'>): Promise<AuditEntry> {
    const run = this.#queue.then(async () => {
      const handle = this.#handle;
      if (!handle) throw new Error('the audit log is not open');
      // The number is used up even if the write fails (a line of it may be on disk).
      const full: AuditEntry = { seq: ++this.#seq, ...entry };
      const line = Buffer.from(JSON.stringify(full));
      const lead = this.#newlineFirst ? 1 : 0;
      try {
        await handle.appendFile(Buffer.concat([lead ? Buffer.from('\n') : Buffer.alloc(0), line, Buffer.from('\n')]));
        await handle.datasync();
      } catch (err) {
        // Part of the line may be on disk: find the end again, and start the next entry on a new line.
        this.#size = (await handle.stat()).size;
        this.#newlineFirst = true;
        throw err;
      }
      this.#append(full, this.#size + lead, line.length);
      this.#size += lead + line.length + 1;
      this.#newlineFirst = false;
      for (const listener of this.#recorded) listener(full);
      return full;
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Entries newest first, at most `limit`, with seq below `before` when given: any entry on disk. */
  async list(limit: number, before?: number): Promise<AuditEntry[]> {
    const count = this.#seqs.length;
    const end = before === undefined ? count : countBelow(this.#seqs, before);
    const start = Math.max(0, end - Math.max(0, limit));
    if (start >= end) return [];
    const cachedFrom = count - this.#recent.length;
    const entries = start >= cachedFrom ? this.#recent.slice(start - cachedFrom, end - cachedFrom) : await this.#read(start, end);
    return entries.reverse();
  }

  /** Reads the entries at index positions [start, end) from the file. */
  async #read(start: number, end: number): Promise<AuditEntry[]> {
    const from = this.#offsets[start] as number;
    const to = (this.#offsets[end - 1] as number) + (this.#lengths[end - 1] as number);
    const buffer = Buffer.alloc(to - from);
    const reader = await open(this.#path, 'r');
    try {
      let done = 0;
      while (done < buffer.length) {
        const { bytesRead } = await reader.read(buffer, done, buffer.length - done, from + done);
        if (bytesRead === 0) throw new Error(`the audit log ends before byte ${to}`);
        done += bytesRead;
      }
    } finally {
      await reader.close();
    }
    const out: AuditEntry[] = [];
    for (let i = start; i < end; i++) {
      const at = (this.#offsets[i] as number) - from;
      out.push(JSON.parse(buffer.toString('utf8', at, at + (this.#lengths[i] as number))) as AuditEntry);
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

/** How many of the ascending `seqs` are below `limit` (binary search). */
function countBelow(seqs: number[], limit: number): number {
  let lo = 0;
  let hi = seqs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((seqs[mid] as number) < limit) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
