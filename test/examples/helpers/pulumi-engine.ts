// A Pulumi engine small enough for a test, since no Pulumi CLI can be installed here: the
// example's program runs under the SDK's mocks, and every resource it registers is sent to
// the real resource plugin (bin/pulumi-resource-lbappliance) over gRPC as the engine would:
// Check then Create on the first run; Check then Diff against the recorded state on the
// next (a preview: nothing written); Delete in reverse order to destroy. What the real
// engine does beyond that (state files, refresh, parallelism, the CLI) is not exercised.
import { pathToFileURL } from 'node:url';
import * as pulumi from '@pulumi/pulumi';
import { vi } from 'vitest';
import type { TestAppliance } from '../../helpers/appliance-process.js';
import { startPlugin, type Bag, type Plugin } from '../../pulumi/helpers/plugin.js';

/** A Pulumi program and its stack configuration. */
export interface PulumiProgram {
  /** The program's entry (a .ts file, run as vitest runs sources). */
  file: string;
  /** The project name (the config namespace). */
  project: string;
  /** Stack config values by key without the namespace (objects as structured config). */
  config: Record<string, unknown>;
}

interface Recorded {
  type: string;
  name: string;
  id: string;
  inputs: Bag;
  outputs: Bag;
}

/** The engine: one plugin, the state of one stack. */
export class MiniPulumiEngine {
  readonly #plugin: Plugin;
  readonly #state: Recorded[] = [];
  #runs = 0;

  private constructor(plugin: Plugin) {
    this.#plugin = plugin;
  }

  /** Starts the plugin and configures it for the appliance. */
  static async start(app: TestAppliance): Promise<MiniPulumiEngine> {
    const plugin = await startPlugin({ logLevel: 'warn' });
    await plugin.configureFor(app);
    return new MiniPulumiEngine(plugin);
  }

  /** The resources in the state, in creation order. */
  get resources(): readonly Recorded[] {
    return this.#state;
  }

  /** `pulumi up` on an empty stack: creates every resource the program registers. */
  async up(program: PulumiProgram): Promise<void> {
    if (this.#state.length > 0) throw new Error('this engine only deploys onto an empty stack');
    await this.#run(program, async (type, name, inputs) => {
      const checked = await this.#plugin.check(type, inputs, undefined, name);
      if (checked.failures.length > 0) throw new Error(`${name}: check failed: ${JSON.stringify(checked.failures)}`);
      const created = await this.#plugin.create(type, checked.inputs, { name });
      this.#state.push({ type, name, id: created.id, inputs: checked.inputs, outputs: created.properties });
      return { id: created.id, state: created.properties };
    });
  }

  /** `pulumi preview` against the state: the resources that would change (`name: property, ...`), created or deleted. */
  async preview(program: PulumiProgram): Promise<string[]> {
    const changes: string[] = [];
    const seen = new Set<string>();
    await this.#run(program, async (type, name, inputs) => {
      seen.add(`${type}::${name}`);
      const prior = this.#state.find((r) => r.type === type && r.name === name);
      if (!prior) {
        changes.push(`${name}: create`);
        return { id: `preview-${name}`, state: inputs };
      }
      const checked = await this.#plugin.check(type, inputs, prior.inputs, name);
      if (checked.failures.length > 0) throw new Error(`${name}: check failed: ${JSON.stringify(checked.failures)}`);
      const diff = await this.#plugin.diff(type, prior.id, prior.outputs, checked.inputs, { oldInputs: prior.inputs });
      if (diff.changes !== 'none') changes.push(`${name}: ${diff.changes} ${diff.diffs.join(', ')}`);
      return { id: prior.id, state: prior.outputs };
    });
    for (const r of this.#state) if (!seen.has(`${r.type}::${r.name}`)) changes.push(`${r.name}: delete`);
    return changes;
  }

  /** `pulumi destroy`: deletes every resource, the last created first. */
  async destroy(): Promise<void> {
    for (const r of [...this.#state].reverse()) {
      await this.#plugin.delete(r.type, r.id, r.outputs);
      this.#state.pop();
    }
  }

  /** Stops the plugin. */
  async stop(): Promise<void> {
    await this.#plugin.stop();
  }

  // Runs the program under mocks whose newResource is `register` for the package's custom
  // resources, and waits until every registration has been answered.
  async #run(program: PulumiProgram, register: (type: string, name: string, inputs: Bag) => Promise<{ id: string; state: Bag }>): Promise<void> {
    const pending = new Set<Promise<unknown>>();
    const errors: unknown[] = [];
    await pulumi.runtime.setMocks(
      {
        newResource(args) {
          if (!args.type.startsWith('lbappliance:index:')) return { id: `${args.name}-component`, state: {} };
          const p = register(args.type, args.name, args.inputs as Bag);
          const tracked = p.catch((err: unknown) => {
            errors.push(err);
            throw err;
          });
          pending.add(tracked);
          void tracked.finally(() => pending.delete(tracked)).catch(() => undefined);
          return tracked;
        },
        call: () => ({}),
      },
      program.project,
      'test',
      false,
    );
    const config = Object.fromEntries(Object.entries(program.config).map(([k, v]) => [`${program.project}:${k}`, typeof v === 'string' ? v : JSON.stringify(v)]));
    pulumi.runtime.setAllConfig(config);
    vi.resetModules();
    await import(/* @vite-ignore */ `${pathToFileURL(program.file).href}?run=${++this.#runs}`);
    // Registrations chain (a real server waits for its VIP's id): wait until none is
    // outstanding and none has started for a little while.
    for (let quiet = 0; quiet < 5; ) {
      if (pending.size > 0) {
        quiet = 0;
        await Promise.allSettled([...pending]);
      } else {
        quiet++;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    if (errors.length > 0) throw errors[0];
  }
}
