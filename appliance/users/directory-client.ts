// One directory login over LDAP (ldapts): connect with TLS (LDAPS, or StartTLS on ldap://)
// verifying the server against the configured CA, bind as the service account, find the
// user, bind as the user with the password given, then find the user's groups (`member`
// search or the entry's `memberOf`) and map them to the highest role. The whole exchange is
// bounded by the settings' timeoutMs: a directory that is down or slow is an error of its
// own (DirectoryUnavailableError), never a wrong password.
import { isIP } from 'node:net';
import { Client, InvalidCredentialsError } from 'ldapts';
import { highestRole, type Role } from './roles.js';
import type { DirectorySettings } from './directory-settings.js';

/** The directory could not be asked (unreachable, slow, TLS failure, refused service bind). */
export class DirectoryUnavailableError extends Error {
  override readonly name = 'DirectoryUnavailableError';
}

/** What a directory login decided. */
export type DirectoryVerdict =
  | { kind: 'accepted'; role: Role; dn: string }
  | { kind: 'wrong-password' }
  | { kind: 'no-such-user' }
  | { kind: 'no-role'; dn: string };

/** Escapes a value for an LDAP filter (RFC 4515). */
export function escapeFilterValue(value: string): string {
  return value.replace(/[\\*()\0]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** A DN in a form two spellings of the same DN share (case and spaces around separators). */
export function normaliseDn(dn: string): string {
  return dn.trim().toLowerCase().replace(/\s*([,=+])\s*/g, '$1');
}

function values(attr: unknown): string[] {
  if (attr === undefined || attr === null) return [];
  const list = Array.isArray(attr) ? attr : [attr];
  return list.map((v) => (Buffer.isBuffer(v) ? v.toString('utf8') : String(v)));
}

/** Checks a user name and password against the directory. */
export async function directoryLogin(settings: DirectorySettings, username: string, password: string): Promise<DirectoryVerdict> {
  // An empty password would be an anonymous bind, which LDAP servers accept: never a login.
  if (password === '') return { kind: 'wrong-password' };
  const deadline = settings.timeoutMs ?? 5000;
  const tlsOptions = { ca: [settings.caPem], minVersion: 'TLSv1.2' as const };
  const client = new Client({
    url: settings.url,
    timeout: deadline,
    connectTimeout: deadline,
    strictDN: false,
    ...(settings.startTls ? {} : { tlsOptions }),
  });
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DirectoryUnavailableError(`the directory did not answer within ${deadline} ms`)), deadline);
  });
  try {
    return await Promise.race([exchange(client, settings, username, password, tlsOptions), expired]);
  } finally {
    clearTimeout(timer);
    void client.unbind().catch(() => undefined);
  }
}

async function exchange(client: Client, s: DirectorySettings, username: string, password: string, tlsOptions: { ca: string[] }): Promise<DirectoryVerdict> {
  const unavailable = (what: string) => (err: unknown) => {
    throw new DirectoryUnavailableError(`${what}: ${(err as Error).message || (err as Error).name}`, { cause: err });
  };
  // The server's name is checked against the URL's host (ldapts leaves it unset on StartTLS).
  const host = new URL(s.url).hostname.replace(/^\[|\]$/g, '');
  const identity = isIP(host) ? { host } : { host, servername: host };
  if (s.startTls) await client.startTLS({ ...tlsOptions, ...identity }).catch(unavailable('StartTLS with the directory failed'));
  await client.bind(s.bindDn, s.bindPassword).catch(unavailable('the directory refused the bind account'));
  const filter = (s.userFilter ?? '(uid={username})').split('{username}').join(escapeFilterValue(username));
  const wantMemberOf = s.groupSearch === 'memberOf';
  const found = await client
    .search(s.userBaseDn, { scope: 'sub', filter, attributes: wantMemberOf ? ['memberOf'] : ['1.1'], sizeLimit: 2 })
    .catch(unavailable('the user search failed'));
  // Zero or several entries: no single user by this name.
  if (found.searchEntries.length !== 1) return { kind: 'no-such-user' };
  const entry = found.searchEntries[0] as { dn: string; memberOf?: unknown };
  try {
    await client.bind(entry.dn, password);
  } catch (err) {
    if (err instanceof InvalidCredentialsError) return { kind: 'wrong-password' };
    unavailable('the user bind failed')(err);
  }
  let groups: string[];
  if (wantMemberOf) groups = values(entry.memberOf);
  else {
    // Searched as the bind account again: the user may not be allowed to read the groups.
    await client.bind(s.bindDn, s.bindPassword).catch(unavailable('the directory refused the bind account'));
    const groupFilter = (s.groupFilter ?? '(member={dn})').split('{dn}').join(escapeFilterValue(entry.dn));
    const result = await client.search(s.groupBaseDn ?? s.userBaseDn, { scope: 'sub', filter: groupFilter, attributes: ['1.1'] }).catch(unavailable('the group search failed'));
    groups = result.searchEntries.map((g) => g.dn);
  }
  const mine = new Set(groups.map(normaliseDn));
  const role = highestRole(s.roleMappings.filter((m) => mine.has(normaliseDn(m.group))).map((m) => m.role));
  return role === null ? { kind: 'no-role', dn: entry.dn } : { kind: 'accepted', role, dn: entry.dn };
}
