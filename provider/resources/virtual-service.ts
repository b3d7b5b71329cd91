// lbappliance_virtual_service: a VIP, its whole life over the SDK. Every writable property
// of the contract's VirtualServiceSpec is an attribute; reads map 1:1 because the appliance
// fills every default, and updates replace the whole object (PUT), so an attribute removed
// from the configuration returns to the contract's default.
// The SDK's types only: the client (undici) is loaded when the provider is configured.
import type { components } from '../../openapi/generated/types.js';
import { contract } from './generated/contract.js';
import { fromApiBody, toApiBody } from './mapping.js';
import { ResourceError, ResourceErrorCode, unlessGone } from './errors.js';
import { attributesFromContract, idAttribute } from './schema.js';
import type { Attributes, Issue, ObjectValue, ResourceContext, ResourceDefinition } from './types.js';
import { str } from './values.js';

type VirtualServiceInput = components['schemas']['VirtualServiceInput'];
type VirtualService = components['schemas']['VirtualService'];

const ID = /^vs-[0-9a-f]{12}$/;

/** The attributes of a virtual service (shared with the virtual_service data source). */
export const virtualServiceAttributes: Attributes = {
  id: idAttribute(contract.VirtualService.properties.id.description),
  ...attributesFromContract(contract.VirtualServiceSpec, { ip_address: { format: 'ip' } }),
};

function fromApi(vs: VirtualService): ObjectValue {
  return { id: vs.id, ...fromApiBody(virtualServiceAttributes, vs as unknown as Record<string, unknown>, ['id']) };
}

function body(inputs: ObjectValue): VirtualServiceInput {
  return toApiBody(virtualServiceAttributes, inputs, ['id']) as unknown as VirtualServiceInput;
}

async function get(ctx: ResourceContext, id: string): Promise<ObjectValue | null> {
  const vs = await unlessGone(ctx.client.getVirtualService(id, { signal: ctx.signal }));
  return vs && fromApi(vs);
}

/** The virtual service resource. */
export const virtualService: ResourceDefinition = {
  kind: 'resource',
  name: 'virtual_service',
  typeName: 'VirtualService',
  description:
    'A virtual service (VIP): an address and one or more ports on which the appliance accepts clients and balances them over the real servers (`lbappliance_real_server`) attached to it, with optional TLS termination, persistence and health checks.',
  attributes: virtualServiceAttributes,
  importId: { format: 'vs-xxxxxxxxxxxx', example: 'vs-0123456789ab' },
  example: `resource "lbappliance_virtual_service" "avs" {
  label          = "AVS"
  ip_address     = "10.10.40.217"
  ports          = [443]
  protocol       = "http2"
  certificate_id = lbappliance_certificate.avs.id

  persistence = {
    mode = "http-cookie"
  }
  health_check = {
    type = "connect"
  }
}`,
  validate(config): Issue[] {
    const issues: Issue[] = [];
    if (config.protocol === 'http2' && config.certificate_id === null) {
      issues.push({ path: ['certificate_id'], summary: 'http2 needs a certificate', detail: 'A virtual service with protocol "http2" terminates TLS: set certificate_id.', code: 'LBP_CERTIFICATE_REQUIRED' });
    }
    if (config.force_https === true && typeof config.protocol === 'string' && config.protocol !== 'http') {
      issues.push({ path: ['force_https'], summary: 'force_https needs protocol "http"', detail: `force_https redirects plain HTTP clients; this virtual service's protocol is "${config.protocol}".`, code: 'LBP_FORCE_HTTPS_PROTOCOL' });
    }
    return issues;
  },
  async create(ctx, inputs) {
    return fromApi(await ctx.client.createVirtualService(body(inputs), { signal: ctx.signal }));
  },
  async read(ctx, state) {
    return get(ctx, str(state, 'id'));
  },
  async update(ctx, prior, inputs) {
    return fromApi(await ctx.client.replaceVirtualService(str(prior, 'id'), body(inputs), { signal: ctx.signal }));
  },
  async delete(ctx, state) {
    await unlessGone(ctx.client.deleteVirtualService(str(state, 'id'), { signal: ctx.signal }));
  },
  async import(ctx, id) {
    if (!ID.test(id)) throw new ResourceError(ResourceErrorCode.BadImportId, `import id ${JSON.stringify(id)} is not a virtual service id (${this.importId.format})`);
    return get(ctx, id);
  },
};
