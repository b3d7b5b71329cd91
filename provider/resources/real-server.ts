// lbappliance_real_server: a real server (RIP) in a virtual service's pool, its whole life
// over the SDK. A server cannot move between virtual services, so a new
// `virtual_service_id` replaces it. Deleting drains it first: no new sessions, then a
// bounded wait for its open connections to finish, then removal.
import { setTimeout as sleep } from 'node:timers/promises';
// The SDK's errors and types only: the client (undici) is loaded when the provider is configured.
import { NotFoundError } from '../../openapi/sdk/errors.js';
import type { components } from '../../openapi/generated/types.js';
import { contract } from './generated/contract.js';
import { fromApiBody, toApiBody } from './mapping.js';
import { ResourceError, ResourceErrorCode, unlessGone } from './errors.js';
import { attributesFromContract, idAttribute } from './schema.js';
import type { Attributes, ObjectValue, ResourceContext, ResourceDefinition } from './types.js';
import { numOrNull, str } from './values.js';
import { readCache, writing } from './read-cache.js';

type RealServerInput = components['schemas']['RealServerInput'];
type RealServer = components['schemas']['RealServer'];

const IMPORT_ID = /^(vs-[0-9a-f]{12})\/(rs-[0-9a-f]{12})$/;
const DRAIN_POLL_MS = 250;
const DEFAULT_DRAIN_TIMEOUT = 30;

const spec = attributesFromContract(contract.RealServerSpec, { address: { format: 'host' } });

/** The attributes of a real server. */
export const realServerAttributes: Attributes = {
  id: idAttribute(contract.RealServer.properties.id.description),
  virtual_service_id: {
    type: { kind: 'string', pattern: contract.RealServer.properties.virtualServiceId.pattern },
    description: 'Id of the virtual service whose pool this server belongs to.',
    required: true,
    replaceOnChange: true,
  },
  ...spec,
  drain_timeout: {
    type: { kind: 'integer', minimum: 0, maximum: 3600 },
    description: 'Seconds to wait, when the server is deleted, for its open connections to finish after it has been set to `drain` (0 deletes at once). Provider-side only: not sent to the appliance.',
    optional: true,
    computed: true,
    default: DEFAULT_DRAIN_TIMEOUT,
  },
};

function fromApi(rs: RealServer, drainTimeout: number | null): ObjectValue {
  return {
    id: rs.id,
    virtual_service_id: rs.virtualServiceId,
    ...fromApiBody(spec, rs as unknown as Record<string, unknown>),
    drain_timeout: drainTimeout ?? DEFAULT_DRAIN_TIMEOUT,
  };
}

function body(inputs: ObjectValue): RealServerInput {
  return toApiBody(spec, inputs) as unknown as RealServerInput;
}

async function get(ctx: ResourceContext, vsId: string, rsId: string, drainTimeout: number | null): Promise<ObjectValue | null> {
  const rs = await unlessGone(ctx.client.getRealServer(vsId, rsId, { signal: ctx.signal }));
  return rs && fromApi(rs, drainTimeout);
}

/** Sets the server to drain and waits until it has no connections or the timeout passes. */
async function drain(ctx: ResourceContext, vsId: string, rsId: string, timeoutSeconds: number): Promise<void> {
  if (timeoutSeconds <= 0) return;
  await ctx.client.updateRealServer(vsId, rsId, { adminState: 'drain' }, { signal: ctx.signal });
  const deadline = Date.now() + timeoutSeconds * 1000;
  for (;;) {
    const rs = await ctx.client.getRealServer(vsId, rsId, { signal: ctx.signal });
    const open = rs.status?.connections ?? 0;
    if (open === 0) return;
    if (Date.now() >= deadline) {
      ctx.log.warn('drain timeout: deleting a real server that still has connections', { virtual_service_id: vsId, id: rsId, connections: open });
      return;
    }
    ctx.log.debug('draining real server', { id: rsId, connections: open });
    await sleep(DRAIN_POLL_MS, undefined, { signal: ctx.signal });
  }
}

/** The real server resource. */
export const realServer: ResourceDefinition = {
  kind: 'resource',
  name: 'real_server',
  typeName: 'RealServer',
  description:
    'A real server (RIP): one backend in a virtual service\'s pool. Deleting it drains it first (no new sessions, open connections may finish for up to `drain_timeout` seconds).',
  attributes: realServerAttributes,
  importId: { format: 'vs-xxxxxxxxxxxx/rs-xxxxxxxxxxxx (virtual service id, a slash, real server id)', example: 'vs-0123456789ab/rs-0123456789ab' },
  example: `resource "lbappliance_real_server" "server1" {
  virtual_service_id = lbappliance_virtual_service.avs.id
  label              = "SERVER1"
  address            = "10.10.40.6"
  port               = 443
  weight             = 100
}`,
  async create(ctx, inputs) {
    const vsId = str(inputs, 'virtual_service_id');
    const created = await writing(ctx.client, () => ctx.client.createRealServer(vsId, body(inputs), { signal: ctx.signal })).catch((err: unknown) => {
      // The appliance answers 404 on the path's virtual service: point at the attribute that named it.
      if (err instanceof NotFoundError) throw new ResourceError(ResourceErrorCode.NotFound, `virtual service ${vsId} does not exist on the appliance`, ['virtual_service_id']);
      throw err;
    });
    return fromApi(created, numOrNull(inputs, 'drain_timeout'));
  },
  async read(ctx, state) {
    // From the configuration the provider read once for the whole refresh (read-cache.ts).
    const vsId = str(state, 'virtual_service_id');
    const id = str(state, 'id');
    const rs = (await readCache(ctx.client).config(ctx.signal)).realServers[id];
    return rs && rs.virtualServiceId === vsId ? fromApi({ id, ...rs } as RealServer, numOrNull(state, 'drain_timeout')) : null;
  },
  async update(ctx, prior, inputs) {
    const updated = await writing(ctx.client, () => ctx.client.replaceRealServer(str(prior, 'virtual_service_id'), str(prior, 'id'), body(inputs), { signal: ctx.signal }));
    return fromApi(updated, numOrNull(inputs, 'drain_timeout'));
  },
  async delete(ctx, state) {
    const vsId = str(state, 'virtual_service_id');
    const rsId = str(state, 'id');
    try {
      await writing(ctx.client, async () => {
        await drain(ctx, vsId, rsId, numOrNull(state, 'drain_timeout') ?? DEFAULT_DRAIN_TIMEOUT);
        await ctx.client.deleteRealServer(vsId, rsId, { signal: ctx.signal });
      });
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
  },
  async import(ctx, id) {
    const m = IMPORT_ID.exec(id);
    if (!m) throw new ResourceError(ResourceErrorCode.BadImportId, `import id ${JSON.stringify(id)} is not of the form ${this.importId.format}`);
    return get(ctx, m[1]!, m[2]!, null);
  },
};
