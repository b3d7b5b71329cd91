// Data source lbappliance_certificate: looks a certificate's public details up by its label.
import type { components } from '../../openapi/generated/types.js';
import { contract } from './generated/contract.js';
import { fromApiBody } from './mapping.js';
import { ResourceError, ResourceErrorCode } from './errors.js';
import { attributeFromContract, computedFromContract } from './schema.js';
import type { Attributes, DataSourceDefinition } from './types.js';
import { str } from './values.js';

type Certificate = components['schemas']['Certificate'];

const props = contract.Certificate.properties;
const attributes: Attributes = {
  ...computedFromContract(contract.Certificate, ['id', 'source', 'subject', 'common_name', 'subject_alt_names', 'issuer', 'not_before', 'not_after', 'serial_number', 'fingerprint_sha256', 'key_type', 'chain_pem', 'self_signed', 'used_by']),
  label: { ...attributeFromContract(props.label, true), description: `The label to look up. ${props.label.description}` },
};

/** The certificate data source. */
export const certificateData: DataSourceDefinition = {
  kind: 'data-source',
  name: 'certificate',
  typeName: 'Certificate',
  description: 'Looks up a certificate\'s public details (never its private key) by its label, e.g. to terminate TLS on a virtual service with a certificate uploaded elsewhere.',
  attributes,
  example: `data "lbappliance_certificate" "avs" {
  label = "avs-tls"
}`,
  async read(ctx, config) {
    const label = str(config, 'label');
    const list = await ctx.client.listCertificates({ query: { label }, signal: ctx.signal });
    const cert = list.items[0] as Certificate | undefined;
    if (!cert) throw new ResourceError(ResourceErrorCode.NotFound, `no certificate is labelled ${JSON.stringify(label)}`, ['label']);
    return fromApiBody(attributes, cert as unknown as Record<string, unknown>);
  },
};
