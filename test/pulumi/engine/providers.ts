// One provider resource's plugin, driven as the engine's provider wrapper
// (sdk/go/common/resource/plugin/provider_plugin.go) drives it: the plugin is started with
// the engine's address (it logs through Engine.Log), asked for Handshake (UNIMPLEMENTED is
// fine), CheckConfig with secrets stripped and marked again after, DiffConfig, and
// Configure with `args` (secrets kept) and `variables` (`lbappliance:config:x`, secrets
// stripped, non-strings as JSON). A provider whose inputs hold unknowns (a preview) is not
// configured: Check answers the news, Diff is "unavailable" (taken as a change), and a
// preview Create answers no outputs. Every call is recorded (method, URN, values with
// secrets redacted) for the tests.
import { status, type ServiceError } from '@grpc/grpc-js';
import { startPlugin, type Plugin } from '../helpers/plugin.js';
import { fromStruct, providerPb, toStruct, type Bag } from './rpc.js';
import { annotateSecrets, containsUnknowns, isSecret, stripSecrets, UNKNOWN_STRING, withoutReferences } from './values.js';

/** One recorded provider call. */
export interface ProviderCall {
  method: string;
  urn: string;
  /** The request's main property bag (news, properties, args), secrets shown as `[secret]`. */
  values: Bag;
  preview?: boolean;
}

/** What Diff and DiffConfig answer, as the engine uses it. */
export interface Diff {
  changes: 'unknown' | 'none' | 'some';
  replaces: string[];
  diffs: string[];
  stables: string[];
  deleteBeforeReplace: boolean;
  /** Set when the provider could not diff (unknown configuration in a preview). */
  unavailable?: string;
}

/** The inputs and outputs of a Read. */
export interface ReadResult {
  id: string;
  outputs: Bag | null;
  inputs: Bag | null;
}

function redact(v: unknown): unknown {
  if (isSecret(v)) return '[secret]';
  if (Array.isArray(v)) return v.map(redact);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redact(x)]));
  return v;
}

function isUnimplemented(err: unknown): boolean {
  return (err as ServiceError | undefined)?.code === status.UNIMPLEMENTED;
}

const nameOf = (urn: string) => urn.slice(urn.lastIndexOf('::') + 2);
const typeOf = (urn: string) => {
  const q = urn.split('::')[2] ?? '';
  return q.slice(q.lastIndexOf('$') + 1);
};

/** A provider plugin process and the protocol state the engine keeps for it. */
export class ProviderInstance {
  readonly #plugin: Plugin;
  readonly #calls: ProviderCall[];
  /** The provider resource's URN. */
  readonly urn: string;
  /** Whether Configure was sent with known inputs. */
  configured = false;
  #acceptSecrets = false;
  #acceptResources = false;

  private constructor(plugin: Plugin, urn: string, calls: ProviderCall[]) {
    this.#plugin = plugin;
    this.urn = urn;
    this.#calls = calls;
  }

  /** Starts the plugin for the provider resource `urn`, handing it the engine's address. */
  static async load(urn: string, engineAddress: string, calls: ProviderCall[]): Promise<ProviderInstance> {
    const plugin = await startPlugin({ args: [engineAddress], logLevel: 'debug' });
    const self = new ProviderInstance(plugin, urn, calls);
    const req = new providerPb.ProviderHandshakeRequest();
    req.setEngineAddress(engineAddress);
    req.setConfigureWithUrn(true);
    try {
      const res = await plugin.rpc<InstanceType<typeof providerPb.ProviderHandshakeResponse>>('handshake', req);
      self.#acceptSecrets = res.getAcceptSecrets();
      self.#acceptResources = res.getAcceptResources();
    } catch (err) {
      if (!isUnimplemented(err)) throw err;
    }
    calls.push({ method: 'Handshake', urn, values: {} });
    return self;
  }

  /** What the plugin wrote on stderr (the engine shows it to the user). */
  get stderr(): string[] {
    return this.#plugin.stderr;
  }

