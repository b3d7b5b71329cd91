// lbappliance_snmp: the appliance's SNMP settings (GET/PUT /api/v1/snmp), one per appliance,
// so its id is always `snmp`. Create and update replace the settings whole; delete puts the
// defaults back (SNMP off, no community, user or destination); read is GET, so a change
// made outside the tool shows as drift. The secrets (community strings, v3 passwords, trap
// communities) are write-only maps keyed by name, at the top level where write-only
// attributes can live: sent with every create and update, never stored in the state nor
// read back; change `secrets_version` to send changed secrets when nothing else changed.
import type { components } from '../../openapi/generated/types.js';
import { contract } from './generated/contract.js';
import { ResourceError, ResourceErrorCode } from './errors.js';
import { attributeFromContract } from './schema.js';
import type { Attribute, Attributes, Issue, ObjectValue, ResourceContext, ResourceDefinition, Value } from './types.js';
import { isUnknown } from './values.js';

type SnmpSettingsSpec = components['schemas']['SnmpSettingsSpec'];
type SnmpSettings = components['schemas']['SnmpSettings'];

const SNMP_ID = 'snmp';
const spec = contract.SnmpSettingsSpec.properties;
const community = spec.communities.items!.properties!;
const user = spec.users.items!.properties!;
const destination = spec.trapDestinations.items!.properties!;

const secretMap = (description: string): Attribute => ({ type: { kind: 'map', element: { kind: 'string', minLength: 8, maxLength: 64 } }, description, optional: true, sensitive: true, writeOnly: true });

/** The attributes of the SNMP settings. */
export const snmpAttributes: Attributes = {
  id: { type: { kind: 'string' }, description: 'Always `snmp`: an appliance has one set of SNMP settings.', computed: true },
  enabled: attributeFromContract(spec.enabled, false),
  listen_address: attributeFromContract(spec.listenAddress, false, { format: 'ip' }),
  node_listen_addresses: { type: { kind: 'map', element: { kind: 'string', format: 'ip' } }, description: spec.nodeListenAddresses.description ?? '', optional: true, computed: true, default: {} },
  port: attributeFromContract(spec.port, false),
  contact: attributeFromContract(spec.contact, false),
  location: attributeFromContract(spec.location, false),
  communities: { type: { kind: 'list', element: { kind: 'string', pattern: community.name!.pattern }, maxItems: 16 }, description: 'The names of the SNMPv2c communities (read-only access); each one\'s community string is in `community_strings`.', optional: true, computed: true, default: [] },
  community_strings: secretMap(`By community name, its community string (${community.community!.description ?? ''}). Every name of \`communities\` needs one. Write-only: never stored in the state.`),
  users: {
    type: {
      kind: 'list',
      maxItems: 16,
      element: {
        kind: 'object',
        attributes: {
          name: { type: { kind: 'string', pattern: user.name!.pattern }, description: user.name!.description ?? '', required: true },
          auth_protocol: { type: { kind: 'string', enum: user.authProtocol!.enum }, description: user.authProtocol!.description ?? '', required: true },
          priv_protocol: { type: { kind: 'string', enum: user.privProtocol!.enum }, description: user.privProtocol!.description ?? '', required: true },
        },
      },
    },
    description: 'The SNMPv3 users (authPriv, read-only access); their passwords are in `user_auth_passwords` and `user_priv_passwords`.',
    optional: true,
    computed: true,
    default: [],
  },
  user_auth_passwords: secretMap('By user name, its authentication password. Every user needs one. Write-only: never stored in the state.'),
  user_priv_passwords: secretMap('By user name, its privacy (encryption) password. Every user needs one. Write-only: never stored in the state.'),
  trap_destinations: {
    type: {
      kind: 'list',
      maxItems: 16,
      element: {
        kind: 'object',
        attributes: {
          name: { type: { kind: 'string', pattern: destination.name!.pattern }, description: destination.name!.description ?? '', required: true },
          address: { type: { kind: 'string', format: 'ip' }, description: destination.address!.description ?? '', required: true },
          port: { type: { kind: 'integer', minimum: 1, maximum: 65535 }, description: destination.port!.description ?? '', required: true },
          version: { type: { kind: 'string', enum: destination.version!.enum }, description: destination.version!.description ?? '', required: true },
          user: { type: { kind: 'string' }, description: `${destination.user!.description ?? ''} Null for v2c.`, optional: true },
        },
      },
    },
    description: `${spec.trapDestinations.description ?? ''} A v2c destination's community is in \`trap_communities\`.`,
    optional: true,
    computed: true,
    default: [],
  },
  trap_communities: secretMap('By v2c trap destination name, the community its traps carry. Every v2c destination needs one. Write-only: never stored in the state.'),
  secrets_version: { type: { kind: 'integer', minimum: 0 }, description: 'Any number; change it to send the write-only secrets again when only they changed (the provider cannot see a change of a value it never stores).', optional: true },
  inform_timeout_ms: attributeFromContract(spec.informTimeoutMs, false),
  inform_retries: attributeFromContract(spec.informRetries, false),
};

