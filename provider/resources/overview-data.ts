// Data source lbappliance_overview: the System Overview (every VIP and real server with its
// health and connections, and the node's HA role), as the API's getOverview reports it.
import { contract } from './generated/contract.js';
import { fromApiBody } from './mapping.js';
import { computedFromContract } from './schema.js';
import type { Attribute, Attributes, DataSourceDefinition } from './types.js';

const realServer = computedFromContract(contract.OverviewRealServer, ['id', 'label', 'address', 'port', 'weight', 'backup', 'admin_state', 'health', 'colour', 'connections']);
const virtualService: Attributes = {
  ...computedFromContract(contract.OverviewVirtualService, ['id', 'label', 'ip_address', 'ports', 'protocol', 'persistence', 'state', 'colour', 'connections', 'listening', 'error']),
  real_servers: {
    type: { kind: 'list', element: { kind: 'object', attributes: realServer } },
    description: contract.OverviewVirtualService.properties.realServers.description,
    computed: true,
  },
};
const node: Attribute = {
  ...computedFromContract(contract.Overview, ['node']).node!,
  type: { kind: 'object', attributes: computedFromContract(contract.Overview.properties.node, ['name', 'version', 'engine', 'ha_role', 'ha_state']) },
};
const attributes: Attributes = {
  id: { type: { kind: 'string' }, description: 'Always `overview`.', computed: true },
  ...computedFromContract(contract.Overview, ['revision', 'generated_at']),
  node,
  virtual_services: {
    type: { kind: 'list', element: { kind: 'object', attributes: virtualService } },
    description: contract.Overview.properties.virtualServices.description,
    computed: true,
  },
};

/** The overview data source. */
export const overviewData: DataSourceDefinition = {
  kind: 'data-source',
  name: 'overview',
  typeName: 'Overview',
  description: 'The System Overview: every virtual service with its real servers, their health (green/yellow/red), open connections, and this node\'s HA role.',
  attributes,
  example: `data "lbappliance_overview" "now" {}

output "vip_colours" {
  value = { for vs in data.lbappliance_overview.now.virtual_services : vs.label => vs.colour }
}`,
  async read(ctx) {
    const overview = await ctx.client.getOverview({ signal: ctx.signal });
    return { id: 'overview', ...fromApiBody(attributes, overview as unknown as Record<string, unknown>, ['id']) };
  },
};
