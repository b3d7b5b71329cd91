// lbappliance_alert_mail: the e-mail alert settings of the appliance (one per appliance, so
// its id is always `alert-mail`), its whole life over the SDK: create and update are PUT,
// delete is DELETE (no more mails), read is GET (settings removed outside Terraform are
// gone). The SMTP password is write-only: sent from the configuration on every create and
// update, never stored in the state; `password_version` changes the plan when only the
// password changed (Terraform cannot see a write-only value change).
// The SDK's types only: the client (undici) is loaded when the provider is configured.
import type { components } from '../../openapi/generated/types.js';
import { contract } from './generated/contract.js';
import { ResourceError, ResourceErrorCode, unlessGone } from './errors.js';
import { fromApiBody, toApiBody } from './mapping.js';
import { attributeFromContract, attributesFromContract } from './schema.js';
import { UNKNOWN, type Attributes, type Issue, type ObjectValue, type ResourceContext, type ResourceDefinition } from './types.js';

type AlertMailInput = components['schemas']['AlertMailInput'];
type AlertMail = components['schemas']['AlertMail'];

const ID = 'alert-mail';
const spec = attributesFromContract(contract.AlertMailSpec, { host: { format: 'host' } });

/** The attributes of the e-mail alert settings. */
export const alertMailAttributes: Attributes = {
  id: { type: { kind: 'string' }, description: 'Always `alert-mail`: an appliance has one set of e-mail alert settings.', computed: true },
  ...spec,
  password: {
    ...attributeFromContract(contract.AlertMailInput.properties.password, false),
    sensitive: true,
    writeOnly: true,
    description: `${contract.AlertMailInput.properties.password.description} Write-only: never stored in the state; change \`password_version\` to send a new one.`,
  },
  password_version: {
    type: { kind: 'integer', minimum: 0 },
    description: 'Any number; changing it sends `password` again (a new password alone does not change the plan). Provider-side only: not sent to the appliance.',
    optional: true,
  },
  password_set: { ...attributeFromContract(contract.AlertMail.properties.passwordSet, false), computed: true, optional: false },
};

function fromApi(m: AlertMail, passwordVersion: unknown): ObjectValue | null {
  if (!m.enabled) return null;
  return { id: ID, ...fromApiBody(spec, m as unknown as Record<string, unknown>), password: null, password_version: typeof passwordVersion === 'number' ? passwordVersion : null, password_set: m.passwordSet };
}

function body(inputs: ObjectValue): AlertMailInput {
  const b = toApiBody(spec, inputs) as Record<string, unknown>;
  if (typeof inputs.password === 'string') b.password = inputs.password;
  return b as unknown as AlertMailInput;
}

async function get(ctx: ResourceContext, passwordVersion: unknown): Promise<ObjectValue | null> {
  const m = await unlessGone(ctx.client.getAlertMail({ signal: ctx.signal }));
  return m && fromApi(m, passwordVersion);
}

function required(m: ObjectValue | null): ObjectValue {
  if (!m) throw new ResourceError(ResourceErrorCode.NotFound, 'the appliance reports no e-mail alert settings after setting them');
  return m;
}

/** The e-mail alert settings resource. */
export const alertMail: ResourceDefinition = {
  kind: 'resource',
  name: 'alert_mail',
  typeName: 'AlertMail',
  description:
    'The e-mail alerts of the appliance: the SMTP relay (STARTTLS by default, SMTP AUTH with a write-only password), the sender, the recipients and an hourly rate limit. One mail per incident (a real server down, an HA takeover, a certificate near its expiry) and one when a server recovers. Replicated to the HA secondary with the rest of the configuration, password included. Destroying the resource stops the alerts.',
  attributes: alertMailAttributes,
  importId: { format: 'alert-mail', example: 'alert-mail' },
  example: `resource "lbappliance_alert_mail" "oncall" {
  host         = "smtp.hospital.example"
  port         = 587
  username     = "lbappliance"
  password     = var.smtp_password # write-only
  from         = "lbappliance@hospital.example"
  to           = ["pacs-oncall@hospital.example"]
  max_per_hour = 20
}`,
  validate(config): Issue[] {
    const { username, password, security } = config;
    if (username === UNKNOWN || password === UNKNOWN || security === UNKNOWN) return [];
    if (password !== null && password !== undefined && (username === null || username === undefined)) {
      return [{ path: ['password'], summary: 'a password goes with a username', detail: 'Set username, or remove password.', code: 'LB_INVALID_COMBINATION' }];
    }
    if (security === 'none' && username !== null && username !== undefined) {
      return [{ path: ['username'], summary: 'authentication is never sent in the clear', detail: 'Use security = "starttls" or "tls" with a username.', code: 'LB_INVALID_COMBINATION' }];
    }
    return [];
  },
  async create(ctx, inputs) {
    return required(fromApi(await ctx.client.replaceAlertMail(body(inputs), { signal: ctx.signal }), inputs.password_version));
  },
  async read(ctx, state) {
    return get(ctx, state.password_version);
  },
  async update(ctx, _prior, inputs) {
    return required(fromApi(await ctx.client.replaceAlertMail(body(inputs), { signal: ctx.signal }), inputs.password_version));
  },
  async delete(ctx) {
    await unlessGone(ctx.client.deleteAlertMail({ signal: ctx.signal }));
  },
  async import(ctx, id) {
    if (id !== ID) throw new ResourceError(ResourceErrorCode.BadImportId, `import id ${JSON.stringify(id)} must be "${ID}"`);
    return get(ctx, null);
  },
};