type Entry = Record<string, Value>;
const list = (v: Value | undefined): Entry[] => (Array.isArray(v) ? (v as Entry[]) : []);
const map = (v: Value | undefined): Record<string, Value> => (v && typeof v === 'object' && !Array.isArray(v) && !isUnknown(v) ? (v as Record<string, Value>) : {});
const text = (v: Value | undefined): string | undefined => (typeof v === 'string' ? v : undefined);

/** The API body of the inputs (write-only values from the configuration). */
function bodyOf(inputs: ObjectValue): SnmpSettingsSpec {
  const strings = map(inputs.community_strings);
  const auth = map(inputs.user_auth_passwords);
  const priv = map(inputs.user_priv_passwords);
  const traps = map(inputs.trap_communities);
  const body: SnmpSettingsSpec = {
    communities: (Array.isArray(inputs.communities) ? (inputs.communities as string[]) : []).map((name) => ({ name, ...(text(strings[name]) !== undefined ? { community: text(strings[name]) } : {}) })),
    users: list(inputs.users).map((u) => {
      const name = u.name as string;
      return { name, authProtocol: u.auth_protocol as 'sha', privProtocol: u.priv_protocol as 'aes', ...(text(auth[name]) ? { authPassword: text(auth[name]) } : {}), ...(text(priv[name]) ? { privPassword: text(priv[name]) } : {}) };
    }),
    trapDestinations: list(inputs.trap_destinations).map((d) => {
      const name = d.name as string;
      const v2c = d.version === 'v2c';
      return { name, address: d.address as string, port: d.port as number, version: d.version as 'v2c' | 'v3', ...(v2c ? (text(traps[name]) ? { community: text(traps[name]) } : {}) : { user: (d.user as string | null) ?? null }) };
    }),
  };
  for (const name of ['enabled', 'listen_address', 'node_listen_addresses', 'port', 'contact', 'location', 'inform_timeout_ms', 'inform_retries'] as const) {
    const v = inputs[name];
    if (v !== null && v !== undefined && !isUnknown(v)) (body as Record<string, unknown>)[name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())] = v;
  }
  return body;
}

function fromApi(s: SnmpSettings, carried: ObjectValue | null): ObjectValue {
  return {
    id: SNMP_ID,
    enabled: s.enabled ?? false,
    listen_address: s.listenAddress ?? '0.0.0.0',
    node_listen_addresses: { ...(s.nodeListenAddresses ?? {}) },
    port: s.port ?? 161,
    contact: s.contact ?? '',
    location: s.location ?? '',
    communities: (s.communities ?? []).map((c) => c.name),
    community_strings: null,
    users: (s.users ?? []).map((u) => ({ name: u.name, auth_protocol: u.authProtocol ?? 'sha', priv_protocol: u.privProtocol ?? 'aes' })),
    user_auth_passwords: null,
    user_priv_passwords: null,
    trap_destinations: (s.trapDestinations ?? []).map((d) => ({ name: d.name, address: d.address, port: d.port ?? 162, version: d.version, user: d.user ?? null })),
    trap_communities: null,
    secrets_version: carried?.secrets_version ?? null,
    inform_timeout_ms: s.informTimeoutMs ?? 5000,
    inform_retries: s.informRetries ?? 3,
  };
}

async function put(ctx: ResourceContext, inputs: ObjectValue): Promise<ObjectValue> {
  return fromApi(await ctx.client.replaceSnmpSettings(bodyOf(inputs), { signal: ctx.signal }), inputs);
}

/** Every name of `names` has a value in the write-only map `secrets` (when both are known). */
function secretsFor(names: string[], secrets: Value | undefined, attribute: string, what: string): Issue[] {
  if (secrets === undefined || isUnknown(secrets)) return [];
  const given = map(secrets);
  return names
    .filter((n) => given[n] === undefined || given[n] === null)
    .map((n) => ({ path: [attribute], summary: `${what} ${n} has no secret`, detail: `Give ${attribute}["${n}"] (write-only: the configuration holds every secret; the state holds none).`, code: 'LBP_SNMP_SECRET_MISSING' }));
}

