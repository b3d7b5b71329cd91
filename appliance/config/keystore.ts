// Private keys live apart from the revisions, one file per key named by its SHA-256, readable
// by the appliance user only. Revisions refer to keys by that name, so a rollback finds the
// key it needs, and keys no kept revision refers to are removed.
import { readFile, readdir, unlink, mkdir } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-file.js';

/** The on-disk store of private keys. */
export class Keystore {
  readonly #dir: string;
  readonly #cache = new Map<string, string>();

  constructor(dir: string) {
    this.#dir = dir;
  }

  /** Creates the directory (mode 0700). */
  async init(): Promise<void> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
  }

  /** The reference (SHA-256 hex) a key PEM is stored under. */
  static refOf(keyPem: string): string {
    return createHash('sha256').update(keyPem).digest('hex');
  }

  /** Stores a key durably (before any revision refers to it) and returns its reference. */
  async put(keyPem: string): Promise<string> {
    const ref = Keystore.refOf(keyPem);
    if (!this.#cache.has(ref)) {
      await writeFileAtomic(join(this.#dir, `${ref}.pem`), keyPem, 0o600);
      this.#cache.set(ref, keyPem);
    }
    return ref;
  }

  /** The key PEM stored under a reference. */
  async get(ref: string): Promise<string> {
    const cached = this.#cache.get(ref);
    if (cached !== undefined) return cached;
    const pem = await readFile(join(this.#dir, `${ref}.pem`), 'utf8');
    this.#cache.set(ref, pem);
    return pem;
  }

  /** Removes every key not in `keep`. */
  async prune(keep: Set<string>): Promise<void> {
    for (const name of await readdir(this.#dir).catch(() => [] as string[])) {
      const ref = name.replace(/\.pem$/, '');
      if (name.endsWith('.pem') && !keep.has(ref)) {
        await unlink(join(this.#dir, name)).catch(() => undefined);
        this.#cache.delete(ref);
      }
    }
  }
}
