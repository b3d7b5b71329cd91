// pulumirpc.ResourceProvider over the shared resource definitions. Each RPC decodes its
// property bags (secrets unwrapped and remembered, unknowns marked), turns them into the
// definitions' values, and encodes the answer with every secret wrapped again. Check, Diff
// and previews (Create/Update with `preview`) never call the appliance; Create, Read, Update
// and Delete do, through the SDK client that Configure made.
import { status } from '@grpc/grpc-js';
import type { ApplianceClient } from '../../openapi/sdk/index.js';
import { clientFor, providerAttributes, resolveSettings } from '../resources/provider-config.js';
import { inputsFor, planObject } from '../resources/plan.js';
import { resources } from '../resources/registry.js';
import type { ObjectValue, ResourceContext, ResourceDefinition } from '../resources/types.js';
import { valuesEqual } from '../resources/values.js';
import { checkProviderConfig, checkResource, secretProperties, type CheckResult } from './check.js';
import { diffObject, type DiffResult } from './diff.js';
import { PluginError, pluginErrorFrom, PulumiErrorCode } from './errors.js';
import { definitionId, pulumiId } from './ids.js';
import type { PluginLogger } from './log.js';
import { withDefaults } from './defaults.js';
import { isInput, toDefinitionValues, toPropertyBag } from './properties.js';
import { decodeStruct, encodeStruct, type DecodedProperties } from './property-values.js';
import { coerceSettings, mergeSettings } from './provider-config.js';
import { emptyPb, pluginPb, providerPb } from './proto.js';
import { mustDeleteBeforeReplace } from './replacement.js';
import { buildSchema, token } from './schema.js';
import { PLUGIN_VERSION } from './version.js';

type Pb = typeof providerPb;
type CheckRequest = InstanceType<Pb['CheckRequest']>;
type DiffRequest = InstanceType<Pb['DiffRequest']>;

const byToken = new Map<string, ResourceDefinition>(resources.map((r) => [token(r.typeName), r]));

/** The type token in a URN (`urn:pulumi:stack::project::parent$lbappliance:index:X::name`). */
export function typeFromUrn(urn: string): string {
  const qualified = urn.split('::')[2] ?? '';
  return qualified.slice(qualified.lastIndexOf('$') + 1);
}

function definitionOf(type: string, urn: string): ResourceDefinition {
  const tok = type || typeFromUrn(urn);
  const def = byToken.get(tok);
  if (!def) throw new PluginError(PulumiErrorCode.UnknownType, `unknown resource type ${JSON.stringify(tok)}: this provider has ${[...byToken.keys()].join(', ')}`, status.INVALID_ARGUMENT);
  return def;
}

function checkResponse(result: CheckResult): InstanceType<Pb['CheckResponse']> {
  const res = new providerPb.CheckResponse();
  res.setInputs(encodeStruct(result.inputs, result.secrets));
  for (const f of result.failures) {
    const failure = new providerPb.CheckFailure();
    failure.setProperty(f.property);
    failure.setReason(f.reason);
    res.addFailures(failure);
  }
  return res;
}

function diffResponse(result: DiffResult, deleteBeforeReplace: boolean): InstanceType<Pb['DiffResponse']> {
  const res = new providerPb.DiffResponse();
  res.setChanges(result.changes.length > 0 ? providerPb.DiffResponse.DiffChanges.DIFF_SOME : providerPb.DiffResponse.DiffChanges.DIFF_NONE);
  res.setDiffsList(result.diffs);
  res.setReplacesList(result.replaces);
  res.setStablesList(result.stables);
  res.setDeletebeforereplace(deleteBeforeReplace);
  res.setHasdetaileddiff(true);
  const detailed = res.getDetaileddiffMap();
  for (const c of result.changes) {
    const d = new providerPb.PropertyDiff();
    d.setKind(c.kind as never);
    d.setInputdiff(false);
    detailed.set(c.path, d);
  }
  return res;
}

