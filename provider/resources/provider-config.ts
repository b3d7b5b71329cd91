// The provider's own settings, shared by the adapters: endpoint, credentials and TLS trust,
// each from the configuration or its LBAPPLIANCE_* environment variable.
import type { ApplianceClient } from '../../openapi/sdk/client.js';
import { DEFAULT_USERNAME } from '../../openapi/sdk/defaults.js';
import type { Attributes, Issue, ObjectValue, ProviderSettings } from './types.js';

/** The provider settings' attributes (all optional: the environment may supply them). */
export const providerAttributes: Attributes = {
  endpoint: {
    type: { kind: 'string', format: 'https-url' },
    description: 'The appliance\'s API endpoint, e.g. `https://10.10.40.2:9443`. Environment variable: `LBAPPLIANCE_ENDPOINT`.',
    optional: true,
  },
  username: {
    type: { kind: 'string' },
    description: 'API user name (default `loadbalancer`, the built-in administrator). Environment variable: `LBAPPLIANCE_USERNAME`.',
    optional: true,
  },
  password: {
    type: { kind: 'string' },
    description: 'The user\'s password. Environment variable: `LBAPPLIANCE_PASSWORD`.',
    optional: true,
    sensitive: true,
  },
  insecure: {
    type: { kind: 'bool' },
    description: 'Skip verification of the appliance\'s TLS certificate (its default certificate is self-signed; prefer `ca_pem`). Environment variable: `LBAPPLIANCE_INSECURE` (`true`/`1`).',
    optional: true,
  },
  ca_pem: {
    type: { kind: 'string' },
    description: 'PEM of the CA, or of the appliance\'s own self-signed certificate, to trust for the API. Environment variable: `LBAPPLIANCE_CA_PEM`.',
    optional: true,
  },
};

/** The environment variable of each setting. */
export const providerEnvironment = {
  endpoint: 'LBAPPLIANCE_ENDPOINT',
  username: 'LBAPPLIANCE_USERNAME',
  password: 'LBAPPLIANCE_PASSWORD',
  insecure: 'LBAPPLIANCE_INSECURE',
  ca_pem: 'LBAPPLIANCE_CA_PEM',
} as const;

/** Settings from the configuration, falling back to the environment; issues name what is missing. */
export function resolveSettings(config: ObjectValue, env: NodeJS.ProcessEnv = process.env): { settings: ProviderSettings | null; issues: Issue[] } {
  const pick = (name: keyof typeof providerEnvironment): string | undefined => {
    const v = config[name];
    if (typeof v === 'string') return v;
    if (typeof v === 'boolean') return String(v);
    const e = env[providerEnvironment[name]];
    return e === undefined || e === '' ? undefined : e;
  };
  const issues: Issue[] = [];
  const endpoint = pick('endpoint');
  const password = pick('password');
  if (!endpoint) issues.push({ path: ['endpoint'], summary: 'Missing appliance endpoint', detail: `Set endpoint in the provider block or ${providerEnvironment.endpoint}.`, code: 'LBP_CONFIGURATION' });
  else if (!/^https:\/\/[^\s/]+/.test(endpoint)) issues.push({ path: ['endpoint'], summary: 'Invalid appliance endpoint', detail: `endpoint must be an https:// URL; got ${JSON.stringify(endpoint)}.`, code: 'LBP_CONFIGURATION' });
  if (password === undefined) issues.push({ path: ['password'], summary: 'Missing password', detail: `Set password in the provider block or ${providerEnvironment.password}.`, code: 'LBP_CONFIGURATION' });
  const insecure = pick('insecure');
  if (insecure !== undefined && !/^(true|false|1|0)$/i.test(insecure)) issues.push({ path: ['insecure'], summary: 'Invalid insecure flag', detail: `${providerEnvironment.insecure} must be true, false, 1 or 0; got ${JSON.stringify(insecure)}.`, code: 'LBP_CONFIGURATION' });
  if (issues.length > 0) return { settings: null, issues };
  return {
    settings: {
      endpoint: endpoint!,
      username: pick('username') ?? DEFAULT_USERNAME,
      password: password!,
      insecure: insecure !== undefined && /^(true|1)$/i.test(insecure),
      caPem: pick('ca_pem') ?? null,
    },
    issues,
  };
}

/**
 * An SDK client for the settings. The SDK's transport (undici) is imported here, on first
 * use, because a plugin process that only answers schema or validation requests (most of
 * the processes terraform starts) should not pay ~90 ms to load it.
 */
export async function clientFor(settings: ProviderSettings): Promise<ApplianceClient> {
  const { ApplianceClient } = await import('../../openapi/sdk/client.js');
  return new ApplianceClient({
    endpoint: settings.endpoint,
    username: settings.username,
    password: settings.password,
    insecure: settings.insecure,
    ...(settings.caPem ? { caPem: settings.caPem } : {}),
  });
}
