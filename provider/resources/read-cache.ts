// Bulk reads for a plan's refresh. Terraform and Pulumi refresh every resource with its own
// Read; one API round trip each makes a plan of a thousand resources cost a thousand requests
// (and the vendors' providers their well-known timeouts). Instead the provider process reads
// the whole configuration once (GET /config, with its revision) and answers the reads of
// virtual services and real servers from it. It stays correct under changes made elsewhere:
// a write through this provider drops it (and a read already under way cannot bring the
// older copy back), and once it is older than MAX_AGE_MS the next read asks the appliance for
// its current revision (GET /revisions, a small answer whatever the site's size) and reads
// the configuration again only when it changed, so out-of-band drift shows in the plan.
import type { components } from '../../openapi/generated/types.js';
import type { ApplianceClient } from '../../openapi/sdk/client.js';

type Config = components['schemas']['Config'];

/** How long a read configuration is used without asking the appliance for its revision. */
export const MAX_AGE_MS = 1000;

interface Held {
  config: Config;
  at: number;
}

/** One client's cached configuration. */
class ConfigReadCache {
  readonly #client: ApplianceClient;
  #held: Held | null = null;
  #loading: Promise<Held> | null = null;
  #generation = 0;

  constructor(client: ApplianceClient) {
    this.#client = client;
  }

  /** Forgets the configuration: the next read fetches it again. */
  invalidate(): void {
    this.#generation += 1;
    this.#held = null;
    this.#loading = null;
  }

  /** The configuration, fresh within MAX_AGE_MS (revalidated by revision after that). */
  async config(signal?: AbortSignal): Promise<Config> {
    const held = this.#held;
    if (held && Date.now() - held.at <= MAX_AGE_MS) return held.config;
    this.#loading ??= this.#load(held, signal).finally(() => {
      this.#loading = null;
    });
    return (await this.#loading).config;
  }

  async #load(held: Held | null, signal?: AbortSignal): Promise<Held> {
    const generation = this.#generation;
    if (held) {
      const { current } = await this.#client.listRevisions({ signal });
      if (current === held.config.revision) {
        const renewed = { config: held.config, at: Date.now() };
        if (generation === this.#generation) this.#held = renewed;
        return renewed;
      }
    }
    const fetched = { config: await this.#client.getConfig({ signal }), at: Date.now() };
    // A write through this provider while the read was under way: the copy may predate it.
    if (generation === this.#generation) this.#held = fetched;
    return fetched;
  }
}

const caches = new WeakMap<ApplianceClient, ConfigReadCache>();

/** The read cache of a client (one per configured provider). */
export function readCache(client: ApplianceClient): ConfigReadCache {
  let cache = caches.get(client);
  if (!cache) caches.set(client, (cache = new ConfigReadCache(client)));
  return cache;
}

/** Runs a write through the provider and drops the cached configuration (before and after it). */
export async function writing<T>(client: ApplianceClient, write: () => Promise<T>): Promise<T> {
  const cache = readCache(client);
  cache.invalidate();
  try {
    return await write();
  } finally {
    cache.invalidate();
  }
}
