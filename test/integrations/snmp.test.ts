// SNMP (issue 18): the appliance's agent read with Debian's net-snmp tools (snmpwalk and
// snmpget, v2c and v3 authPriv, LBAPPLIANCE-MIB loaded so the output names its objects),
// wrong credentials and writes refused, and the notifications received by a test-owned
// snmptrapd: v2c traps and v3 informs for a real server going down and up and for a
// certificate near its expiry; an inform outlives its receiver's restart, a trap does not.
// The settings' secrets never appear in a read, an audit entry, a log line or a backup.
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApplianceClient } from '../../openapi/sdk/index.js';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';
import { ROOT } from '../helpers/paths.js';
import { needProgram } from '../helpers/programs.js';
import { refusedWrite } from '../helpers/refused-write.js';
import { MIB_DIRS, snmpTool, startTrapReceiver, type TrapReceiver } from '../helpers/snmp-tools.js';

const AGENT = '127.0.252.1';
const AGENT_PORT = 16161;
const TARGET = `udp:${AGENT}:${AGENT_PORT}`;
const TRAPD = '127.0.252.9';
const TRAPD_PORT = 16162;
const VIP = '127.0.252.20';
const SERVER = '127.0.252.21';

const COMMUNITY = 'noc-community-7f3a';
const TRAP_COMMUNITY = 'trap-community-91c2';
const USER = { name: 'nocv3', authPassword: 'auth-secret-5d1e', privPassword: 'priv-secret-a84b' };
const SECRETS = [COMMUNITY, TRAP_COMMUNITY, USER.authPassword, USER.privPassword];
const V2C = { community: COMMUNITY };
const V3 = { user: USER.name, authPassword: USER.authPassword, privPassword: USER.privPassword };

