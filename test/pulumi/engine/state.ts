// The stack's state between runs, as a checkpoint: one entry per resource (URN, type, id,
// inputs, outputs, parent, provider reference, dependencies, options), in an order where
// every resource follows what it depends on. On disk every secret is encrypted (values.ts);
// in memory secrets are wrapped, never unwrapped.
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { Bag } from './rpc.js';
import { SecretsManager } from './values.js';

/** One resource in the state. */
export interface ResourceState {
  urn: string;
  type: string;
  custom: boolean;
  id: string;
  inputs: Bag;
  outputs: Bag;
  parent: string;
  /** `urn::id` of the provider (custom resources). */
  provider: string;
  dependencies: string[];
  protect: boolean;
  /** Read with `X.get` (never created or deleted by the engine). */
  external: boolean;
  /** The id the program asked to import, once imported. */
  importId: string;
}

/** What is kept on disk. */
interface Checkpoint {
  version: 1;
  secretsProvider: 'passphrase';
  encryptionSalt: string;
  resources: ResourceState[];
}

/** A stack's state, loaded from and saved to one file. */
export class StackState {
  resources: ResourceState[] = [];
  readonly #file: string;
  #secrets: SecretsManager;
  readonly #passphrase: string;

  private constructor(file: string, passphrase: string, secrets: SecretsManager) {
    this.#file = file;
    this.#passphrase = passphrase;
    this.#secrets = secrets;
  }

  /** The state in `file` (empty when the file does not exist). */
  static async open(file: string, passphrase: string): Promise<StackState> {
    let text: string | undefined;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      return new StackState(file, passphrase, new SecretsManager(passphrase));
    }
    const checkpoint = JSON.parse(text) as Checkpoint;
    const secrets = new SecretsManager(passphrase, checkpoint.encryptionSalt);
    const state = new StackState(file, passphrase, secrets);
    state.resources = checkpoint.resources.map((r) => ({ ...r, inputs: secrets.decrypt(r.inputs) as Bag, outputs: secrets.decrypt(r.outputs) as Bag }));
    return state;
  }

  /** The resource with this URN. */
  get(urn: string): ResourceState | undefined {
    return this.resources.find((r) => r.urn === urn);
  }

  /** The checkpoint as written to disk: what `pulumi stack export` would show. */
  dump(): string {
    const checkpoint: Checkpoint = {
      version: 1,
      secretsProvider: 'passphrase',
      encryptionSalt: this.#secrets.salt,
      resources: this.resources.map((r) => ({ ...r, inputs: this.#secrets.encrypt(r.inputs) as Bag, outputs: this.#secrets.encrypt(r.outputs) as Bag })),
    };
    return `${JSON.stringify(checkpoint, null, 2)}\n`;
  }

  /** Writes the checkpoint (temporary file, then rename). */
  async save(): Promise<void> {
    await writeFile(`${this.#file}.tmp`, this.dump(), { mode: 0o600 });
    await rename(`${this.#file}.tmp`, this.#file);
  }

  /** A copy of the resources (a preview works on one and throws it away). */
  snapshot(): ResourceState[] {
    return structuredClone(this.resources);
  }

  /** The passphrase the state was opened with (for a new manager after a reset). */
  get passphrase(): string {
    return this.#passphrase;
  }
}
