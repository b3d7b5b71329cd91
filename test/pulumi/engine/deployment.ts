// One run of the engine over a stack: the step generator and executor of
// pkg/resource/deploy reduced to what an lbappliance program uses. Each registration from
// the program becomes steps on its provider, in the engine's order: a provider resource is
// CheckConfig, then DiffConfig against its old state, then Configure (create, update or
// same); a custom resource is Check (olds and news), then Diff when it has an old state,
// then Create, Update, a replacement (Check of the news alone, then create-before-delete or
// delete-before-create) or nothing; an `import` is Read with the id alone, then Check and
// Diff against what was read. After the program, every old resource not registered again
// is deleted, dependents first. A preview (dry run) asks the same questions with `preview`
// set and unknowns allowed, writes nothing and keeps the state as it was.
import { randomUUID } from 'node:crypto';
import type { ResourceState, StackState } from './state.js';
import { ProviderInstance, UNKNOWN_ID, type Diff, type ProviderCall } from './providers.js';
import type { Bag } from './rpc.js';
import { applyIgnoreChanges, containsUnknowns, sameValue, secret, stripSecrets, UNKNOWN_STRING } from './values.js';

/** One step the engine took or, in a preview, would take. */
export interface Step {
  op: 'create' | 'update' | 'replace' | 'delete' | 'same' | 'import' | 'read' | 'refresh';
  urn: string;
  type: string;
  name: string;
  /** A custom resource (not a component or the stack); providers are custom too. */
  custom: boolean;
  /** Changed properties (update, replace, refresh). */
  diffs: string[];
}

/** Stack config: `namespace:key` -> value (strings, objects as JSON), secret or not. */
export type StackConfig = Record<string, { value: string; secret: boolean }>;

/** What a registration asks for, decoded from RegisterResourceRequest. */
export interface Goal {
  type: string;
  name: string;
  parent: string;
  custom: boolean;
  inputs: Bag;
  provider: string;
  version: string;
  dependencies: string[];
  protect: boolean;
  deleteBeforeReplace: boolean | undefined;
  ignoreChanges: string[];
  aliasUrns: string[];
  importId: string;
}

/** Options of a deployment. */
export interface DeploymentOptions {
  project: string;
  stack: string;
  dryRun: boolean;
  config: StackConfig;
  engineAddress: string;
  calls: ProviderCall[];
  log: (line: string) => void;
}

const PROVIDER_PREFIX = 'pulumi:providers:';
const ROOT_TYPE = 'pulumi:pulumi:Stack';
const isProviderType = (t: string) => t.startsWith(PROVIDER_PREFIX);
const qualifiedType = (urn: string) => urn.split('::')[2] ?? '';
const nameOfUrn = (urn: string) => urn.slice(urn.lastIndexOf('::') + 2);
const typeOfUrn = (urn: string) => {
  const q = qualifiedType(urn);
  return q.slice(q.lastIndexOf('$') + 1);
};

/** The changed top-level keys between two bags (secrets compared as values). */
function changedKeys(a: Bag, b: Bag): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => !sameValue(stripSecrets(a[k]), stripSecrets(b[k]))).sort();
}

/** A run of the engine on a stack. */
export class Deployment {
  readonly steps: Step[] = [];
  readonly #o: DeploymentOptions;
  readonly #state: StackState;
  readonly #olds: Map<string, ResourceState>;
  readonly #news: ResourceState[] = [];
  readonly #registered = new Set<string>();
  // Old states already claimed by a registration (under their URN or as an alias).
  readonly #claimed = new Set<string>();
  // Provider instances by reference (`urn::id`), and by URN while their step runs.
  readonly #providers = new Map<string, Promise<ProviderInstance>>();
  readonly #providerSteps = new Map<string, Promise<ResourceState>>();
  readonly #instances: ProviderInstance[] = [];
  rootUrn = '';

  constructor(state: StackState, options: DeploymentOptions) {
    this.#state = state;
    this.#o = options;
    this.#olds = new Map(state.snapshot().map((r) => [r.urn, r]));
  }

