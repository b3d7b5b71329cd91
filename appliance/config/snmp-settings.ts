// The SNMP settings as stored: the contract's SnmpSettingsSpec with every default filled in
// and every secret present (the agent and the notifier need them, the secondary of a pair
// receives them with the revision). Secrets are write-only: `snmpSettingsView` is the only
// way the settings leave the appliance in the clear (reads, audit entries, GET /config), and
// it has none; a disaster-recovery backup carries them only sealed under its passphrase
// (config/backup-secrets.ts). A write may leave a secret out for a community, user or
// destination that keeps its name: the stored one is kept, so a tool that never reads
// secrets back (Terraform, Pulumi) can send the rest unchanged.
import type { components } from '../../openapi/generated/types.js';
import { ApplianceError } from '../errors.js';

type Schemas = components['schemas'];

/** The key of the one SNMP settings object in StoredConfig.snmp. */
export const SNMP_SETTINGS_KEY = 'settings';

/** A v2c community as stored. */
export interface StoredSnmpCommunity {
  name: string;
  community: string;
}

/** A v3 user as stored (authPriv). */
export interface StoredSnmpUser {
  name: string;
  authProtocol: NonNullable<Schemas['SnmpUser']['authProtocol']>;
  authPassword: string;
  privProtocol: NonNullable<Schemas['SnmpUser']['privProtocol']>;
  privPassword: string;
}

/** A notification receiver as stored. */
export interface StoredSnmpTrapDestination {
  name: string;
  address: string;
  port: number;
  version: 'v2c' | 'v3';
  /** The v2c community (null for v3). */
  community: string | null;
  /** The v3 user's name (null for v2c). */
  user: string | null;
}

/** The SNMP settings as stored. */
export interface StoredSnmpSettings {
  enabled: boolean;
  listenAddress: string;
  nodeListenAddresses: Record<string, string>;
  port: number;
  contact: string;
  location: string;
  communities: StoredSnmpCommunity[];
  users: StoredSnmpUser[];
  trapDestinations: StoredSnmpTrapDestination[];
  informTimeoutMs: number;
  informRetries: number;
}

/** The settings of an appliance that never had SNMP written: off. */
export function defaultSnmpSettings(): StoredSnmpSettings {
  return {
    enabled: false,
    listenAddress: '0.0.0.0',
    nodeListenAddresses: {},
    port: 161,
    contact: '',
    location: '',
    communities: [],
    users: [],
    trapDestinations: [],
    informTimeoutMs: 5000,
    informRetries: 3,
  };
}

/** The settings of every configuration without any: one object, so a reader that follows the settings by identity sees no change. */
const UNSET: StoredSnmpSettings = Object.freeze(defaultSnmpSettings());

/** The stored settings of a configuration (the defaults when none were written; not to be changed). */
export function snmpSettingsOf(config: { snmp?: Record<string, StoredSnmpSettings> }): StoredSnmpSettings {
  return config.snmp?.[SNMP_SETTINGS_KEY] ?? UNSET;
}

/** The settings as a read shows them: no secret. */
export function snmpSettingsView(s: StoredSnmpSettings): Schemas['SnmpSettingsSpec'] & Required<Pick<Schemas['SnmpSettingsSpec'], 'communities' | 'users' | 'trapDestinations'>> {
  return {
    enabled: s.enabled,
    listenAddress: s.listenAddress,
    nodeListenAddresses: { ...s.nodeListenAddresses },
    port: s.port,
    contact: s.contact,
    location: s.location,
    communities: s.communities.map((c) => ({ name: c.name })),
    users: s.users.map((u) => ({ name: u.name, authProtocol: u.authProtocol, privProtocol: u.privProtocol })),
    trapDestinations: s.trapDestinations.map((d) => ({ name: d.name, address: d.address, port: d.port, version: d.version, user: d.user })),
    informTimeoutMs: s.informTimeoutMs,
    informRetries: s.informRetries,
  };
}

function refused(field: string, message: string): ApplianceError {
  return new ApplianceError('LB_VALIDATION', message, { field });
}

