// A whole configuration that arrives already stored elsewhere (the HA primary's replicated
// revisions) skips the mutations that build a configuration from checked input, so the store
// checks it before taking it: the shape every reader of a StoredConfig relies on (the rules,
// the snapshot builder, the engines), then the rules on every object. A document that fails
// is refused with the offending field and nothing is stored.
import { ApplianceError } from '../errors.js';
import { emptyConfig, missingMap, withAllMaps, type StoredConfig } from './model.js';
import { checkRules, type RuleEnvironment } from './rules.js';
import { withContractDefaults } from './contract-defaults.js';

type Fields = Record<string, (v: unknown) => boolean>;

const isString = (v: unknown): boolean => typeof v === 'string';
const isPort = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 65535;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What each collection's objects must carry for the rules and the snapshot builder to read them. */
const COLLECTIONS: Record<keyof StoredConfig, Fields> = {
  virtualServices: {
    label: isString,
    ipAddress: isString,
    protocol: isString,
    ports: (v) => Array.isArray(v) && v.length > 0 && v.every(isPort),
    certificateId: (v) => v === null || isString(v),
  },
  realServers: {
    virtualServiceId: isString,
    label: isString,
    address: isString,
    port: (v) => v === null || isPort(v),
  },
  certificates: {
    label: isString,
    chainPem: isString,
    keyRef: (v) => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v),
    fingerprintSha256: isString,
  },
  snmp: {
    enabled: (v) => typeof v === 'boolean',
    listenAddress: isString,
    port: isPort,
    communities: Array.isArray,
    users: Array.isArray,
    trapDestinations: Array.isArray,
  },
  syslogCollectors: {
    label: isString,
    host: isString,
    transport: (v) => v === 'udp' || v === 'tcp' || v === 'tls',
    port: (v) => v === null || isPort(v),
  },
  alertMail: {
    host: isString,
    port: isPort,
    from: isString,
    to: (v) => Array.isArray(v) && v.length > 0 && v.every(isString),
    passwordRef: (v) => v === null || (typeof v === 'string' && /^[0-9a-f]{64}$/.test(v)),
  },
};

function invalid(field: string, message: string): ApplianceError {
  return new ApplianceError('LB_VALIDATION', message, { field });
}

/**
 * Throws LB_VALIDATION naming the field (a JSON Pointer within the configuration) unless
 * `config` has the shape of a StoredConfig, then the first rule it breaks (its own code).
 */
export function checkStoredConfig(config: unknown, rules: RuleEnvironment): asserts config is StoredConfig {
  if (!isObject(config)) throw invalid('', 'the configuration must be an object');
  for (const name of Object.keys(config)) {
    if (!(name in COLLECTIONS)) throw invalid(`/${name}`, `a configuration holds only ${Object.keys(COLLECTIONS).join(', ')}`);
  }
  // A primary running an earlier version sends no collection added since (CONFIG_MAP_SINCE:
  // syslog collectors, mail, SNMP), which are then empty; the ones every version sends must
  // be there. Presence is checked here, once, for every collection.
  withAllMaps(config as Partial<StoredConfig>);
  const missing = missingMap(config);
  if (missing) throw invalid(`/${missing}`, `${missing} must be an object of objects by id`);
  for (const [name, fields] of Object.entries(COLLECTIONS)) {
    const collection = config[name] as Record<string, unknown>;
    for (const [id, item] of Object.entries(collection)) {
      const at = `/${name}/${id.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      if (!isObject(item)) throw invalid(at, `${name} ${id} must be an object`);
      for (const [field, ok] of Object.entries(fields)) {
        if (!ok(item[field])) throw invalid(`${at}/${field}`, `${name} ${id} has no valid ${field}`);
      }
    }
  }
  // A primary running an earlier version sends objects without the settings added since.
  withContractDefaults(config as unknown as StoredConfig);
  // Every object is new relative to an empty configuration: the rules check them all.
  checkRules(emptyConfig(), config as unknown as StoredConfig, rules);
}
