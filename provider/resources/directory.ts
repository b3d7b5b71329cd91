// lbappliance_directory: the appliance's directory logins (LDAP or Active Directory), a
// singleton like the HA pair: create and update write the settings (PUT /api/v1/directory),
// delete stops directory logins, read is GET (404: gone). Its id is always `directory`. The
// bind password is write-only: sent on every write, never read back, never in the state.
// The SDK's types only: the client (undici) is loaded when the provider is configured.
import type { components } from '../../openapi/generated/types.js';
import { directoryProblems } from '../../openapi/sdk/rules.js';
import { contract } from './generated/contract.js';
import { ResourceError, ResourceErrorCode, ruleIssues, unlessGone } from './errors.js';
import { fromApiBody, toApiBody } from './mapping.js';
import { attributeFromContract, attributesFromContract, computedFromContract } from './schema.js';
import type { Attributes, Issue, ObjectValue, ResourceContext, ResourceDefinition, Value } from './types.js';
import { isUnknown } from './values.js';

type DirectoryInput = components['schemas']['DirectoryInput'];
type Directory = components['schemas']['Directory'];

const DIRECTORY_ID = 'directory';
const spec = attributesFromContract(contract.DirectorySpec);
const bindPassword = contract.DirectoryInput.properties.bindPassword;

/** The attributes of the directory settings. */
export const directoryAttributes: Attributes = {
  id: { type: { kind: 'string' }, description: 'Always `directory`: an appliance has at most one directory.', computed: true },
  ...spec,
  bind_password: { ...attributeFromContract(bindPassword, true), sensitive: true, writeOnly: true, description: `${bindPassword.description} Never stored in the state.` },
  ...computedFromContract(contract.Directory, ['updated_at'], { updated_at: { volatile: true } }),
};

function fromApi(d: Directory): ObjectValue {
  return { id: DIRECTORY_ID, ...fromApiBody(spec, d as unknown as Record<string, unknown>), bind_password: null, updated_at: d.updatedAt };
}

async function get(ctx: ResourceContext): Promise<ObjectValue | null> {
  const d = await unlessGone(ctx.client.getDirectory({ signal: ctx.signal }));
  return d && fromApi(d);
}

async function put(ctx: ResourceContext, inputs: ObjectValue): Promise<ObjectValue> {
  const body = { ...toApiBody(spec, inputs), bindPassword: inputs.bind_password } as unknown as DirectoryInput;
  return fromApi(await ctx.client.replaceDirectory(body, { signal: ctx.signal }));
}

const known = (v: Value | undefined) => (v === undefined || isUnknown(v) ? undefined : v);

/** The directory resource. */
export const directory: ResourceDefinition = {
  kind: 'resource',
  name: 'directory',
  typeName: 'Directory',
  description:
    'Directory logins: users who are not local users of the appliance log in with their LDAP or Active Directory account (LDAPS, or StartTLS on ldap://, verified against `ca_pem`) and get the highest role their groups map to in `role_mappings`. Local users, `loadbalancer` first, always log in without the directory. Replicated to the secondary of an HA pair. Destroying the resource stops directory logins.',
  attributes: directoryAttributes,
  importId: { format: 'directory', example: 'directory' },
  example: `resource "lbappliance_directory" "ad" {
  url           = "ldaps://dc01.hospital.example:636"
  ca_pem        = file("hospital-root-ca.pem")
  bind_dn       = "CN=svc-lbappliance,OU=Service Accounts,DC=hospital,DC=example"
  bind_password = var.directory_bind_password # write-only: never in the state
  user_base_dn  = "OU=Staff,DC=hospital,DC=example"
  user_filter   = "(sAMAccountName={username})"
  group_search  = "memberOf"
  role_mappings = [
    { group = "CN=LB-Admins,OU=Groups,DC=hospital,DC=example", role = "admin" },
    { group = "CN=PACS-Operators,OU=Groups,DC=hospital,DC=example", role = "operator" },
  ]
}`,
  validate(config): Issue[] {
    const url = known(config.url);
    const startTls = known(config.start_tls);
    return ruleIssues(directoryAttributes, directoryProblems({ url: url === undefined ? undefined : String(url), startTls: startTls === undefined ? undefined : (startTls as boolean | null) }));
  },
  async create(ctx, inputs) {
    return put(ctx, inputs);
  },
  async read(ctx) {
    return get(ctx);
  },
  async update(ctx, _prior, inputs) {
    return put(ctx, inputs);
  },
  async delete(ctx) {
    await unlessGone(ctx.client.deleteDirectory({ signal: ctx.signal }));
  },
  async import(ctx, id) {
    if (id !== DIRECTORY_ID) throw new ResourceError(ResourceErrorCode.BadImportId, `import id ${JSON.stringify(id)} must be "${DIRECTORY_ID}"`);
    return get(ctx);
  },
};