/** Whether a bag is empty (an import or `get`: Read with an id and no state). */
function isEmpty(bag: ObjectValue): boolean {
  return Object.keys(bag).length === 0;
}

/** The handlers of pulumirpc.ResourceProvider, by the stub's method names. */
export class ResourceProviderService {
  #client: ApplianceClient | undefined;
  /** Why there is no client (set by Configure when the settings are unknown in a preview). */
  #unconfigured = 'Configure was not called';
  #cancel = new AbortController();
  readonly #log: PluginLogger;
  readonly #env: NodeJS.ProcessEnv;
  #schemaText: string | undefined;

  constructor(log: PluginLogger, env: NodeJS.ProcessEnv = process.env) {
    this.#log = log;
    this.#env = env;
  }

  /** Closes the SDK client's connections. */
  async close(): Promise<void> {
    await this.#client?.close().catch(() => undefined);
  }

  #context(urn: string, timeoutSeconds: number): ResourceContext {
    if (!this.#client) throw new PluginError(PulumiErrorCode.NotConfigured, `the lbappliance provider cannot reach the appliance: ${this.#unconfigured}`);
    const signals = [this.#cancel.signal];
    if (timeoutSeconds > 0) signals.push(AbortSignal.timeout(timeoutSeconds * 1000));
    const log = this.#log.forResource(urn);
    // A warning on the resource: `pulumi up` shows it and counts it in its summary.
    const warning: ResourceContext['warning'] = (issue) => log.warn(`${issue.summary}: ${issue.detail}`, { code: issue.code });
    return { client: this.#client, log, signal: AbortSignal.any(signals), warning };
  }

  /** Outputs of an object: the definition's values, write-only inputs carried from `carry`, secrets wrapped. */
  #outputs(def: ResourceDefinition, values: ObjectValue, carry: DecodedProperties | null, carryValues: ObjectValue | null) {
    const withWriteOnly: ObjectValue = { ...values };
    for (const [name, attr] of Object.entries(def.attributes)) if (attr.writeOnly) withWriteOnly[name] = carryValues?.[name] ?? null;
    const bag = toPropertyBag(def.attributes, withWriteOnly);
    return encodeStruct(bag, secretProperties(def.attributes, bag, carry?.secrets ?? new Set()));
  }

  #values(def: ResourceDefinition, decoded: DecodedProperties): ObjectValue {
    return toDefinitionValues(def.attributes, decoded.values);
  }

