// A stand-in for the lbappliance Terraform provider that does nothing but the plugin protocol:
// the same plugin server (provider/terraform/server.ts), the same schema and the same
// msgpack values, with resources kept only in Terraform's state (as terraform_data keeps
// them). The scale bench runs the same configuration through it, beside the provider and the
// terraform_data floor: what it costs over the floor is what Terraform's plugin protocol and
// plugin starts cost any provider written for Node.js; what the provider costs over it is the
// provider's own work and the appliance's. Not a test double: nothing in `npm test` uses it.
import { randomBytes } from 'node:crypto';
import { providerSchema } from '../../../provider/terraform/provider-service.js';
import { decodeObject, encodeObject, type DynamicValueMessage } from '../../../provider/terraform/dynamic-value.js';
import { terraformTypeName } from '../../../provider/terraform/names.js';
import { parseRawState } from '../../../provider/terraform/raw-state.js';
import { servePlugin, type PluginService } from '../../../provider/terraform/server.js';
import { stateOf } from '../../../provider/resources/plan.js';
import { resources } from '../../../provider/resources/registry.js';
import { UNKNOWN, type ObjectValue, type ResourceDefinition } from '../../../provider/resources/types.js';

type Request = Record<string, unknown> & { type_name?: string };
type Dv = DynamicValueMessage | undefined;

const byType = new Map<string, ResourceDefinition>(resources.map((r) => [terraformTypeName(r), r]));
function attributesOf(req: Request): ResourceDefinition['attributes'] {
  const def = byType.get(req.type_name ?? '');
  if (!def) throw new Error(`unknown resource type ${req.type_name}`);
  return def.attributes;
}

const none = async () => ({ diagnostics: [] });

function service(onStop: () => void): PluginService {
  return {
    close: async () => undefined,
    handlers: () => ({
      GetProviderSchema: async () => providerSchema(),
      ValidateProviderConfig: none,
      ConfigureProvider: none,
      ValidateResourceConfig: none,
      UpgradeResourceState: async (req) => {
        const attributes = attributesOf(req);
        const raw = req.raw_state as { json?: Uint8Array };
        return { upgraded_state: encodeObject(attributes, stateOf(attributes, parseRawState(attributes, raw.json!))), diagnostics: [] };
      },
      // The state is the object: nothing to read.
      ReadResource: async (req) => ({ new_state: req.current_state, private: req.private, diagnostics: [] }),
      PlanResourceChange: async (req) => {
        const attributes = attributesOf(req);
        const proposed = decodeObject(attributes, req.proposed_new_state as Dv);
        if (!proposed || decodeObject(attributes, req.prior_state as Dv)) return { planned_state: req.proposed_new_state, requires_replace: [], planned_private: req.prior_private, diagnostics: [] };
        // A new object: its id is known after apply.
        return { planned_state: encodeObject(attributes, { ...proposed, id: UNKNOWN }), requires_replace: [], diagnostics: [] };
      },
      ApplyResourceChange: async (req) => {
        const attributes = attributesOf(req);
        const planned = decodeObject(attributes, req.planned_state as Dv);
        if (!planned) return { new_state: encodeObject(attributes, null), diagnostics: [] };
        const state: ObjectValue = {};
        for (const [name, value] of Object.entries(planned)) state[name] = value === UNKNOWN ? (name === 'id' ? `null-${randomBytes(6).toString('hex')}` : null) : value;
        return { new_state: encodeObject(attributes, state), private: req.planned_private ?? Buffer.alloc(0), diagnostics: [] };
      },
      StopProvider: async () => {
        setImmediate(onStop);
        return { Error: '' };
      },
    }),
  };
}

servePlugin(async (_log, onStop) => service(onStop)).catch((err: unknown) => {
  process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