function uniqueNames(items: readonly { name: string }[], at: string): void {
  const seen = new Set<string>();
  for (const [i, item] of items.entries()) {
    if (seen.has(item.name)) throw refused(`${at}/${i}/name`, `${at.slice(1)} name ${item.name} is used twice`);
    seen.add(item.name);
  }
}

/** A secret given, or the stored one of the item with the same name, or a refusal naming the field. */
function secret(given: string | undefined, kept: string | undefined, field: string, what: string): string {
  if (given !== undefined) return given;
  if (kept !== undefined) return kept;
  throw refused(field, `${what} is required for a new entry (write-only: a stored one is kept only for an entry that keeps its name)`);
}

/**
 * The stored settings a write makes from the contract-checked `input` (defaults filled in)
 * and the settings stored now: secrets left out are kept by name; names are unique; a v2c
 * destination has a community, a v3 destination names one of `users`.
 */
export function storedSnmpSettings(input: Schemas['SnmpSettingsSpec'], current: StoredSnmpSettings): StoredSnmpSettings {
  const d = defaultSnmpSettings();
  const communities = (input.communities ?? []).map((c, i) => ({
    name: c.name,
    community: secret(c.community, current.communities.find((k) => k.name === c.name)?.community, `/communities/${i}/community`, `community ${c.name}'s community string`),
  }));
  const users = (input.users ?? []).map((u, i): StoredSnmpUser => {
    const kept = current.users.find((k) => k.name === u.name);
    return {
      name: u.name,
      authProtocol: u.authProtocol ?? 'sha',
      authPassword: secret(u.authPassword, kept?.authPassword, `/users/${i}/authPassword`, `user ${u.name}'s authPassword`),
      privProtocol: u.privProtocol ?? 'aes',
      privPassword: secret(u.privPassword, kept?.privPassword, `/users/${i}/privPassword`, `user ${u.name}'s privPassword`),
    };
  });
  const trapDestinations = (input.trapDestinations ?? []).map((t, i): StoredSnmpTrapDestination => {
    const kept = current.trapDestinations.find((k) => k.name === t.name);
    if (t.version === 'v2c') {
      if (t.user !== undefined && t.user !== null) throw refused(`/trapDestinations/${i}/user`, `trap destination ${t.name} is v2c: it has a community, not a user`);
      return { name: t.name, address: t.address, port: t.port ?? 162, version: 'v2c', community: secret(t.community, kept?.community ?? undefined, `/trapDestinations/${i}/community`, `trap destination ${t.name}'s community`), user: null };
    }
    if (t.community !== undefined) throw refused(`/trapDestinations/${i}/community`, `trap destination ${t.name} is v3: its informs carry the credentials of a user, not a community`);
    if (!t.user || !users.some((u) => u.name === t.user)) throw refused(`/trapDestinations/${i}/user`, `trap destination ${t.name} is v3 and must name one of the users (${users.map((u) => u.name).join(', ') || 'none defined'})`);
    return { name: t.name, address: t.address, port: t.port ?? 162, version: 'v3', community: null, user: t.user };
  });
  uniqueNames(communities, '/communities');
  uniqueNames(users, '/users');
  uniqueNames(trapDestinations, '/trapDestinations');
  const settings: StoredSnmpSettings = {
    enabled: input.enabled ?? d.enabled,
    listenAddress: input.listenAddress ?? d.listenAddress,
    nodeListenAddresses: { ...(input.nodeListenAddresses ?? {}) },
    port: input.port ?? d.port,
    contact: input.contact ?? d.contact,
    location: input.location ?? d.location,
    communities,
    users,
    trapDestinations,
    informTimeoutMs: input.informTimeoutMs ?? d.informTimeoutMs,
    informRetries: input.informRetries ?? d.informRetries,
  };
  if (settings.enabled && communities.length === 0 && users.length === 0 && trapDestinations.length === 0) {
    throw refused('/enabled', 'SNMP is enabled with no community, no user and no trap destination: nothing could use it');
  }
  return settings;
}

/** Every secret of the settings (for the tests and checks that none leaks). */
export function snmpSecrets(s: StoredSnmpSettings): string[] {
  return [...s.communities.map((c) => c.community), ...s.users.flatMap((u) => [u.authPassword, u.privPassword]), ...s.trapDestinations.flatMap((t) => (t.community ? [t.community] : []))];
}