  /** The URN of a resource (its type qualified by its parent's unless the parent is the stack). */
  urnOf(type: string, name: string, parent: string): string {
    const parentType = parent ? qualifiedType(parent) : '';
    const qualified = parentType && parentType !== ROOT_TYPE ? `${parentType}$${type}` : type;
    return `urn:pulumi:${this.#o.stack}::${this.#o.project}::${qualified}::${name}`;
  }

  #step(op: Step['op'], urn: string, diffs: string[] = [], custom = true): void {
    this.steps.push({ op, urn, type: typeOfUrn(urn), name: nameOfUrn(urn), custom, diffs });
    this.#o.log(`${this.#o.dryRun ? 'preview' : 'apply'}: ${op} ${urn}${diffs.length ? ` [${diffs.join(', ')}]` : ''}`);
  }

  // The old state of a registration, under its URN or one of its aliases.
  #oldOf(urn: string, aliases: string[]): ResourceState | undefined {
    for (const u of [urn, ...aliases]) {
      const old = this.#olds.get(u);
      if (old && !this.#claimed.has(u)) {
        this.#claimed.add(u);
        this.#registered.add(u);
        return old;
      }
    }
    return undefined;
  }

  #record(state: ResourceState): ResourceState {
    this.#news.push(state);
    return state;
  }

  /** Registers a resource; answers its URN, id and outputs. */
  async register(goal: Goal): Promise<{ urn: string; id: string; outputs: Bag; stables: string[] }> {
    const urn = this.urnOf(goal.type, goal.name, goal.parent);
    this.#registered.add(urn);
    if (isProviderType(goal.type)) {
      const state = await this.#providerStep(urn, goal);
      return { urn, id: state.id, outputs: state.outputs, stables: [] };
    }
    if (!goal.custom) return { urn, id: '', outputs: this.#component(urn, goal).outputs, stables: [] };
    return this.#custom(urn, goal);
  }

  /** RegisterResourceOutputs of a component (the stack's outputs included). */
  registerOutputs(urn: string, outputs: Bag): void {
    const state = this.#news.find((r) => r.urn === urn);
    if (state) state.outputs = outputs;
  }

  #component(urn: string, goal: Goal): ResourceState {
    const old = this.#oldOf(urn, goal.aliasUrns);
    this.#step(old ? (sameValue(old.inputs, goal.inputs) ? 'same' : 'update') : 'create', urn, [], false);
    return this.#record({ ...this.#base(urn, goal), outputs: old?.outputs ?? {} });
  }

  #base(urn: string, goal: Goal): ResourceState {
    return { urn, type: goal.type, custom: goal.custom, id: '', inputs: goal.inputs, outputs: {}, parent: goal.parent, provider: goal.provider, dependencies: goal.dependencies, protect: goal.protect, external: false, importId: '' };
  }

  // The default provider of a package: a provider resource registered by the engine with
  // the package's stack config (values as strings, secrets marked) and the SDK's version.
  #defaultProvider(pkg: string, version: string): Promise<ResourceState> {
    const name = version ? `default_${version.replace(/[.+-]/g, '_')}` : 'default';
    const urn = this.urnOf(`${PROVIDER_PREFIX}${pkg}`, name, '');
    let step = this.#providerSteps.get(urn);
    if (!step) {
      const inputs: Bag = {};
      for (const [key, { value, secret: isSecret }] of Object.entries(this.#o.config)) {
        const [ns, k] = key.split(':');
        if (ns === pkg && k) inputs[k] = isSecret ? secret(value) : value;
      }
      if (version) inputs.version = version;
      this.#registered.add(urn);
      const goal: Goal = { type: `${PROVIDER_PREFIX}${pkg}`, name, parent: '', custom: true, inputs, provider: '', version, dependencies: [], protect: false, deleteBeforeReplace: undefined, ignoreChanges: [], aliasUrns: [], importId: '' };
      step = this.#providerStep(urn, goal);
    }
    return step;
  }

  #providerStep(urn: string, goal: Goal): Promise<ResourceState> {
    const existing = this.#providerSteps.get(urn);
    if (existing) return existing;
    const step = (async () => {
      const old = this.#oldOf(urn, goal.aliasUrns);
      const instance = await ProviderInstance.load(urn, this.#o.engineAddress, this.#o.calls);
      this.#instances.push(instance);
      const checked = await instance.checkConfig(urn, old?.inputs, goal.inputs);
      if (checked.failures.length > 0) throw new Error(`${urn}: provider configuration check failed: ${checked.failures.join('; ')}`);
      let id: string;
      let outputs: Bag;
      if (old) {
        const diff = await instance.diffConfig(urn, old.inputs, old.outputs, checked.inputs);
        const changes = diff.changes === 'unknown' ? (sameValue(old.outputs, checked.inputs) ? 'none' : 'some') : diff.changes;
        id = old.id;
        if (changes === 'none') {
          // Same: configured with the old inputs (registry.Same).
          await instance.configure(urn, id, old.inputs);
          outputs = old.outputs;
          this.#step('same', urn);
        } else {
          await instance.configure(urn, id, checked.inputs);
          outputs = checked.inputs;
          this.#step('update', urn, diff.diffs.length ? diff.diffs : changedKeys(old.inputs, checked.inputs));
        }
      } else {
        id = this.#o.dryRun ? UNKNOWN_ID : randomUUID();
        await instance.configure(urn, id, checked.inputs);
        outputs = checked.inputs;
        this.#step('create', urn);
      }
      this.#providers.set(`${urn}::${id}`, Promise.resolve(instance));
      return this.#record({ ...this.#base(urn, goal), id, inputs: checked.inputs, outputs });
    })();
    this.#providerSteps.set(urn, step);
    return step;
  }

  // The provider of a custom resource: its explicit reference, or the package's default.
  async #providerFor(goal: Goal): Promise<{ ref: string; instance: ProviderInstance }> {
    if (goal.provider) {
      const instance = this.#providers.get(goal.provider) ?? this.#providerFromState(goal.provider);
      return { ref: goal.provider, instance: await instance };
    }
    const pkg = goal.type.split(':')[0]!;
    const state = await this.#defaultProvider(pkg, goal.version);
    const ref = `${state.urn}::${state.id}`;
    return { ref, instance: await this.#providers.get(ref)! };
  }

  // A provider known only from the state (refresh, destroy, deleting an old resource):
  // loaded and configured with its old inputs, without CheckConfig (EnsureProvider/Same).
  #providerFromState(ref: string): Promise<ProviderInstance> {
    let p = this.#providers.get(ref);
    if (!p) {
      const urn = ref.slice(0, ref.lastIndexOf('::'));
      const id = ref.slice(ref.lastIndexOf('::') + 2);
      const old = this.#olds.get(urn);
      if (!old || old.id !== id) throw new Error(`provider ${ref} is neither registered nor in the state`);
      p = (async () => {
        const instance = await ProviderInstance.load(urn, this.#o.engineAddress, this.#o.calls);
        this.#instances.push(instance);
        await instance.configure(urn, id, old.inputs);
        return instance;
      })();
      this.#providers.set(ref, p);
    }
    return p;
  }

  async #custom(urn: string, goal: Goal): Promise<{ urn: string; id: string; outputs: Bag; stables: string[] }> {
    const { ref, instance: prov } = await this.#providerFor(goal);
    const dryRun = this.#o.dryRun;
    let old = this.#oldOf(urn, goal.aliasUrns);
    let imported = false;
    if (goal.importId && (!old || (old.importId || old.id) !== goal.importId)) {
      if (old) throw new Error(`${urn}: importing over an existing resource (import-replacement) is not reproduced by this engine`);
      // ImportStep: Read with the id alone, in a preview too.
      const read = await prov.read(urn, goal.importId);
      if (!read.outputs) throw new Error(`resource '${goal.importId}' does not exist`);
      if (!read.inputs) throw new Error(`provider does not support importing resources`);
      old = { ...this.#base(urn, goal), provider: ref, id: read.id || goal.importId, inputs: read.inputs, outputs: read.outputs, importId: goal.importId };
      imported = true;
      this.#step('import', urn);
    }
    const news = old ? applyIgnoreChanges(goal.inputs, old.inputs, goal.ignoreChanges) : goal.inputs;
    const checked = await prov.check(urn, old?.inputs, news);
    if (checked.failures.length > 0) throw new Error(`${urn}: check failed: ${checked.failures.join('; ')}`);
    const next: ResourceState = { ...this.#base(urn, goal), provider: ref, inputs: checked.inputs, importId: old?.importId ?? '' };
    if (!old) {
      const created = await prov.create(urn, checked.inputs, dryRun);
      this.#step('create', urn);
      this.#record({ ...next, id: created.id, outputs: created.outputs });
      return { urn, id: created.id, outputs: created.outputs, stables: [] };
    }
    let diff: Diff = old.provider !== ref && !imported ? { changes: 'some', replaces: ['provider'], diffs: ['provider'], stables: [], deleteBeforeReplace: false } : await prov.diff(urn, old.id, old.inputs, old.outputs, checked.inputs, goal.ignoreChanges);
    if (diff.unavailable) this.#o.log(`warning: ${urn}: ${diff.unavailable}`);
    if (diff.changes === 'unknown') {
      const keys = changedKeys(old.inputs, checked.inputs);
      diff = { ...diff, changes: keys.length ? 'some' : 'none', diffs: keys };
    }
    if (diff.changes === 'none') {
      if (!imported) this.#step('same', urn);
      this.#record({ ...next, id: old.id, outputs: old.outputs });
      return { urn, id: old.id, outputs: old.outputs, stables: diff.stables };
    }
    const diffs = diff.diffs.length ? diff.diffs : changedKeys(old.inputs, checked.inputs);
    if (diff.replaces.length === 0) {
      const outputs = await prov.update(urn, old.id, old.inputs, old.outputs, checked.inputs, goal.ignoreChanges, dryRun);
      this.#step('update', urn, diffs);
      this.#record({ ...next, id: old.id, outputs });
      return { urn, id: old.id, outputs, stables: diff.stables };
    }
    if (goal.protect && old.protect) throw new Error(`unable to replace resource "${urn}" as it is currently marked for protection`);
    // A replacement recomputes the defaults from the news alone.
    const rechecked = await prov.check(urn, undefined, goal.inputs);
    if (rechecked.failures.length > 0) throw new Error(`${urn}: check failed: ${rechecked.failures.join('; ')}`);
    const deleteFirst = goal.deleteBeforeReplace ?? diff.deleteBeforeReplace;
    const oldProv = old.provider === ref ? prov : await this.#providerFromState(old.provider);
    if (deleteFirst && !dryRun) await oldProv.delete(urn, old.id, old.inputs, old.outputs);
    const created = await prov.create(urn, rechecked.inputs, dryRun);
    if (!deleteFirst && !dryRun) await oldProv.delete(urn, old.id, old.inputs, old.outputs);
    this.#step('replace', urn, diff.replaces);
    this.#record({ ...next, inputs: rechecked.inputs, id: created.id, outputs: created.outputs });
    return { urn, id: created.id, outputs: created.outputs, stables: [] };
  }

  /** ReadResource (`X.get`): the provider's Read with the id and the given properties. */
  async read(goal: Goal, id: string): Promise<{ urn: string; outputs: Bag }> {
    const urn = this.urnOf(goal.type, goal.name, goal.parent);
    this.#registered.add(urn);
    const { ref, instance } = await this.#providerFor(goal);
    const read = await instance.read(urn, id, undefined, goal.inputs);
    if (!read.outputs) throw new Error(`resource '${id}' does not exist`);
    this.#step('read', urn);
    this.#record({ ...this.#base(urn, goal), provider: ref, id: read.id || id, outputs: read.outputs, external: true });
    return { urn, outputs: read.outputs };
  }

  /** Invoke of a provider function (the package's default provider unless one is named). */
  async invoke(tok: string, args: Bag, provider: string, version: string): Promise<{ ret: Bag; failures: string[] }> {
    const goal = { type: tok, provider, version } as Goal;
    const { instance } = await this.#providerFor(goal);
    return instance.invoke(tok, args);
  }

  /** After the program: deletes what it no longer registers (dependents first) and saves the state (not in a preview). */
  async finish(): Promise<void> {
    const gone = [...this.#olds.values()].filter((r) => !this.#registered.has(r.urn));
    for (const r of gone.reverse()) {
      if (r.protect) throw new Error(`resource "${r.urn}" cannot be deleted because it is protected`);
      await this.#delete(r);
    }
    if (this.#o.dryRun) return;
    this.#state.resources = [...this.#news];
    await this.#state.save();
  }

  /** Saves what was done so far after a failed update (the engine's partial checkpoint). */
  async saveAfterFailure(): Promise<void> {
    if (this.#o.dryRun) return;
    const done = new Set(this.#news.map((r) => r.urn));
    this.#state.resources = [...this.#news, ...[...this.#olds.values()].filter((r) => !done.has(r.urn) && !this.#registered.has(r.urn))];
    await this.#state.save();
  }

  async #delete(r: ResourceState): Promise<void> {
    if (r.custom && !r.external && !isProviderType(r.type) && !this.#o.dryRun) {
      const prov = await this.#providerFromState(r.provider);
      await prov.delete(r.urn, r.id, r.inputs, r.outputs);
    }
    this.#step('delete', r.urn, [], r.custom);
  }

  /** `pulumi refresh`: Read of every custom resource against the appliance; the state takes what it reports. */
  async refresh(): Promise<void> {
    const next: ResourceState[] = [];
    for (const r of this.#olds.values()) {
      if (!r.custom || isProviderType(r.type)) {
        next.push(r);
        if (r.custom) this.#step('same', r.urn);
        continue;
      }
      const prov = await this.#providerFromState(r.provider);
      const read = await prov.read(r.urn, r.id, r.inputs, r.outputs);
      if (!read.outputs) {
        this.#step('delete', r.urn);
        continue;
      }
      const refreshed = { ...r, id: read.id || r.id, outputs: read.outputs, inputs: read.inputs ?? r.inputs };
      const diffs = changedKeys(r.outputs, refreshed.outputs);
      this.#step(diffs.length ? 'update' : 'same', r.urn, diffs);
      next.push(refreshed);
    }
    if (this.#o.dryRun) return;
    this.#state.resources = next;
    await this.#state.save();
  }

  /** `pulumi destroy`: every resource deleted, dependents first; an empty state. */
  async destroy(): Promise<void> {
    const all = [...this.#olds.values()];
    const protectedOnes = all.filter((r) => r.protect);
    if (protectedOnes.length > 0) throw new Error(`resources are protected: ${protectedOnes.map((r) => r.urn).join(', ')}`);
    const left = [...all];
    for (const r of [...all].reverse()) {
      await this.#delete(r);
      if (!this.#o.dryRun) {
        left.splice(left.indexOf(r), 1);
        this.#state.resources = left;
        await this.#state.save();
      }
    }
  }

  /** Stops every plugin this run started. */
  async close(): Promise<string[]> {
    const stderr = this.#instances.flatMap((i) => i.stderr);
    await Promise.all(this.#instances.map((i) => i.close()));
    return stderr;
  }

  /** Whether a value the program sent is still unknown (for the record of unknowns). */
  static hasUnknowns(bag: Bag): string[] {
    return Object.entries(bag).filter(([, v]) => containsUnknowns(v) || v === UNKNOWN_STRING).map(([k]) => k);
  }
}
