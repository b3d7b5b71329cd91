// The tfplugin6 Provider service: each RPC decodes its DynamicValues with the schema of the
// type it names, hands plain values to the shared resource definitions, and encodes their
// answer. Nothing is kept between processes: terraform starts a new one for each command
// phase, so the only state is the client made by ConfigureProvider.
import type { ApplianceClient } from '../../openapi/sdk/client.js';
import { issuesFromError } from '../resources/errors.js';
import { inputsFor, planObject, requiresReplace, stateOf } from '../resources/plan.js';
import { clientFor, providerAttributes, resolveSettings } from '../resources/provider-config.js';
import { dataSources, resources } from '../resources/registry.js';
import type { DataSourceDefinition, Issue, ObjectValue, ResourceContext, ResourceDefinition } from '../resources/types.js';
import { validateAll, validateConfig } from '../resources/validate.js';
import { isWhollyKnown } from '../resources/values.js';
import { attributePath, diagnostics, hasErrors, type DiagnosticMessage } from './diagnostics.js';
import { decodeObject, encodeObject, type DynamicValueMessage } from './dynamic-value.js';
import type { StderrLogger } from './log.js';
import { PROVIDER_DESCRIPTION, terraformTypeName } from './names.js';
import { schemaMessage, type SchemaMessage } from './schema.js';

const resourceByType = new Map<string, ResourceDefinition>(resources.map((r) => [terraformTypeName(r), r]));
const dataSourceByType = new Map<string, DataSourceDefinition>(dataSources.map((d) => [terraformTypeName(d), d]));

/** Thrown for a type name the provider does not have (terraform never sends one). */
class UnknownTypeError extends Error {}

function resourceOf(typeName: string): ResourceDefinition {
  const def = resourceByType.get(typeName);
  if (!def) throw new UnknownTypeError(`unknown resource type ${typeName}`);
  return def;
}

function dataSourceOf(typeName: string): DataSourceDefinition {
  const def = dataSourceByType.get(typeName);
  if (!def) throw new UnknownTypeError(`unknown data source type ${typeName}`);
  return def;
}

type Request = Record<string, unknown> & { type_name?: string };
type Dv = DynamicValueMessage | undefined;

/** The provider's schema message (built once per process, on first use; the scale bench's stand-in plugin serves it too). */
let schemaCache: Record<string, unknown> | undefined;
export function providerSchema(): Record<string, unknown> {
  schemaCache ??= {
    provider: schemaMessage(providerAttributes, PROVIDER_DESCRIPTION),
    resource_schemas: Object.fromEntries(resources.map((r) => [terraformTypeName(r), schemaMessage(r.attributes, r.description)])) as Record<string, SchemaMessage>,
    data_source_schemas: Object.fromEntries(dataSources.map((d) => [terraformTypeName(d), schemaMessage(d.attributes, d.description)])) as Record<string, SchemaMessage>,
    diagnostics: [],
    // The schema is fixed per build, so terraform may reuse it across the processes it starts.
    server_capabilities: { plan_destroy: false, get_provider_schema_optional: true, move_resource_state: false },
  };
  return schemaCache;
}

/**
 * A host that does not know write-only attributes (Terraform before 1.11) would store
 * their values in its state: refuse them there rather than leak a private key.
 */
function writeOnlyRefusals(def: ResourceDefinition, config: ObjectValue, allowed: boolean): Issue[] {
  if (allowed) return [];
  return Object.entries(def.attributes)
    .filter(([name, attr]) => attr.writeOnly && config[name] !== null && config[name] !== undefined)
    .map(([name]) => ({
      path: [name],
      summary: 'Write-only attribute not supported by this Terraform',
      detail: `${name} is write-only so that it never lands in the state; this Terraform does not support write-only attributes (Terraform 1.11 or later does), and would store it.`,
      code: 'LBP_WRITE_ONLY_UNSUPPORTED',
    }));
}

/** The handlers of tfplugin6.Provider, by RPC name. */
export class ProviderService {
  #client: ApplianceClient | undefined;
  readonly #stop = new AbortController();
  readonly #log: StderrLogger;
  readonly #onStop: () => void;

  constructor(log: StderrLogger, onStop: () => void) {
    this.#log = log;
    this.#onStop = onStop;
  }

