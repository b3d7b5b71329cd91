// Data source lbappliance_virtual_service: looks a virtual service up by its label.
import type { components } from '../../openapi/generated/types.js';
import { fromApiBody } from './mapping.js';
import { ResourceError, ResourceErrorCode } from './errors.js';
import { allComputed } from './schema.js';
import type { DataSourceDefinition } from './types.js';
import { str } from './values.js';
import { virtualServiceAttributes } from './virtual-service.js';

type VirtualService = components['schemas']['VirtualService'];

const attributes = {
  ...allComputed(virtualServiceAttributes),
  label: { ...virtualServiceAttributes.label!, description: `The label to look up. ${virtualServiceAttributes.label!.description}` },
};

/** The virtual_service data source. */
export const virtualServiceData: DataSourceDefinition = {
  kind: 'data-source',
  name: 'virtual_service',
  typeName: 'VirtualService',
  description: 'Looks up an existing virtual service (VIP) by its label, e.g. to attach real servers to a VIP managed elsewhere.',
  attributes,
  example: `data "lbappliance_virtual_service" "avs" {
  label = "AVS"
}`,
  async read(ctx, config) {
    const label = str(config, 'label');
    const list = await ctx.client.listVirtualServices({ query: { label }, signal: ctx.signal });
    const vs = list.items[0] as VirtualService | undefined;
    if (!vs) throw new ResourceError(ResourceErrorCode.NotFound, `no virtual service is labelled ${JSON.stringify(label)}`, ['label']);
    return { ...fromApiBody(attributes, vs as unknown as Record<string, unknown>) };
  },
};