/** The SNMP settings resource. */
export const snmpSettings: ResourceDefinition = {
  kind: 'resource',
  name: 'snmp',
  typeName: 'Snmp',
  description:
    'The appliance\'s SNMP settings: its agent (LBAPPLIANCE-MIB, read-only, to v2c communities and v3 authPriv users) and where its notifications go (v2c traps, v3 informs). Replicated to the secondary of an HA pair. Destroying the resource turns SNMP off and removes every community, user and destination.',
  attributes: snmpAttributes,
  importId: { format: 'snmp', example: 'snmp' },
  example: `resource "lbappliance_snmp" "noc" {
  enabled     = true
  port        = 161
  contact     = "PACS team <pacs@hospital.example>"
  location    = "Data centre A"
  communities = ["noc"]
  community_strings = { noc = var.snmp_community } # write-only
  users = [{ name = "nocv3", auth_protocol = "sha", priv_protocol = "aes" }]
  user_auth_passwords = { nocv3 = var.snmp_auth_password } # write-only
  user_priv_passwords = { nocv3 = var.snmp_priv_password } # write-only
  trap_destinations = [{ name = "nms", address = "10.10.40.50", port = 162, version = "v3", user = "nocv3" }]
}`,
  validate(config) {
    const issues: Issue[] = [];
    const names = (v: Value | undefined, key?: string): string[] | null => {
      if (v === undefined || v === null || isUnknown(v) || !Array.isArray(v)) return null;
      const out = key ? (v as Entry[]).map((e) => e?.[key]) : (v as Value[]);
      return out.every((n) => typeof n === 'string') ? (out as string[]) : null;
    };
    const communities = names(config.communities);
    if (communities) issues.push(...secretsFor(communities, config.community_strings, 'community_strings', 'community'));
    const users = names(config.users, 'name');
    if (users) {
      issues.push(...secretsFor(users, config.user_auth_passwords, 'user_auth_passwords', 'user'));
      issues.push(...secretsFor(users, config.user_priv_passwords, 'user_priv_passwords', 'user'));
    }
    const destinations = Array.isArray(config.trap_destinations) ? (config.trap_destinations as Entry[]) : [];
    const v2c = destinations.filter((d) => d && d.version === 'v2c' && typeof d.name === 'string').map((d) => d.name as string);
    issues.push(...secretsFor(v2c, config.trap_communities, 'trap_communities', 'v2c trap destination'));
    for (const [i, d] of destinations.entries()) {
      if (!d || isUnknown(d as Value)) continue;
      if (d.version === 'v3' && users && typeof d.user !== 'object' && !isUnknown(d.user) && !users.includes(d.user as string)) {
        issues.push({ path: ['trap_destinations', i, 'user'], summary: `trap destination ${String(d.name)} names no user of users`, detail: `A v3 destination sends informs as one of \`users\` (${users.join(', ') || 'none'}).`, code: 'LBP_SNMP_USER_UNKNOWN' });
      }
      if (d.version === 'v3' && d.user === null) issues.push({ path: ['trap_destinations', i, 'user'], summary: `trap destination ${String(d.name)} is v3 and needs a user`, detail: 'A v3 destination sends informs as one of `users`.', code: 'LBP_SNMP_USER_UNKNOWN' });
      if (d.version === 'v2c' && typeof d.user === 'string') issues.push({ path: ['trap_destinations', i, 'user'], summary: `trap destination ${String(d.name)} is v2c: it has no user`, detail: 'A v2c destination\'s community is in `trap_communities`.', code: 'LBP_SNMP_USER_UNKNOWN' });
    }
    return issues;
  },
  async create(ctx, inputs) {
    return put(ctx, inputs);
  },
  async read(ctx, state) {
    return fromApi(await ctx.client.getSnmpSettings({ signal: ctx.signal }), state);
  },
  async update(ctx, _prior, inputs) {
    return put(ctx, inputs);
  },
  async delete(ctx) {
    await ctx.client.replaceSnmpSettings({}, { signal: ctx.signal });
  },
  async import(ctx, id) {
    if (id !== SNMP_ID) throw new ResourceError(ResourceErrorCode.BadImportId, `import id ${JSON.stringify(id)} must be "${SNMP_ID}"`);
    return fromApi(await ctx.client.getSnmpSettings({ signal: ctx.signal }), null);
  },
};