  /** Closes the SDK client's connections. */
  async close(): Promise<void> {
    await this.#client?.close().catch(() => undefined);
  }

  /** The context of a lifecycle call; its warnings go to `warnings` (the call's diagnostics). */
  #context(warnings: Issue[] = []): ResourceContext {
    if (!this.#client) throw new Error('the provider is not configured (ConfigureProvider was not called or failed)');
    return { client: this.#client, log: this.#log, signal: this.#stop.signal, warning: (issue) => warnings.push({ ...issue, severity: 'warning' }) };
  }

  /** Runs a lifecycle call, turning failures into diagnostics on the definition's attributes. */
  async #guard(def: { attributes: ResourceDefinition['attributes'] }, action: string, fn: () => Promise<Record<string, unknown>>, onError: Record<string, unknown>): Promise<Record<string, unknown>> {
    try {
      return await fn();
    } catch (err) {
      const issues: Issue[] = issuesFromError(def.attributes, err, action);
      this.#log.warn(`${action} failed`, { error: issues.map((i) => i.detail).join('; ') });
      return { ...onError, diagnostics: diagnostics(issues) };
    }
  }

  /** The RPC handlers, keyed by method name. */
  handlers(): Record<string, (req: Request) => Promise<Record<string, unknown>>> {
    return {
      GetProviderSchema: async () => providerSchema(),

      ValidateProviderConfig: async (req) => {
        const config = decodeObject(providerAttributes, req.config as Dv) ?? {};
        return { diagnostics: diagnostics(validateConfig(providerAttributes, config)) };
      },

      ConfigureProvider: async (req) => {
        const config = decodeObject(providerAttributes, req.config as Dv) ?? {};
        const known: ObjectValue = Object.fromEntries(Object.entries(config).map(([k, v]) => [k, isWhollyKnown(v) ? v : null]));
        const { settings, issues } = resolveSettings(known);
        if (settings) {
          this.#client = await clientFor(settings);
          this.#log.debug('configured', { endpoint: settings.endpoint, username: settings.username, insecure: settings.insecure });
          // One authenticated call proves trust and credentials here, once: otherwise every
          // resource's refresh fails on its own and a wrong password is reported per resource.
          try {
            await this.#client.getCurrentUser();
          } catch (err) {
            return { diagnostics: diagnostics(issuesFromError(providerAttributes, err, 'Connecting to the appliance')) };
          }
        }
        return { diagnostics: diagnostics(issues) };
      },

      ValidateResourceConfig: async (req) => {
        const def = resourceOf(req.type_name!);
        const config = decodeObject(def.attributes, req.config as Dv) ?? {};
        const caps = req.client_capabilities as { write_only_attributes_allowed?: boolean } | null | undefined;
        return { diagnostics: diagnostics([...writeOnlyRefusals(def, config, !!caps?.write_only_attributes_allowed), ...validateAll(def, config)]) };
      },

      ValidateDataResourceConfig: async (req) => {
        const def = dataSourceOf(req.type_name!);
        const config = decodeObject(def.attributes, req.config as Dv) ?? {};
        return { diagnostics: diagnostics(validateAll(def, config)) };
      },

      UpgradeResourceState: async (req) => {
        const def = resourceOf(req.type_name!);
        const raw = req.raw_state as { json?: Uint8Array } | undefined;
        if (!raw?.json || raw.json.length === 0) {
          return { diagnostics: [{ severity: 'ERROR', summary: 'Unsupported state format', detail: 'The stored state has no JSON form (legacy flatmap states are not supported).' }] };
        }
        // Loaded on first use: only processes that hold state need the lossless JSON parser.
        const { parseRawState } = await import('./raw-state.js');
        return { upgraded_state: encodeObject(def.attributes, stateOf(def.attributes, parseRawState(def.attributes, raw.json))), diagnostics: [] };
      },

      ReadResource: async (req) => {
        const def = resourceOf(req.type_name!);
        const state = decodeObject(def.attributes, req.current_state as Dv);
        if (!state) return { new_state: encodeObject(def.attributes, null), diagnostics: [] };
        return this.#guard(
          def,
          `Reading ${terraformTypeName(def)}`,
          async () => {
            const read = await def.read(this.#context(), state);
            return { new_state: encodeObject(def.attributes, read ? stateOf(def.attributes, read) : null), private: req.private, diagnostics: [] };
          },
          { new_state: req.current_state },
        );
      },

      PlanResourceChange: async (req) => {
        const def = resourceOf(req.type_name!);
        const prior = decodeObject(def.attributes, req.prior_state as Dv);
        const proposed = decodeObject(def.attributes, req.proposed_new_state as Dv);
        const config = decodeObject(def.attributes, req.config as Dv);
        if (!proposed || !config) return { planned_state: encodeObject(def.attributes, null), requires_replace: [], diagnostics: [] };
        const issues = validateAll(def, config, prior);
        if (hasErrors(issues)) return { planned_state: req.proposed_new_state, requires_replace: [], diagnostics: diagnostics(issues) };
        const planned = planObject(def.attributes, config, prior, prior === null);
        const replace = prior ? requiresReplace(def.attributes, planned, prior) : [];
        return { planned_state: encodeObject(def.attributes, planned), requires_replace: replace.map(attributePath), planned_private: req.prior_private, diagnostics: diagnostics(issues) };
      },

      ApplyResourceChange: async (req) => {
        const def = resourceOf(req.type_name!);
        const prior = decodeObject(def.attributes, req.prior_state as Dv);
        const planned = decodeObject(def.attributes, req.planned_state as Dv);
        const config = decodeObject(def.attributes, req.config as Dv);
        const type = terraformTypeName(def);
        if (!planned) {
          if (!prior) return { new_state: encodeObject(def.attributes, null), diagnostics: [] };
          return this.#guard(def, `Deleting ${type}`, async () => {
            await def.delete(this.#context(), prior);
            return { new_state: encodeObject(def.attributes, null), diagnostics: [] };
          }, { new_state: req.prior_state });
        }
        const inputs = inputsFor(def.attributes, planned, config);
        if (!prior) {
          return this.#guard(def, `Creating ${type}`, async () => {
            const warnings: Issue[] = [];
            const created = await def.create(this.#context(warnings), inputs);
            return { new_state: encodeObject(def.attributes, stateOf(def.attributes, created)), private: Buffer.alloc(0), diagnostics: diagnostics(warnings) };
          }, { new_state: encodeObject(def.attributes, null) });
        }
        return this.#guard(def, `Updating ${type}`, async () => {
          const warnings: Issue[] = [];
          const updated = await def.update(this.#context(warnings), prior, inputs);
          return { new_state: encodeObject(def.attributes, stateOf(def.attributes, updated)), private: req.planned_private, diagnostics: diagnostics(warnings) };
        }, { new_state: req.prior_state });
      },

      ImportResourceState: async (req) => {
        const def = resourceOf(req.type_name!);
        const id = String(req.id ?? '');
        return this.#guard(def, `Importing ${terraformTypeName(def)} ${JSON.stringify(id)}`, async () => {
          const found = await def.import(this.#context(), id);
          if (!found) {
            const d: DiagnosticMessage = { severity: 'ERROR', summary: 'Cannot import non-existent remote object', detail: `The appliance has no ${terraformTypeName(def)} with import id ${JSON.stringify(id)} (expected form: ${def.importId.format}).` };
            return { imported_resources: [], diagnostics: [d] };
          }
          return { imported_resources: [{ type_name: req.type_name, state: encodeObject(def.attributes, stateOf(def.attributes, found)), private: Buffer.alloc(0) }], diagnostics: [] };
        }, { imported_resources: [] });
      },

      ReadDataSource: async (req) => {
        const def = dataSourceOf(req.type_name!);
        const config = decodeObject(def.attributes, req.config as Dv) ?? {};
        return this.#guard(def, `Reading data source ${terraformTypeName(def)}`, async () => {
          const state = await def.read(this.#context(), config);
          return { state: encodeObject(def.attributes, { ...state, ...Object.fromEntries(Object.entries(config).filter(([, v]) => v !== null)) }), diagnostics: [] };
        }, {});
      },

      StopProvider: async () => {
        this.#stop.abort(new Error('terraform asked the provider to stop'));
        setImmediate(this.#onStop);
        return { Error: '' };
      },
    };
  }
}