async function until<T>(what: string, read: () => Promise<T | undefined>, timeoutMs = 45_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('SNMP agent and notifications', () => {
  let app: TestAppliance;
  let client: ApplianceClient;
  let trapd: TrapReceiver;
  let server: Server | null = null;
  let vsId = '';
  let rsId = '';

  const settings = (extra: Record<string, unknown> = {}) => ({
    enabled: true,
    listenAddress: AGENT,
    port: AGENT_PORT,
    contact: 'PACS team <pacs@example.test>',
    location: 'Data centre A, rack 12',
    communities: [{ name: 'noc', community: COMMUNITY }],
    users: [{ name: USER.name, authProtocol: 'sha' as const, authPassword: USER.authPassword, privProtocol: 'aes' as const, privPassword: USER.privPassword }],
    trapDestinations: [
      { name: 'nms-v2c', address: TRAPD, port: TRAPD_PORT, version: 'v2c' as const, community: TRAP_COMMUNITY },
      { name: 'nms-v3', address: TRAPD, port: TRAPD_PORT, version: 'v3' as const, user: USER.name },
    ],
    informTimeoutMs: 1000,
    informRetries: 8,
    ...extra,
  });

  /** The notifications of `name` received from each version (v2c trap, v3 inform). */
  const received = async (name: string, matching = '') => {
    const all = (await trapd.notifications()).filter((n) => n.includes(`LBAPPLIANCE-MIB::${name}`) && n.includes(matching));
    return { trap: all.filter((n) => /^TRAP2, SNMP v2c, community /.test(n)), inform: all.filter((n) => /^INFORM, SNMP v3, user nocv3/.test(n)) };
  };

  beforeAll(async () => {
    for (const p of ['snmpget', 'snmpwalk', 'snmpset', 'snmptrapd', 'smilint']) needProgram(p);
    trapd = await startTrapReceiver({ address: TRAPD, port: TRAPD_PORT, community: TRAP_COMMUNITY, user: USER });
    app = await startTestAppliance({ engine: 'embedded' });
    client = app.client();
    // Notifications first: the server's first check fails at once and its event leaves as the check decides.
    await client.replaceSnmpSettings(settings());
    const vs = await client.createVirtualService({ label: 'PACS', ipAddress: VIP, ports: [11112], protocol: 'tcp', healthCheck: { type: 'connect', interval: 1, timeout: 1, rise: 1, fall: 1 } });
    vsId = vs.id;
    rsId = (await client.createRealServer(vs.id, { label: 'pacs-1', address: SERVER, port: 11112 })).id;
  });

  afterAll(async () => {
    server?.close();
    await app?.dispose();
    await trapd?.dispose();
  });

  it('ships a MIB that smilint passes at its strictest level', async () => {
    const { stdout, stderr } = await promisify(execFile)(needProgram('smilint'), ['-l', '6', '-s', join(ROOT, 'mibs', 'LBAPPLIANCE-MIB.txt')], { env: { ...process.env, SMIPATH: MIB_DIRS } });
    expect(stdout + stderr).toBe('');
  });

  it('walks the VIP and real-server table by name over v2c', async () => {
    const walk = await until('the real server down in the walk', async () => {
      const r = await snmpTool('snmpwalk', TARGET, V2C, ['LBAPPLIANCE-MIB::lbApplianceMIB']);
      return r.ok && r.stdout.includes('lbRsHealth') && r.stdout.includes('down(2)') ? r.stdout : undefined;
    });
    const rs = `"${vsId}"."${rsId}"`;
    expect(walk).toContain('LBAPPLIANCE-MIB::lbHaState.0 = STRING: standalone');
    expect(walk).toContain('LBAPPLIANCE-MIB::lbVsCount.0 = Gauge32: 1');
    expect(walk).toContain(`LBAPPLIANCE-MIB::lbVsName."${vsId}" = STRING: PACS`);
    expect(walk).toContain(`LBAPPLIANCE-MIB::lbVsAddress."${vsId}" = STRING: ${VIP}`);
    expect(walk).toContain(`LBAPPLIANCE-MIB::lbVsState."${vsId}" = INTEGER: listening(1)`);
    expect(walk).toContain(`LBAPPLIANCE-MIB::lbVsServersUp."${vsId}" = Gauge32: 0`);
    expect(walk).toContain(`LBAPPLIANCE-MIB::lbRsName.${rs} = STRING: pacs-1`);
    expect(walk).toContain(`LBAPPLIANCE-MIB::lbRsAddress.${rs} = STRING: ${SERVER}`);
    expect(walk).toContain(`LBAPPLIANCE-MIB::lbRsAdminState.${rs} = INTEGER: online(1)`);
    expect(walk).toContain(`LBAPPLIANCE-MIB::lbRsHealth.${rs} = INTEGER: down(2)`);
    expect(walk).toMatch(new RegExp(`LBAPPLIANCE-MIB::lbRsDownTransitions\\.${rs.replace(/\./g, '\\.')} = Counter32: [1-9]`));
    // The MIB-II system group (Debian ships no SNMPv2-MIB: read by number).
    const system = await snmpTool('snmpget', TARGET, V2C, ['-On', '.1.3.6.1.2.1.1.4.0', '.1.3.6.1.2.1.1.6.0', '.1.3.6.1.2.1.1.2.0']);
    expect(system.stdout).toContain('.1.3.6.1.2.1.1.4.0 = STRING: "PACS team <pacs@example.test>"');
    expect(system.stdout).toContain('.1.3.6.1.2.1.1.6.0 = STRING: "Data centre A, rack 12"');
    expect(system.stdout).toContain('.1.3.6.1.2.1.1.2.0 = OID: .1.3.6.1.4.1.99999');
  });

  it('answers a v3 authPriv user (SHA, AES) and refuses wrong credentials and writes', async () => {
    const get = await snmpTool('snmpget', TARGET, V3, [`LBAPPLIANCE-MIB::lbVsName."${vsId}"`, `LBAPPLIANCE-MIB::lbRsName."${vsId}"."${rsId}"`]);
    expect(get.ok, get.stderr).toBe(true);
    expect(get.stdout).toContain(`LBAPPLIANCE-MIB::lbVsName."${vsId}" = STRING: PACS`);
    expect(get.stdout).toContain(`LBAPPLIANCE-MIB::lbRsName."${vsId}"."${rsId}" = STRING: pacs-1`);
    const oid = `LBAPPLIANCE-MIB::lbVsName."${vsId}"`;
    const wrongCommunity = await snmpTool('snmpget', TARGET, { community: 'public' }, [oid]);
    expect(wrongCommunity.ok).toBe(false);
    expect(wrongCommunity.stdout).not.toContain('PACS');
    expect(wrongCommunity.stderr).toMatch(/Timeout/);
    const wrongUser = await snmpTool('snmpget', TARGET, { ...V3, user: 'intruder' }, [oid]);
    expect(wrongUser.ok).toBe(false);
    expect(wrongUser.stdout).not.toContain('PACS');
    const wrongPassword = await snmpTool('snmpget', TARGET, { ...V3, authPassword: 'not-the-password' }, [oid]);
    expect(wrongPassword.ok).toBe(false);
    expect(wrongPassword.stdout).not.toContain('PACS');
    // A trap community is not a read community.
    expect((await snmpTool('snmpget', TARGET, { community: TRAP_COMMUNITY }, [oid])).ok).toBe(false);
    const set = await snmpTool('snmpset', TARGET, V2C, [oid, 's', 'HACKED']);
    expect(set.ok).toBe(false);
    expect((await snmpTool('snmpget', TARGET, V2C, [oid])).stdout).toContain('STRING: PACS');
  });

  it('sends a v2c trap and a v3 inform when a real server comes up and goes down again', async () => {
    const down = await until('the first down notifications', async () => {
      const r = await received('lbRealServerDown', 'pacs-1');
      return r.trap.length > 0 && r.inform.length > 0 ? r : undefined;
    });
    expect(down.inform[0]).toContain(`LBAPPLIANCE-MIB::lbRsHealth."${vsId}"."${rsId}" = INTEGER: down(2)`);
    expect(down.trap[0]).toContain(`community ${TRAP_COMMUNITY}`);
    expect(down.trap[0]).toMatch(/lbNotifyMessage\.0 = STRING: real server pacs-1 \(127\.0\.252\.21:11112\) of PACS is down: .*ECONNREFUSED/);
    server = createServer((s) => s.destroy());
    await new Promise<void>((resolve) => server!.listen(11112, SERVER, resolve));
    const up = await until('the up notifications', async () => {
      const r = await received('lbRealServerUp', 'pacs-1');
      return r.trap.length > 0 && r.inform.length > 0 ? r : undefined;
    });
    for (const n of [...up.trap, ...up.inform]) {
      expect(n).toContain(`LBAPPLIANCE-MIB::lbVsName."${vsId}" = STRING: PACS`);
      expect(n).toContain(`LBAPPLIANCE-MIB::lbRsAddress."${vsId}"."${rsId}" = STRING: ${SERVER}`);
      expect(n).toContain('INTEGER: up(1)');
    }
    expect((await snmpTool('snmpget', TARGET, V2C, [`LBAPPLIANCE-MIB::lbRsHealth."${vsId}"."${rsId}"`])).stdout).toContain('up(1)');
    const downsBefore = (await received('lbRealServerDown', 'pacs-1')).inform.length;
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = null;
    await until('the second down inform', async () => ((await received('lbRealServerDown', 'pacs-1')).inform.length > downsBefore ? true : undefined));
  });

  it('announces a certificate near its expiry to both receivers', async () => {
    await client.createCertificate({ label: 'short-lived', selfSigned: { commonName: 'pacs.example.test', days: 5 } });
    const expiry = await until('the expiry notifications', async () => {
      const r = await received('lbCertificateExpiry', 'short-lived');
      return r.trap.length > 0 && r.inform.length > 0 ? r : undefined;
    });
    for (const n of [...expiry.trap, ...expiry.inform]) {
      expect(n).toContain('LBAPPLIANCE-MIB::lbNotifyCertificate.0 = STRING: short-lived');
      expect(n).toMatch(/LBAPPLIANCE-MIB::lbNotifyCertificateDaysLeft\.0 = INTEGER: [45]\b/);
    }
  });

  it('sends an inform again until a restarted receiver acknowledges it; a trap sent meanwhile is lost', async () => {
    await trapd.stop();
    server = createServer((s) => s.destroy());
    await new Promise<void>((resolve) => server!.listen(11112, SERVER, resolve));
    // The appliance saw the change (the table says up) while nobody received.
    await until('the server up in the table', async () => ((await snmpTool('snmpget', TARGET, V2C, [`LBAPPLIANCE-MIB::lbRsHealth."${vsId}"."${rsId}"`])).stdout.includes('up(1)') ? true : undefined));
    await trapd.start();
    const up = await until('the retried inform', async () => {
      const r = await received('lbRealServerUp', 'pacs-1');
      return r.inform.length > 0 ? r : undefined;
    });
    expect(up.trap).toEqual([]);
    const metrics = await client.getMetrics();
    expect(metrics).toMatch(/lbappliance_snmp_notifications_total\{destination="nms-v3",outcome="acknowledged"\} [1-9]/);
    expect(metrics).toMatch(/lbappliance_snmp_notifications_total\{destination="nms-v2c",outcome="sent"\} [1-9]/);
  });

  it('keeps secrets write-only: not in a read, the audit log, the log, nor a backup', async () => {
    const read = await client.getSnmpSettings();
    expect(read.communities).toEqual([{ name: 'noc' }]);
    expect(read.users).toEqual([{ name: USER.name, authProtocol: 'sha', privProtocol: 'aes' }]);
    const config = await client.getConfig();
    const backup = await client.exportBackup({ passphrase: 'backup-passphrase-0123' });
    const audit = await client.listAuditEntries({ query: { limit: 1000 } });
    const snmpAudit = audit.items.find((e) => e.operation === 'replaceSnmpSettings');
    expect(snmpAudit?.changes?.length).toBeGreaterThan(0);
    for (const secret of SECRETS) {
      expect(JSON.stringify(read)).not.toContain(secret);
      expect(JSON.stringify(config)).not.toContain(secret);
      expect(JSON.stringify(backup)).not.toContain(secret);
      expect(JSON.stringify(audit)).not.toContain(secret);
      expect(app.output.join('\n')).not.toContain(secret);
    }
  });

  it('keeps a secret left out for an entry that keeps its name, and refuses a new entry without one', async () => {
    const { etag } = await client.request('getSnmpSettings');
    const withoutSecrets = {
      ...settings(),
      communities: [{ name: 'noc' }],
      users: [{ name: USER.name }],
      trapDestinations: [
        { name: 'nms-v2c', address: TRAPD, port: TRAPD_PORT, version: 'v2c' as const },
        { name: 'nms-v3', address: TRAPD, port: TRAPD_PORT, version: 'v3' as const, user: USER.name },
      ],
      location: 'Data centre B',
    };
    await client.replaceSnmpSettings(withoutSecrets, { ifMatch: etag });
    await until('the new location', async () => ((await snmpTool('snmpget', TARGET, V3, ['-On', '.1.3.6.1.2.1.1.6.0'])).stdout.includes('Data centre B') ? true : undefined));
    expect((await snmpTool('snmpget', TARGET, V2C, [`LBAPPLIANCE-MIB::lbVsName."${vsId}"`])).stdout).toContain('PACS');

    const before = await client.getSnmpSettings();
    const newUser = await refusedWrite(client, () => client.replaceSnmpSettings({ ...withoutSecrets, users: [{ name: USER.name }, { name: 'second', authPassword: 'second-auth-1' }] }));
    expect(newUser).toMatchObject({ status: 400, code: 'LB_VALIDATION', field: '/users/1/privPassword' });
    const noUser = await refusedWrite(client, () => client.replaceSnmpSettings({ ...withoutSecrets, trapDestinations: [{ name: 'x', address: TRAPD, version: 'v3', user: 'nobody' }] }));
    expect(noUser).toMatchObject({ status: 400, code: 'LB_VALIDATION', field: '/trapDestinations/0/user' });
    const twice = await refusedWrite(client, () => client.replaceSnmpSettings({ ...withoutSecrets, communities: [{ name: 'noc' }, { name: 'noc', community: 'another-community' }] }));
    expect(twice).toMatchObject({ status: 400, code: 'LB_VALIDATION', field: '/communities/1/name' });
    const short = await refusedWrite(client, () => client.replaceSnmpSettings({ ...withoutSecrets, communities: [{ name: 'noc', community: 'short' }] }));
    expect(short).toMatchObject({ status: 400, code: 'LB_VALIDATION' });
    expect(short.field).toMatch(/^\/communities\/0\/community/);
    expect(await client.getSnmpSettings()).toEqual(before);
    const stale = await refusedWrite(client, () => client.replaceSnmpSettings(withoutSecrets, { ifMatch: etag }));
    expect(stale).toMatchObject({ status: 412 });
  });
});