  #record(method: string, urn: string, values: Bag, preview?: boolean): void {
    this.#calls.push({ method, urn, values: redact(values) as Bag, ...(preview === undefined ? {} : { preview }) });
  }

  // A bag as this plugin may receive it: secrets only if it accepts them, references as ids.
  #wire(bag: Bag): Bag {
    const v = this.#acceptResources ? bag : (withoutReferences(bag) as Bag);
    return this.#acceptSecrets ? v : (stripSecrets(v) as Bag);
  }

  /** CheckConfig: news (and olds) with secrets stripped; the answer's inputs marked secret where the news were. */
  async checkConfig(urn: string, olds: Bag | undefined, news: Bag): Promise<{ inputs: Bag; failures: string[] }> {
    this.#record('CheckConfig', urn, news);
    const req = new providerPb.CheckRequest();
    req.setUrn(urn);
    req.setName(nameOf(urn));
    req.setType(typeOf(urn));
    req.setOlds(toStruct(stripSecrets(olds ?? {}) as Bag));
    req.setNews(toStruct(stripSecrets(news) as Bag));
    try {
      const res = await this.#plugin.rpc<InstanceType<typeof providerPb.CheckResponse>>('checkConfig', req);
      const failures = res.getFailuresList().map((f) => `${f.getProperty()}: ${f.getReason()}`);
      return { inputs: annotateSecrets(fromStruct(res.getInputs()), news), failures };
    } catch (err) {
      if (isUnimplemented(err)) return { inputs: news, failures: [] };
      throw err;
    }
  }

  /** DiffConfig of the provider's own inputs. */
  async diffConfig(urn: string, oldInputs: Bag, oldOutputs: Bag, newInputs: Bag): Promise<Diff> {
    this.#record('DiffConfig', urn, newInputs);
    const req = new providerPb.DiffRequest();
    req.setUrn(urn);
    req.setName(nameOf(urn));
    req.setType(typeOf(urn));
    req.setOldInputs(toStruct(oldInputs));
    req.setOlds(toStruct(oldOutputs));
    req.setNews(toStruct(newInputs));
    try {
      return diffOf(await this.#plugin.rpc('diffConfig', req));
    } catch (err) {
      if (isUnimplemented(err)) return { changes: 'unknown', replaces: [], diffs: [], stables: [], deleteBeforeReplace: false };
      throw err;
    }
  }

  /** Configure: skipped (left unconfigured) when an input is unknown. */
  async configure(urn: string, id: string, inputs: Bag): Promise<void> {
    const args: Bag = Object.fromEntries(Object.entries(inputs).filter(([k]) => k !== '__internal'));
    if (Object.entries(args).some(([k, v]) => k !== 'version' && containsUnknowns(v))) {
      this.#record('Configure(skipped: unknown inputs)', urn, args);
      this.configured = false;
      return;
    }
    this.#record('Configure', urn, args);
    const pkg = typeOf(urn).split(':')[2] ?? '';
    const req = new providerPb.ConfigureRequest();
    req.setUrn(urn);
    req.setName(nameOf(urn));
    req.setType(typeOf(urn));
    req.setId(id);
    req.setAcceptsecrets(true);
    req.setAcceptresources(true);
    req.setSendsOldInputs(true);
    req.setSendsOldInputsToDelete(true);
    req.setArgs(toStruct(args));
    for (const [k, v] of Object.entries(args)) {
      if (k === 'version') continue;
      const plain = stripSecrets(v);
      req.getVariablesMap().set(`${pkg}:config:${k}`, typeof plain === 'string' ? plain : JSON.stringify(plain));
    }
    const res = await this.#plugin.rpc<InstanceType<typeof providerPb.ConfigureResponse>>('configure', req);
    this.#acceptSecrets = res.getAcceptsecrets();
    this.#acceptResources = res.getAcceptresources();
    this.configured = true;
  }

  /** Check of a resource's inputs (the news as they are when unconfigured). */
  async check(urn: string, olds: Bag | undefined, news: Bag): Promise<{ inputs: Bag; failures: string[] }> {
    this.#record('Check', urn, news);
    if (!this.configured) return { inputs: news, failures: [] };
    const req = new providerPb.CheckRequest();
    req.setUrn(urn);
    req.setName(nameOf(urn));
    req.setType(typeOf(urn));
    if (olds) req.setOlds(toStruct(this.#wire(olds)));
    req.setNews(toStruct(this.#wire(news)));
    const res = await this.#plugin.rpc<InstanceType<typeof providerPb.CheckResponse>>('check', req);
    const failures = res.getFailuresList().map((f) => `${f.getProperty()}: ${f.getReason()}`);
    return { inputs: annotateSecrets(fromStruct(res.getInputs()), news), failures };
  }

  /** Diff against the old inputs and outputs; "unavailable" when unconfigured. */
  async diff(urn: string, id: string, oldInputs: Bag, oldOutputs: Bag, newInputs: Bag, ignoreChanges: string[]): Promise<Diff> {
    this.#record('Diff', urn, newInputs);
    if (!this.configured) return { changes: 'some', replaces: [], diffs: [], stables: [], deleteBeforeReplace: false, unavailable: 'The provider for this resource has inputs that are not known during preview.' };
    const req = new providerPb.DiffRequest();
    req.setId(id);
    req.setUrn(urn);
    req.setName(nameOf(urn));
    req.setType(typeOf(urn));
    req.setOldInputs(toStruct(this.#wire(oldInputs)));
    req.setOlds(toStruct(this.#wire(oldOutputs)));
    req.setNews(toStruct(this.#wire(newInputs)));
    req.setIgnorechangesList(ignoreChanges);
    return diffOf(await this.#plugin.rpc('diff', req));
  }

  /** Create (a preview when `preview`); outputs marked secret where the inputs were. */
  async create(urn: string, inputs: Bag, preview: boolean): Promise<{ id: string; outputs: Bag }> {
    this.#record('Create', urn, inputs, preview);
    if (preview && !this.configured) return { id: '', outputs: {} };
    const req = new providerPb.CreateRequest();
    req.setUrn(urn);
    req.setName(nameOf(urn));
    req.setType(typeOf(urn));
    req.setProperties(toStruct(this.#wire(inputs)));
    req.setPreview(preview);
    req.setTimeout(300);
    const res = await this.#plugin.rpc<InstanceType<typeof providerPb.CreateResponse>>('create', req);
    if (!preview && !res.getId()) throw new Error(`plugin returned an empty id from create '${urn}'`);
    return { id: res.getId(), outputs: annotateSecrets(fromStruct(res.getProperties()), inputs) };
  }

  /** Update in place (a preview when `preview`). */
  async update(urn: string, id: string, oldInputs: Bag, oldOutputs: Bag, newInputs: Bag, ignoreChanges: string[], preview: boolean): Promise<Bag> {
    this.#record('Update', urn, newInputs, preview);
    if (preview && !this.configured) return newInputs;
    const req = new providerPb.UpdateRequest();
    req.setId(id);
    req.setUrn(urn);
    req.setName(nameOf(urn));
    req.setType(typeOf(urn));
    req.setOlds(toStruct(this.#wire(oldOutputs)));
    req.setOldInputs(toStruct(this.#wire(oldInputs)));
    req.setNews(toStruct(this.#wire(newInputs)));
    req.setIgnorechangesList(ignoreChanges);
    req.setPreview(preview);
    req.setTimeout(300);
    const res = await this.#plugin.rpc<InstanceType<typeof providerPb.UpdateResponse>>('update', req);
    return annotateSecrets(fromStruct(res.getProperties()), newInputs);
  }

  /** Delete with the last outputs and inputs. */
  async delete(urn: string, id: string, oldInputs: Bag, outputs: Bag): Promise<void> {
    this.#record('Delete', urn, outputs);
    const req = new providerPb.DeleteRequest();
    req.setId(id);
    req.setUrn(urn);
    req.setName(nameOf(urn));
    req.setType(typeOf(urn));
    req.setProperties(toStruct(this.#wire(outputs)));
    req.setOldInputs(toStruct(this.#wire(oldInputs)));
    req.setTimeout(300);
    await this.#plugin.rpc('delete', req);
  }

  /** Read: with inputs and state (refresh), or the id alone (import, `X.get`). */
  async read(urn: string, id: string, inputs?: Bag, state?: Bag): Promise<ReadResult> {
    this.#record('Read', urn, state ?? {});
    const req = new providerPb.ReadRequest();
    req.setId(id);
    req.setUrn(urn);
    req.setName(nameOf(urn));
    req.setType(typeOf(urn));
    if (state) req.setProperties(toStruct(this.#wire(state)));
    if (inputs) req.setInputs(toStruct(this.#wire(inputs)));
    const res = await this.#plugin.rpc<InstanceType<typeof providerPb.ReadResponse>>('read', req);
    const outputs = res.hasProperties() && res.getId() ? fromStruct(res.getProperties()) : null;
    return {
      id: res.getId(),
      outputs: outputs && state ? annotateSecrets(outputs, state) : outputs,
      inputs: res.hasInputs() ? (inputs ? annotateSecrets(fromStruct(res.getInputs()), inputs) : fromStruct(res.getInputs())) : null,
    };
  }

  /** Invoke of a provider function. */
  async invoke(tok: string, args: Bag): Promise<{ ret: Bag; failures: string[] }> {
    this.#record('Invoke', tok, args);
    const req = new providerPb.InvokeRequest();
    req.setTok(tok);
    req.setArgs(toStruct(this.#wire(args)));
    const res = await this.#plugin.rpc<InstanceType<typeof providerPb.InvokeResponse>>('invoke', req);
    return { ret: fromStruct(res.getReturn()), failures: res.getFailuresList().map((f) => `${f.getProperty()}: ${f.getReason()}`) };
  }

  /** Stops the plugin. */
  async close(): Promise<void> {
    await this.#plugin.stop();
  }
}

const CHANGES = ['unknown', 'none', 'some'] as const;

function diffOf(res: InstanceType<typeof providerPb.DiffResponse>): Diff {
  return {
    // DIFF_UNKNOWN is decided by the caller, from the inputs (diffResource).
    changes: CHANGES[res.getChanges()] ?? 'unknown',
    replaces: res.getReplacesList(),
    diffs: res.getDiffsList(),
    stables: res.getStablesList(),
    deleteBeforeReplace: res.getDeletebeforereplace(),
  };
}

/** The unknown id the engine gives a provider created in a preview. */
export const UNKNOWN_ID = UNKNOWN_STRING;
