// lbappliance_syslog_collector: a collector the appliance sends its audit log and operational
// events to (RFC 5424 over udp, tcp or tls), its whole life over the SDK: create is POST,
// update PUT, delete DELETE, read GET (a collector removed outside Terraform is gone).
// Plan-time checks mirror the appliance's rules: `tls` needs `ca_pem`, the other transports
// take none.
// The SDK's types only: the client (undici) is loaded when the provider is configured.
import type { components } from '../../openapi/generated/types.js';
import { contract } from './generated/contract.js';
import { unlessGone, ResourceError, ResourceErrorCode } from './errors.js';
import { fromApiBody, toApiBody } from './mapping.js';
import { attributesFromContract, idAttribute } from './schema.js';
import { UNKNOWN, type Attributes, type Issue, type ObjectValue, type ResourceContext, type ResourceDefinition } from './types.js';
import { str } from './values.js';

type SyslogCollectorInput = components['schemas']['SyslogCollectorInput'];
type SyslogCollector = components['schemas']['SyslogCollector'];

const IMPORT_ID = /^syslog-[0-9a-f]{12}$/;
const spec = attributesFromContract(contract.SyslogCollectorSpec, { host: { format: 'host' } });

/** The attributes of a syslog collector. */
export const syslogCollectorAttributes: Attributes = {
  id: idAttribute(contract.SyslogCollector.properties.id.description),
  ...spec,
};

function fromApi(c: SyslogCollector): ObjectValue {
  return { id: c.id, ...fromApiBody(spec, c as unknown as Record<string, unknown>) };
}

async function get(ctx: ResourceContext, id: string): Promise<ObjectValue | null> {
  const c = await unlessGone(ctx.client.getSyslogCollector(id, { signal: ctx.signal }));
  return c && fromApi(c);
}

function body(inputs: ObjectValue): SyslogCollectorInput {
  return toApiBody(spec, inputs) as unknown as SyslogCollectorInput;
}

/** The syslog collector resource. */
export const syslogCollector: ResourceDefinition = {
  kind: 'resource',
  name: 'syslog_collector',
  typeName: 'SyslogCollector',
  description:
    'A syslog collector: the appliance sends its audit log and its operational events (real-server health, HA transitions, certificate expiry) to it as RFC 5424 messages over `udp`, `tcp` (octet counting) or `tls`. A `tcp` or `tls` collector that cannot be reached gets a bounded queue and reconnects with backoff. Replicated to the HA secondary with the rest of the configuration.',
  attributes: syslogCollectorAttributes,
  importId: { format: 'syslog-xxxxxxxxxxxx (the collector id)', example: 'syslog-0123456789ab' },
  example: `resource "lbappliance_syslog_collector" "noc" {
  label     = "noc-syslog"
  host      = "10.10.40.30"
  port      = 6514
  transport = "tls"
  ca_pem    = file("noc-ca.pem")
  facility  = "local3"
}`,
  validate(config): Issue[] {
    const transport = config.transport;
    const ca = config.ca_pem;
    if (transport === UNKNOWN || ca === UNKNOWN) return [];
    if (transport === 'tls' && (ca === null || ca === undefined)) {
      return [{ path: ['ca_pem'], summary: 'a tls collector needs ca_pem', detail: 'Give the PEM certificate of the CA that signed the collector\'s certificate.', code: 'LB_INVALID_COMBINATION' }];
    }
    if (transport !== 'tls' && ca !== null && ca !== undefined) {
      return [{ path: ['ca_pem'], summary: `ca_pem is for the tls transport, not ${String(transport)}`, detail: 'Remove ca_pem or use transport = "tls".', code: 'LB_INVALID_COMBINATION' }];
    }
    return [];
  },
  async create(ctx, inputs) {
    return fromApi(await ctx.client.createSyslogCollector(body(inputs), { signal: ctx.signal }));
  },
  async read(ctx, state) {
    return get(ctx, str(state, 'id'));
  },
  async update(ctx, prior, inputs) {
    return fromApi(await ctx.client.replaceSyslogCollector(str(prior, 'id'), body(inputs), { signal: ctx.signal }));
  },
  async delete(ctx, state) {
    await unlessGone(ctx.client.deleteSyslogCollector(str(state, 'id'), { signal: ctx.signal }));
  },
  async import(ctx, id) {
    if (!IMPORT_ID.test(id)) throw new ResourceError(ResourceErrorCode.BadImportId, `import id ${JSON.stringify(id)} is not of the form ${this.importId.format}`);
    return get(ctx, id);
  },
};
