// lbappliance_ha_pair: pairs the configured appliance (the primary) with a secondary, its
// whole life over the SDK: create pairs (POST /api/v1/ha-pair), update changes the timers
// and preferences (PATCH), delete breaks the pair (DELETE), read is GET. There is one pair
// per appliance, so its id is always `ha-pair`. The peer's password is used once, to pair,
// and is write-only.
// The SDK's types only: the client (undici) is loaded when the provider is configured.
import type { components } from '../../openapi/generated/types.js';
import { contract } from './generated/contract.js';
import { ResourceError, ResourceErrorCode, unlessGone } from './errors.js';
import { attributeFromContract, computedFromContract } from './schema.js';
import type { Attributes, ObjectValue, ResourceContext, ResourceDefinition } from './types.js';
import { camelCase, str, valuesEqual } from './values.js';

type HaPairInput = components['schemas']['HaPairInput'];
type HaPair = components['schemas']['HaPair'];

const PAIR_ID = 'ha-pair';
const input = contract.HaPairInput.properties;
/** Settings the API changes in place (PATCH); the rest of the input replaces the pair. */
const SETTINGS = ['heartbeat_port', 'replication_port', 'heartbeat_interval_ms', 'dead_time_ms', 'prefer_primary'] as const;

/** The attributes of an HA pair. */
export const haPairAttributes: Attributes = {
  id: { type: { kind: 'string' }, description: 'Always `ha-pair`: an appliance belongs to at most one pair.', computed: true },
  peer_endpoint: { ...attributeFromContract(input.peerEndpoint, true, { format: 'https-url' }), replaceOnChange: true },
  peer_password: { ...attributeFromContract(input.peerPassword, true), sensitive: true, writeOnly: true, description: `${input.peerPassword.description} Write-only: never stored in the state.` },
  peer_fingerprint_sha256: { ...attributeFromContract(input.peerFingerprintSha256, false), computed: true, replaceOnChange: true },
  local_address: { ...attributeFromContract(input.localAddress, false, { format: 'ip' }), type: { kind: 'string', format: 'ip' }, computed: true, replaceOnChange: true },
  heartbeat_port: attributeFromContract(input.heartbeatPort, false),
  replication_port: attributeFromContract(input.replicationPort, false),
  heartbeat_interval_ms: attributeFromContract(input.heartbeatIntervalMs, false),
  dead_time_ms: attributeFromContract(input.deadTimeMs, false),
  prefer_primary: attributeFromContract(input.preferPrimary, false),
  ...computedFromContract(contract.HaPair, ['state', 'role', 'local_endpoint', 'peer_address', 'paired_at']),
};

function fromApi(pair: HaPair): ObjectValue | null {
  if (pair.state !== 'paired') return null;
  return {
    id: PAIR_ID,
    peer_endpoint: pair.peerEndpoint ?? null,
    peer_password: null,
    peer_fingerprint_sha256: pair.peerFingerprintSha256 ?? null,
    local_address: pair.localAddress ?? null,
    heartbeat_port: pair.heartbeatPort ?? null,
    replication_port: pair.replicationPort ?? null,
    heartbeat_interval_ms: pair.heartbeatIntervalMs ?? null,
    dead_time_ms: pair.deadTimeMs ?? null,
    prefer_primary: pair.preferPrimary ?? null,
    state: pair.state,
    role: pair.role ?? null,
    local_endpoint: pair.localEndpoint ?? null,
    peer_address: pair.peerAddress ?? null,
    paired_at: pair.pairedAt ?? null,
  };
}

async function get(ctx: ResourceContext): Promise<ObjectValue | null> {
  const pair = await unlessGone(ctx.client.getHaPair({ signal: ctx.signal }));
  return pair && fromApi(pair);
}

function required(pair: ObjectValue | null, what: string): ObjectValue {
  if (!pair) throw new ResourceError(ResourceErrorCode.NotFound, `the appliance reports no HA pair after ${what}`);
  return pair;
}

/** The HA pair resource. */
export const haPair: ResourceDefinition = {
  kind: 'resource',
  name: 'ha_pair',
  typeName: 'HAPair',
  description:
    'The active/passive HA pair of the configured appliance (the primary) and a secondary. Pairing copies the primary\'s configuration and users to the secondary; afterwards every change goes to the primary. Destroying the resource breaks the pair: both nodes stay standalone with their configuration.',
  attributes: haPairAttributes,
  importId: { format: 'ha-pair', example: 'ha-pair' },
  example: `resource "lbappliance_ha_pair" "pair" {
  peer_endpoint  = "https://10.10.40.12:9443"
  peer_password  = var.secondary_password # write-only: used once, to pair
  dead_time_ms   = 1500
  prefer_primary = false
}`,
  async create(ctx, inputs) {
    const body: Record<string, unknown> = { peerEndpoint: str(inputs, 'peer_endpoint'), peerPassword: str(inputs, 'peer_password') };
    for (const name of ['peer_fingerprint_sha256', 'local_address', ...SETTINGS]) {
      const v = inputs[name];
      if (v !== null && v !== undefined && typeof v !== 'symbol') body[camelCase(name)] = v;
    }
    return required(fromApi(await ctx.client.createHaPair(body as unknown as HaPairInput, { signal: ctx.signal })), 'pairing');
  },
  async read(ctx) {
    return get(ctx);
  },
  async update(ctx, prior, inputs) {
    const patch: Record<string, unknown> = {};
    for (const name of SETTINGS) if (!valuesEqual(prior[name], inputs[name])) patch[camelCase(name)] = inputs[name];
    if (Object.keys(patch).length === 0) return { ...prior, ...(await get(ctx)) };
    return required(fromApi(await ctx.client.updateHaPair(patch, { signal: ctx.signal })), 'changing it');
  },
  async delete(ctx) {
    await unlessGone(ctx.client.deleteHaPair({ signal: ctx.signal }));
  },
  async import(ctx, id) {
    if (id !== PAIR_ID) throw new ResourceError(ResourceErrorCode.BadImportId, `import id ${JSON.stringify(id)} must be "${PAIR_ID}"`);
    return get(ctx);
  },
};
