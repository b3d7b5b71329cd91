// The provider's schema exactly as `terraform providers schema -json` prints it for
// lbappliance: the input of the CDKTF binding generator and of the generated docs. A test
// compares it with what the real terraform prints.
import { dataSources, resources } from '../resources/registry.js';
import { providerAttributes } from '../resources/provider-config.js';
import { jsonSchema, type JsonSchema } from './schema.js';
import { PROVIDER_DESCRIPTION, terraformTypeName } from './names.js';

/** The provider's source address. */
export const PROVIDER_SOURCE = 'registry.terraform.io/lbappliance/lbappliance';

/** The document `terraform providers schema -json` prints. */
export interface ProvidersSchemaJson {
  format_version: '1.0';
  provider_schemas: Record<string, { provider: JsonSchema; resource_schemas: Record<string, JsonSchema>; data_source_schemas: Record<string, JsonSchema> }>;
}

function sortedRecord<T>(entries: [string, T][]): Record<string, T> {
  return Object.fromEntries(entries.sort(([a], [b]) => a.localeCompare(b)));
}

/** The providers schema JSON of this provider. */
export function providersSchemaJson(): ProvidersSchemaJson {
  return {
    format_version: '1.0',
    provider_schemas: {
      [PROVIDER_SOURCE]: {
        provider: jsonSchema(providerAttributes, PROVIDER_DESCRIPTION),
        resource_schemas: sortedRecord(resources.map((r) => [terraformTypeName(r), jsonSchema(r.attributes, r.description)])),
        data_source_schemas: sortedRecord(dataSources.map((d) => [terraformTypeName(d), jsonSchema(d.attributes, d.description)])),
      },
    },
  };
}
