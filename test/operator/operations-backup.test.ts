// The operations settings travel with the whole configuration (issue 18 leftovers): the
// syslog collectors, the e-mail alert, SNMP and directory settings are in `GET /config`
// without a secret, in a disaster-recovery backup with every secret sealed under the backup
// passphrase (opened here with the contract's documented scrypt + AES-256-GCM, and only with
// that passphrase), and a restore onto a brand-new appliance brings them back working: an
// SNMPv3 get with the restored user, a directory login against slapd, a syslog message at a
// UDP collector. A backup made before them leaves the settings in place; bad sections are
// refused with the offending field and change nothing; a rollback brings back the revision's
// operations settings but leaves the directory (kept with the users) as it is.
// Addresses 127.0.249.x belong to this file.
import { createDecipheriv, createCipheriv, randomBytes, scryptSync } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplianceProblemError, type ApplianceClient, type Config } from '../../openapi/sdk/index.js';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';
import { needProgram } from '../helpers/programs.js';
import { refusedWrite } from '../helpers/refused-write.js';
import { BIND_PASSWORD, directorySettings, startTestDirectory, userPassword, type TestDirectory } from '../helpers/slapd.js';
import { snmpTool } from '../helpers/snmp-tools.js';
import { until } from '../engine/helpers/wait.js';

const AGENT = '127.0.249.1';
const AGENT_PORT = 16261;
const TARGET = `udp:${AGENT}:${AGENT_PORT}`;
const DIRECTORY = '127.0.249.2';
const COLLECTOR = '127.0.249.3';
const COLLECTOR_PORT = 16514;
const PASSPHRASE = 'operations backup passphrase';

const COMMUNITY = 'dr-community-4b7e';
const TRAP_COMMUNITY = 'dr-trap-community-c1d0';
const USER = { name: 'drv3', authPassword: 'dr-auth-secret-81f3', privPassword: 'dr-priv-secret-2a9c' };
const MAIL_PASSWORD = 'smtp-secret-Yx4-never-shown';
const SECRETS = [COMMUNITY, TRAP_COMMUNITY, USER.authPassword, USER.privPassword, MAIL_PASSWORD, BIND_PASSWORD];

let dir: TestDirectory;
let old: TestAppliance;
let fresh: TestAppliance;
let collector: Socket;
const datagrams: string[] = [];
const insecure = new Agent({ connect: { rejectUnauthorized: false } });

const snmpSettings = (extra: Record<string, unknown> = {}) => ({
  enabled: true,
  listenAddress: AGENT,
  port: AGENT_PORT,
  contact: 'PACS team <pacs@example.test>',
  location: 'DR site',
  communities: [{ name: 'noc', community: COMMUNITY }],
  users: [{ name: USER.name, authProtocol: 'sha' as const, authPassword: USER.authPassword, privProtocol: 'aes' as const, privPassword: USER.privPassword }],
  trapDestinations: [{ name: 'nms', address: COLLECTOR, port: 16262, version: 'v2c' as const, community: TRAP_COMMUNITY }],
  ...extra,
});

/** The plaintext of a sealed value, as the contract's KeyEncryption describes it (throws if `passphrase` does not open it). */
function openSealed(doc: Config, sealed: string, passphrase: string): string {
  const enc = doc.keyEncryption as NonNullable<Config['keyEncryption']>;
  const key = scryptSync(passphrase, Buffer.from(enc.salt, 'base64'), 32, { N: enc.cost, r: 8, p: 1, maxmem: 256 * enc.cost * 8 });
  const bytes = Buffer.from(sealed, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12));
  decipher.setAuthTag(bytes.subarray(bytes.length - 16));
  return Buffer.concat([decipher.update(bytes.subarray(12, bytes.length - 16)), decipher.final()]).toString('utf8');
}

/** `plain` sealed under the backup's key (what a forged but well-encrypted section looks like). */
function seal(doc: Config, plain: string, passphrase: string): string {
  const enc = doc.keyEncryption as NonNullable<Config['keyEncryption']>;
  const key = scryptSync(passphrase, Buffer.from(enc.salt, 'base64'), 32, { N: enc.cost, r: 8, p: 1, maxmem: 256 * enc.cost * 8 });
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64');
}

/** The operations sections of a document, the directory's write time left out. */
function operations(doc: Config) {
  const { updatedAt: _t, ...directory } = (doc.directory ?? {}) as Record<string, unknown>;
  return { syslogCollectors: doc.syslogCollectors, alertMail: doc.alertMail, snmp: doc.snmp, directory: doc.directory ? directory : null };
}