  /** Runs a lifecycle call, turning failures into gRPC errors that name the property. */
  async #guard<T>(def: ResourceDefinition, action: string, urn: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const e = pluginErrorFrom(def.attributes, err, action);
      // The engine shows the error itself; the log only keeps its code for --debug runs.
      this.#log.forResource(urn).debug(`${action} failed`, { code: e.code });
      throw e;
    }
  }

  /** The RPC handlers: each takes the request message and resolves to the response message. */
  handlers() {
    return {
      handshake: async (_req: InstanceType<Pb['ProviderHandshakeRequest']>) => {
        const res = new providerPb.ProviderHandshakeResponse();
        res.setAcceptSecrets(true);
        res.setAcceptResources(false);
        res.setAcceptOutputs(false);
        return res;
      },

      getPluginInfo: async () => {
        const info = new pluginPb.PluginInfo();
        info.setVersion(PLUGIN_VERSION);
        return info;
      },

      getSchema: async (req: InstanceType<Pb['GetSchemaRequest']>) => {
        if (req.getSubpackageName()) throw new PluginError(PulumiErrorCode.Unsupported, `lbappliance has no subpackage ${JSON.stringify(req.getSubpackageName())}`, status.NOT_FOUND);
        this.#schemaText ??= JSON.stringify(buildSchema());
        const res = new providerPb.GetSchemaResponse();
        res.setSchema(this.#schemaText);
        return res;
      },

      checkConfig: async (req: CheckRequest) => checkResponse(checkProviderConfig(decodeStruct(req.getNews()), this.#env)),

      diffConfig: async (req: DiffRequest) => {
        const olds = coerce(decodeStruct(req.getOlds()));
        const news = coerce(decodeStruct(req.getNews()));
        return diffResponse(diffObject(providerAttributes, olds, news, req.getIgnorechangesList()), false);
      },

      configure: async (req: InstanceType<Pb['ConfigureRequest']>) => {
        const args = toDefinitionValues(providerAttributes, decodeStruct(req.getArgs()).values);
        const variables = new Map<string, string>(req.getVariablesMap().toArray());
        const { settings, unknown } = mergeSettings(args, variables, this.#env);
        await this.close();
        this.#client = undefined;
        if (unknown.length > 0) {
          // Provider arguments computed by other resources: known at `up`, not in a preview,
          // which needs no appliance anyway (Check, Diff and previews never call it).
          this.#unconfigured = `the provider's ${unknown.join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not known yet`;
          this.#log.debug('configured with unknown settings', { unknown });
        } else {
          const { settings: resolved, issues } = resolveSettings(settings, this.#env);
          if (!resolved) {
            const detail = issues.map((i) => i.detail).join(' ');
            throw new PluginError(issues[0]?.code ?? 'LBP_CONFIGURATION', `lbappliance provider configuration: ${detail} (stack config \`lbappliance:<name>\`, provider arguments, or LBAPPLIANCE_* environment variables)`);
          }
          this.#client = await clientFor(resolved);
          this.#log.debug('configured', { endpoint: resolved.endpoint, username: resolved.username, insecure: resolved.insecure, caPem: resolved.caPem !== null });
        }
        const res = new providerPb.ConfigureResponse();
        res.setAcceptsecrets(true);
        res.setSupportspreview(true);
        res.setAcceptresources(false);
        res.setAcceptoutputs(false);
        return res;
      },

      check: async (req: CheckRequest) => {
        const def = definitionOf(req.getType(), req.getUrn());
        const result = checkResource(def, decodeStruct(req.getNews()), decodeStruct(req.getOlds()));
        for (const w of result.warnings) this.#log.forResource(req.getUrn()).warn(w.summary, { code: w.code });
        return checkResponse(result);
      },

      diff: async (req: DiffRequest) => {
        const def = definitionOf(req.getType(), req.getUrn());
        const olds = this.#values(def, decodeStruct(req.getOlds()));
        const news = withDefaults(def.attributes, this.#values(def, decodeStruct(req.getNews())));
        const result = diffObject(def.attributes, olds, news, req.getIgnorechangesList());
        return diffResponse(result, mustDeleteBeforeReplace(def, olds, news));
      },

      create: async (req: InstanceType<Pb['CreateRequest']>) => {
        const def = definitionOf(req.getType(), req.getUrn());
        const decoded = decodeStruct(req.getProperties());
        const inputs = withDefaults(def.attributes, this.#values(def, decoded));
        const res = new providerPb.CreateResponse();
        if (req.getPreview()) {
          res.setId('');
          res.setProperties(this.#outputs(def, planObject(def.attributes, inputs, null, true), decoded, inputs));
          return res;
        }
        return this.#guard(def, `creating ${def.typeName}`, req.getUrn(), async () => {
          const planned = inputsFor(def.attributes, planObject(def.attributes, inputs, null, true), inputs);
          const created = await def.create(this.#context(req.getUrn(), req.getTimeout()), planned);
          res.setId(pulumiId(def, created));
          res.setProperties(this.#outputs(def, created, decoded, inputs));
          return res;
        });
      },

      read: async (req: InstanceType<Pb['ReadRequest']>) => {
        const def = definitionOf(req.getType(), req.getUrn());
        const props = decodeStruct(req.getProperties());
        const res = new providerPb.ReadResponse();
        const id = req.getId();
        if (isEmpty(props.values)) {
          // `pulumi import` and `X.get(name, id)`: the id alone; the inputs a program would
          // need to manage the object as it is are computed from what the appliance reports.
          return this.#guard(def, `importing ${def.typeName} ${JSON.stringify(id)}`, req.getUrn(), async () => {
            const found = await def.import(this.#context(req.getUrn(), req.getTimeout()), id);
            if (!found) return res;
            res.setId(pulumiId(def, found));
            res.setProperties(this.#outputs(def, found, null, null));
            res.setInputs(encodeStruct(importInputs(def, found), new Set()));
            return res;
          });
        }
        return this.#guard(def, `reading ${def.typeName} ${JSON.stringify(id)}`, req.getUrn(), async () => {
          const state = { ...this.#values(def, props), id: definitionId(id) };
          const found = await def.read(this.#context(req.getUrn(), req.getTimeout()), state);
          if (!found) return res;
          res.setId(pulumiId(def, found));
          res.setProperties(this.#outputs(def, found, props, state));
          // The program's inputs stay as they were: what changed out of band shows in the
          // outputs, and the next `pulumi up` diffs the program against them.
          if (req.hasInputs()) {
            const inputs = decodeStruct(req.getInputs());
            res.setInputs(encodeStruct(inputs.values, secretProperties(def.attributes, inputs.values, inputs.secrets)));
          }
          return res;
        });
      },

      update: async (req: InstanceType<Pb['UpdateRequest']>) => {
        const def = definitionOf(req.getType(), req.getUrn());
        const oldProps = decodeStruct(req.getOlds());
        const prior = { ...this.#values(def, oldProps), id: definitionId(req.getId()) };
        const decoded = decodeStruct(req.getNews());
        const inputs = withDefaults(def.attributes, this.#values(def, decoded));
        const res = new providerPb.UpdateResponse();
        if (req.getPreview()) {
          res.setProperties(this.#outputs(def, planObject(def.attributes, inputs, prior, false), decoded, inputs));
          return res;
        }
        return this.#guard(def, `updating ${def.typeName} ${JSON.stringify(req.getId())}`, req.getUrn(), async () => {
          const planned = inputsFor(def.attributes, planObject(def.attributes, inputs, prior, false), inputs);
          planned.id = prior.id ?? null;
          const updated = await def.update(this.#context(req.getUrn(), req.getTimeout()), prior, planned);
          res.setProperties(this.#outputs(def, updated, decoded, inputs));
          return res;
        });
      },

      delete: async (req: InstanceType<Pb['DeleteRequest']>) => {
        const def = definitionOf(req.getType(), req.getUrn());
        const state = { ...this.#values(def, decodeStruct(req.getProperties())), id: definitionId(req.getId()) };
        return this.#guard(def, `deleting ${def.typeName} ${JSON.stringify(req.getId())}`, req.getUrn(), async () => {
          await def.delete(this.#context(req.getUrn(), req.getTimeout()), state);
          return new emptyPb.Empty();
        });
      },

      cancel: async () => {
        this.#cancel.abort(new Error('the Pulumi engine cancelled the operation'));
        this.#cancel = new AbortController();
        return new emptyPb.Empty();
      },

      // No resource of this package maps to another tool's (no `pulumi convert` mappings).
      getMapping: async () => new providerPb.GetMappingResponse(),
      getMappings: async () => new providerPb.GetMappingsResponse(),
    };
  }
}

/** Provider settings from a DiffConfig bag (strings from stack config parsed). */
function coerce(decoded: DecodedProperties): ObjectValue {
  return coerceSettings(toDefinitionValues(providerAttributes, Object.fromEntries(Object.entries(decoded.values).filter(([k]) => k !== 'version' && k !== 'pluginDownloadURL'))));
}

/** The inputs that reproduce an imported object: what the user sets, without values equal to the defaults. */
export function importInputs(def: ResourceDefinition, found: ObjectValue): ObjectValue {
  return toPropertyBag(def.attributes, found, (name, attr) => isInput(attr) && !attr.writeOnly && !(attr.default !== undefined && valuesEqual(found[name] ?? null, attr.default)));
}