/** GET `path` on `app` as a directory user (or another user). */
async function as(app: TestAppliance, user: string, password: string, path: string) {
  const res = await request(`${app.endpoint}${path}`, { headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` }, dispatcher: insecure });
  const text = await res.body.text();
  return { status: res.statusCode, text };
}

async function problemOf(write: Promise<unknown>): Promise<ApplianceProblemError> {
  const err = await write.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(ApplianceProblemError);
  return err as ApplianceProblemError;
}

let backup: Config;
let exported: Config;

beforeAll(async () => {
  for (const p of ['snmpget', 'slapd']) needProgram(p);
  dir = await startTestDirectory(DIRECTORY, 16460, 16489);
  collector = createSocket('udp4');
  collector.on('message', (m) => datagrams.push(m.toString('utf8')));
  await new Promise<void>((resolve) => collector.bind(COLLECTOR_PORT, COLLECTOR, resolve));
  old = await startTestAppliance();
  const client = old.client();
  await client.createSyslogCollector({ label: 'noc-udp', host: COLLECTOR, port: COLLECTOR_PORT, transport: 'udp', events: ['audit'] });
  await client.replaceAlertMail({ host: 'smtp.hospital.test', port: 587, username: 'lbappliance', password: MAIL_PASSWORD, from: 'lb@hospital.test', to: ['oncall@hospital.test'] });
  await client.replaceSnmpSettings(snmpSettings());
  await client.replaceDirectory(directorySettings(dir) as never);
}, 120_000);

afterAll(async () => {
  await old?.dispose();
  await fresh?.dispose();
  await dir?.dispose();
  await new Promise((resolve) => (collector ? collector.close(() => resolve(undefined)) : resolve(undefined)));
  await insecure.close();
});

describe('the operations settings in the whole configuration', () => {
  it('exports them with GET /config, never a secret', async () => {
    const doc = await old.client().getConfig();
    exported = doc;
    const text = JSON.stringify(doc);
    for (const secret of SECRETS) expect(text).not.toContain(secret);
    expect(Object.values(doc.syslogCollectors ?? {})).toEqual([expect.objectContaining({ label: 'noc-udp', host: COLLECTOR, port: COLLECTOR_PORT, transport: 'udp' })]);
    expect(doc.alertMail).toMatchObject({ host: 'smtp.hospital.test', username: 'lbappliance', passwordSet: true });
    expect(doc.alertMail).not.toHaveProperty('password');
    expect(doc.snmp).toMatchObject({ enabled: true, communities: [{ name: 'noc' }], users: [{ name: USER.name, authProtocol: 'sha', privProtocol: 'aes' }] });
    expect(doc.directory).toMatchObject({ url: dir.ldapsUrl, bindDn: expect.stringContaining('svc-lbappliance') });
    expect(doc.directory).not.toHaveProperty('bindPassword');
    expect(doc).not.toHaveProperty('encryptedSecrets');
  });

  it('seals every secret in a backup under its passphrase: present, never plain, opened only with that passphrase', async () => {
    backup = await old.client().exportBackup({ passphrase: PASSPHRASE });
    const text = JSON.stringify(backup);
    for (const secret of SECRETS) expect(text).not.toContain(secret);
    expect(backup.encryptedSecrets).toEqual(expect.any(String));
    const opened = JSON.parse(openSealed(backup, backup.encryptedSecrets as string, PASSPHRASE)) as Record<string, unknown>;
    expect(opened).toEqual({
      alertMail: { password: MAIL_PASSWORD },
      directory: { bindPassword: BIND_PASSWORD },
      snmp: { communities: { noc: COMMUNITY }, users: { [USER.name]: { authPassword: USER.authPassword, privPassword: USER.privPassword } }, trapDestinations: { nms: TRAP_COMMUNITY } },
    });
    expect(() => openSealed(backup, backup.encryptedSecrets as string, 'another passphrase entirely')).toThrow();
  });

  it('restores them onto a brand-new appliance, working: SNMPv3 get, directory login, syslog, every secret the same', async () => {
    // The old appliance is gone (its SNMP agent held the same address).
    await old.stop();
    fresh = await startTestAppliance();
    const client = fresh.client();
    expect((await client.getConfig()).snmp).toMatchObject({ enabled: false });
    const restored = await client.replaceConfig({ ...backup, keyPassphrase: PASSPHRASE } as never);
    expect(operations(restored)).toEqual(operations(backup));
    // SNMP: the restored v3 user reads sysLocation.
    const got = await until('an SNMPv3 answer from the restored user', async () => {
      const r = await snmpTool('snmpget', TARGET, { user: USER.name, authPassword: USER.authPassword, privPassword: USER.privPassword }, ['-On', '.1.3.6.1.2.1.1.6.0']);
      return r.ok && r.stdout.includes('DR site') ? r.stdout : undefined;
    }, 45_000);
    expect(got).toContain('.1.3.6.1.2.1.1.6.0 = STRING: "DR site"');
    // The directory: a directory administrator logs in with the restored bind account.
    const me = await as(fresh, 'ada', userPassword('ada'), '/api/v1/current-user');
    expect(me.status, me.text).toBe(200);
    expect(JSON.parse(me.text)).toMatchObject({ username: 'ada', role: 'admin', source: 'directory' });
    // Syslog: the next audit entry reaches the restored collector.
    await client.createVirtualService({ label: 'AFTER-DR', ipAddress: '127.0.249.20', ports: [8080], protocol: 'http' });
    await until('the audit entry at the collector', async () => (datagrams.some((d) => d.includes('createVirtualService')) ? true : undefined), 45_000);
    // Every secret is the one the old appliance had (the mail password included).
    const again = await client.exportBackup({ passphrase: PASSPHRASE });
    expect(JSON.parse(openSealed(again, again.encryptedSecrets as string, PASSPHRASE))).toEqual(JSON.parse(openSealed(backup, backup.encryptedSecrets as string, PASSPHRASE)));
  }, 180_000);

  it('refuses, naming the field, a document without secrets where the target keeps none (never a secret lost silently)', async () => {
    const other = await startTestAppliance();
    try {
      const client = other.client();
      const body = exported as Record<string, unknown>;
      const { directory: _d, ...noDirectory } = body;
      const { alertMail: _m, ...noMail } = noDirectory;
      expect((await refusedWrite(client, () => client.replaceConfig(body as never))).problem).toMatchObject({ code: 'LB_VALIDATION', field: '/directory/bindPassword' });
      expect((await refusedWrite(client, () => client.replaceConfig(noDirectory as never))).problem).toMatchObject({ code: 'LB_VALIDATION', field: '/alertMail/password' });
      expect((await refusedWrite(client, () => client.replaceConfig(noMail as never))).problem).toMatchObject({ code: 'LB_VALIDATION', field: '/snmp/communities/0/community' });
      // Without the sections that need secrets, the rest restores (the syslog collectors).
      const { snmp: _n, ...rest } = noMail;
      const after = await client.replaceConfig(rest as never);
      expect(after.syslogCollectors).toEqual(exported.syslogCollectors);
      expect(after.snmp).toMatchObject({ enabled: false });
    } finally {
      await other.dispose();
    }
  }, 120_000);

  it('leaves them as they are when a backup made before them is restored', async () => {
    const client = fresh.client();
    const before = await client.getConfig();
    const { syslogCollectors: _s, alertMail: _m, snmp: _n, directory: _d, encryptedSecrets: _e, ...legacy } = backup;
    const after = await client.replaceConfig({ ...legacy, keyPassphrase: PASSPHRASE } as never);
    expect(after.revision).toBeGreaterThan(before.revision);
    expect(operations(after)).toEqual(operations(before));
    const me = await as(fresh, 'ada', userPassword('ada'), '/api/v1/current-user');
    expect(me.status, me.text).toBe(200);
  });

  it('keeps secrets by name when GET /config is given back, and refuses a new entry without one', async () => {
    const client = fresh.client();
    const doc = await client.getConfig();
    const listening = () => fresh.output.filter((l) => l.includes('"SNMP agent listening"')).length;
    const agentStarts = listening();
    const same = await client.replaceConfig(doc as never);
    expect(operations(same)).toEqual(operations(doc));
    // Unchanged settings stay the same objects: the SNMP agent is not restarted for them.
    await client.patchConfig({ virtualServices: {} } as never);
    await new Promise((r) => setTimeout(r, 4000));
    expect(listening()).toBe(agentStarts);
    const withNewUser = { ...doc, snmp: { ...doc.snmp, users: [...(doc.snmp?.users ?? []), { name: 'newv3' }] } };
    const err = await refusedWrite(client, () => client.replaceConfig(withNewUser as never));
    expect(err.problem).toMatchObject({ code: 'LB_VALIDATION', field: '/snmp/users/1/authPassword' });
  });

  it('refuses bad sections with a 4xx naming the field, changing nothing', async () => {
    const client = fresh.client();
    const body = { ...backup, keyPassphrase: PASSPHRASE } as Record<string, unknown>;
    const refused = async (doc: Record<string, unknown>, field: string) => {
      const err = await refusedWrite(client, () => client.replaceConfig(doc as never));
      expect(err.status).toBeGreaterThanOrEqual(400);
      expect(err.status).toBeLessThan(500);
      expect(err.problem.field).toBe(field);
      return err;
    };
    // A changed byte in the sealed secrets, or the wrong passphrase: nothing opens.
    const sealed = Buffer.from(backup.encryptedSecrets as string, 'base64');
    sealed[20] = (sealed[20] as number) ^ 1;
    await refused({ ...body, encryptedSecrets: sealed.toString('base64') }, '/keyPassphrase');
    await refused({ ...body, keyPassphrase: 'not the passphrase at all' }, '/keyPassphrase');
    // Sealed secrets without the passphrase, or without the key encryption they need.
    const { keyPassphrase: _p, ...noPassphrase } = body;
    await refused(noPassphrase, '/keyPassphrase');
    const { keyEncryption: _k, ...noEncryption } = body;
    await refused(noEncryption, '/keyPassphrase');
    const { keyPassphrase: _q, ...noKeys } = noEncryption;
    await refused({ ...noKeys, certificates: {} }, '/keyEncryption');
    // Well sealed, but not what a backup seals.
    await refused({ ...body, encryptedSecrets: seal(backup, JSON.stringify({ alertMail: null, directory: null, snmp: { communities: { noc: 'short' }, users: {}, trapDestinations: {} } }), PASSPHRASE) }, '/encryptedSecrets');
    await refused({ ...body, encryptedSecrets: seal(backup, 'not json', PASSPHRASE) }, '/encryptedSecrets');
    // Sections the contract or the rules refuse.
    const [id, c] = Object.entries(backup.syslogCollectors ?? {})[0] as [string, Record<string, unknown>];
    await refused({ ...body, syslogCollectors: { [id]: { ...c, transport: 'tls' } } }, `/syslogCollectors/${id}/caPem`);
    await refused({ ...body, snmp: { ...backup.snmp, port: 0 } }, '/snmp/port');
    await refused({ ...body, directory: { ...backup.directory, url: 'http://dc.hospital.test' } }, '/directory/url');
    await refused({ ...body, alertMail: { ...backup.alertMail, to: [] } }, '/alertMail/to');
    const me = await as(fresh, 'ada', userPassword('ada'), '/api/v1/current-user');
    expect(me.status, me.text).toBe(200);
  });

  it('rolls the syslog, mail and SNMP settings back with the revision; the directory stays', async () => {
    const client = fresh.client();
    const { revision: kept } = await client.getConfig();
    await client.replaceSnmpSettings(snmpSettings({ location: 'moved', communities: [], users: [{ name: USER.name }], trapDestinations: [] }));
    await client.deleteAlertMail();
    const [collectorId] = Object.keys((await client.getConfig()).syslogCollectors ?? {});
    await client.deleteSyslogCollector(collectorId as string);
    await client.replaceDirectory(directorySettings(dir, { timeoutMs: 4000 }) as never);
    const rolled = await client.rollbackToRevision(kept);
    expect(rolled.snmp).toMatchObject({ location: 'DR site', communities: [{ name: 'noc' }] });
    expect(rolled.alertMail).toMatchObject({ username: 'lbappliance', passwordSet: true });
    expect(Object.keys(rolled.syslogCollectors ?? {})).toEqual([collectorId]);
    // The answer is the revision's document (no directory); the directory is as it was set.
    expect(rolled).not.toHaveProperty('directory');
    expect((await client.getConfig()).directory).toMatchObject({ timeoutMs: 4000 });
    // With the secrets that revision had: the community reads again, the mail password is back.
    const got = await until('an SNMPv2c answer after the rollback', async () => {
      const r = await snmpTool('snmpget', TARGET, { community: COMMUNITY }, ['-On', '.1.3.6.1.2.1.1.6.0']);
      return r.ok && r.stdout.includes('DR site') ? r.stdout : undefined;
    }, 45_000);
    expect(got).toContain('DR site');
    const again = await client.exportBackup({ passphrase: PASSPHRASE });
    expect((JSON.parse(openSealed(again, again.encryptedSecrets as string, PASSPHRASE)) as { alertMail: unknown }).alertMail).toEqual({ password: MAIL_PASSWORD });
  }, 120_000);
});
