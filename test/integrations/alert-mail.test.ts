// E-mail alerts (issue 18 item 4) against Debian's Postfix as the real relay: a test-owned
// Postfix on the test's loopback address, STARTTLS with a certificate the test's CA signed,
// SMTP AUTH through Cyrus SASL (sasldb), mail delivered to a mailbox file the test reads.
// One mail per incident and one on its recovery, not one per check; a certificate near its
// expiry; a relay that is down delays the mail without losing it; the rate limit; the
// password never appears in a read, the audit log, the appliance's log or a backup; and the
// settings (password included) are replicated to the HA secondary, which mails its takeover.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApplianceClient } from '../../openapi/sdk/index.js';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';
import { startPostfix, type TestPostfix } from '../helpers/postfix.js';
import { needProgram } from '../helpers/programs.js';
import { clientOf, pair, PRIMARY_PASSWORD, SECONDARY_PASSWORD, startNode } from '../ha/helpers/pair.js';

const MTA = '127.0.250.10';
const MTA_PORT = 2525;
const VIP = '127.0.250.11';
const SERVER = '127.0.250.12';
const NODE_A = '127.0.250.21';
const NODE_B = '127.0.250.22';
const SMTP_PASSWORD = 'smtp-Secret-7f3a9c-never-shown';
const LOGIN = { user: 'alerts', realm: 'lbappliance.test', password: SMTP_PASSWORD };

function mtaPki(dir: string): { caPem: string; certFile: string; keyFile: string } {
  needProgram('openssl');
  const ossl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  ossl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=lbappliance test mail CA');
  ossl('req', ...ec, '-keyout', 'mta.key', '-out', 'mta.csr', '-subj', '/CN=mta');
  writeFileSync(join(dir, 'ext'), `subjectAltName=IP:${MTA}\n`);
  ossl('x509', '-req', '-in', 'mta.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'mta.pem', '-days', '2', '-extfile', 'ext');
  return { caPem: readFileSync(join(dir, 'ca.pem'), 'utf8'), certFile: join(dir, 'mta.pem'), keyFile: join(dir, 'mta.key') };
}

async function until<T>(what: string, read: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The Subject header, unfolded (RFC 5322 folds long headers onto continuation lines). */
const subject = (mail: string) => (/^Subject: (.*(?:\r?\n[ \t].*)*)/m.exec(mail)?.[1] ?? '').replace(/\r?\n[ \t]+/g, ' ');

/** Every file under `dir` (its text), for the secret-never-stored check. */
function filesUnder(dir: string): [string, string][] {
  const out: [string, string][] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...filesUnder(path));
    else out.push([path, readFileSync(path, 'latin1')]);
  }
  return out;
}

describe('e-mail alerts (postfix)', { timeout: 180_000 }, () => {
  let dir: string;
  let pki: ReturnType<typeof mtaPki>;
  let mta: TestPostfix;
  let app: TestAppliance;
  let client: ApplianceClient;
  let server: Server | null = null;
  const settings = () => ({ host: MTA, port: MTA_PORT, security: 'starttls' as const, caPem: pki.caPem, username: `${LOGIN.user}@${LOGIN.realm}`, from: 'lbappliance@lbappliance.test', to: ['oncall@hospital.test'] });

  beforeAll(async () => {
    needProgram('postfix');
    dir = mkdtempSync(join(tmpdir(), 'lb-mail-pki-'));
    pki = mtaPki(dir);
    mta = await startPostfix({ address: MTA, port: MTA_PORT, certFile: pki.certFile, keyFile: pki.keyFile, login: LOGIN, mailbox: 'oncall' });
    app = await startTestAppliance({ engine: 'embedded' });
    client = app.client();
  }, 120_000);
  afterAll(async () => {
    server?.close();
    await app?.dispose();
    await mta?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the settings are configuration: the password is write-only, and inconsistent settings are refused', async () => {
    expect(await client.getAlertMail()).toEqual({ enabled: false, passwordSet: false });
    const before = (await client.listRevisions()).current;
    const refused = async (body: Record<string, unknown>, code: string, field: string) => {
      const err = await client.replaceAlertMail(body as never).then(() => null, (e: unknown) => e as { problem: { code: string; field: string } });
      expect(err?.problem).toMatchObject({ code, field });
    };
    await refused({ ...settings(), username: null, password: 'x' }, 'LB_INVALID_COMBINATION', '/password');
    await refused({ ...settings(), security: 'none', caPem: null }, 'LB_INVALID_COMBINATION', '/username');
    await refused({ ...settings(), caPem: 'garbage' }, 'LB_CERTIFICATE_INVALID', '/caPem');
    await refused({ ...settings(), to: [] }, 'LB_VALIDATION', '/to');
    expect((await client.listRevisions()).current).toBe(before);
    const set = await client.replaceAlertMail({ ...settings(), password: SMTP_PASSWORD });
    expect(set).toMatchObject({ enabled: true, passwordSet: true, port: MTA_PORT, security: 'starttls', maxPerHour: 30 });
    expect(JSON.stringify(set)).not.toContain(SMTP_PASSWORD);
    expect(JSON.stringify(await client.getAlertMail())).not.toContain(SMTP_PASSWORD);
    expect(JSON.stringify(await client.getConfig())).not.toContain(SMTP_PASSWORD);
    expect(JSON.stringify(await client.exportBackup({ passphrase: 'backup-passphrase-123' }))).not.toContain(SMTP_PASSWORD);
    expect(JSON.stringify(await client.listAuditEntries())).not.toContain(SMTP_PASSWORD);
    const current = (await client.listRevisions()).current;
    expect(JSON.stringify(await client.getRevision(current))).not.toContain(SMTP_PASSWORD);
  });

  it('a server going down is one mail, its recovery one more, not one per check', async () => {
    const vs = await client.createVirtualService({ label: 'PACS', ipAddress: VIP, ports: [11112], protocol: 'tcp', healthCheck: { type: 'connect', interval: 1, timeout: 1, rise: 1, fall: 1 } });
    await client.createRealServer(vs.id, { label: 'pacs-1', address: SERVER, port: 11112 });
    const down = await until('the DOWN mail', () => mta.mails().find((m) => subject(m).includes('DOWN')));
    expect(subject(down)).toMatch(/DOWN: real server pacs-1 \(127\.0\.250\.12:11112\) of PACS/);
    expect(down).toMatch(/^To: oncall@hospital\.test$/m);
    // Sent over STARTTLS with SMTP AUTH (Postfix records ESMTPSA).
    expect(down).toMatch(/with ESMTPSA/);
    expect(mta.log()).toMatch(/sasl_method=PLAIN, sasl_username=alerts@lbappliance\.test/);
    await new Promise((r) => setTimeout(r, 4000));
    expect(mta.mails().filter((m) => subject(m).includes('pacs-1'))).toHaveLength(1);
    server = createServer((s) => s.destroy());
    await new Promise<void>((resolve) => server!.listen(11112, SERVER, resolve));
    const up = await until('the RECOVERED mail', () => mta.mails().find((m) => subject(m).includes('RECOVERED')));
    expect(subject(up)).toMatch(/RECOVERED: real server pacs-1/);
    await new Promise((r) => setTimeout(r, 3000));
    expect(mta.mails().filter((m) => subject(m).includes('pacs-1'))).toHaveLength(2);
  });

  it('a certificate near its expiry is mailed; while the relay is down the mail waits, and arrives once it is back', async () => {
    await mta.stop();
    await client.createCertificate({ label: 'short-lived', selfSigned: { commonName: 'pacs.example.test', days: 5 } });
    await until('a failed attempt in the metrics', async () => (/lbappliance_alert_mail_failures_total [1-9]/.test(String(await client.getMetrics())) ? true : undefined));
    expect(String(await client.getMetrics())).toMatch(/lbappliance_alert_mail_queue_length 1/);
    await mta.start();
    const mail = await until('the expiry mail', () => mta.mails().find((m) => subject(m).includes('short-lived')), 90_000);
    expect(subject(mail)).toMatch(/EXPIRING: certificate short-lived/);
  });

  it('left out, the password is kept; the rate limit holds back mails beyond maxPerHour', async () => {
    const sentSoFar = mta.mails().length;
    // Without the password, with the same user name: kept (the next mails authenticate).
    expect(await client.replaceAlertMail({ ...settings(), maxPerHour: sentSoFar + 1 })).toMatchObject({ passwordSet: true, maxPerHour: sentSoFar + 1 });
    await client.createCertificate({ label: 'limit-1', selfSigned: { commonName: 'l1.example.test', days: 5 } });
    await client.createCertificate({ label: 'limit-2', selfSigned: { commonName: 'l2.example.test', days: 5 } });
    await until('the rate-limited mail counted', async () => (/lbappliance_alert_mail_rate_limited_total 1/.test(String(await client.getMetrics())) ? true : undefined));
    await until('one more mail', () => (mta.mails().length === sentSoFar + 1 ? true : undefined));
    await new Promise((r) => setTimeout(r, 2000));
    expect(mta.mails()).toHaveLength(sentSoFar + 1);
  });

  it('the password is in no log line and no file of the data directory but the keystore entry', async () => {
    expect(app.output.join('\n')).not.toContain(SMTP_PASSWORD);
    const holding = filesUnder(app.dataDir).filter(([, text]) => text.includes(SMTP_PASSWORD)).map(([p]) => p);
    expect(holding).toHaveLength(1);
    expect(holding[0]).toMatch(/config\/keys\/[0-9a-f]{64}\.pem$/);
    expect(statSync(holding[0] as string).mode & 0o077).toBe(0);
  });
});

describe('e-mail alerts in an HA pair', { timeout: 180_000 }, () => {
  let dir: string;
  let mta: TestPostfix;
  let a: TestAppliance;
  let b: TestAppliance;

  beforeAll(async () => {
    needProgram('postfix');
    dir = mkdtempSync(join(tmpdir(), 'lb-mail-pki-'));
    const pki = mtaPki(dir);
    mta = await startPostfix({ address: MTA, port: MTA_PORT + 1, certFile: pki.certFile, keyFile: pki.keyFile, login: LOGIN, mailbox: 'oncall' });
    [a, b] = await Promise.all([startNode(NODE_A, PRIMARY_PASSWORD), startNode(NODE_B, SECONDARY_PASSWORD)]);
    await pair(a, b, { heartbeatIntervalMs: 200, deadTimeMs: 1000 });
    await clientOf(a).replaceAlertMail({ host: MTA, port: MTA_PORT + 1, caPem: pki.caPem, username: `${LOGIN.user}@${LOGIN.realm}`, password: SMTP_PASSWORD, from: 'lbappliance@lbappliance.test', to: ['oncall@hospital.test'] });
    await clientOf(a).createSyslogCollector({ label: 'noc', host: '127.0.250.1', port: 15599, transport: 'tcp' });
  }, 180_000);
  afterAll(async () => {
    await Promise.all([a?.dispose(), b?.dispose()]);
    await mta?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the secondary holds the settings and the password, and mails its takeover', async () => {
    const onA = await clientOf(a).getAlertMail();
    await until('the settings on the secondary', async () => {
      const onB = await clientOf(b).getAlertMail();
      return onB.enabled ? onB : undefined;
    }, 20_000);
    expect(await clientOf(b).getAlertMail()).toEqual(onA);
    expect((await clientOf(b).listSyslogCollectors()).items).toEqual((await clientOf(a).listSyslogCollectors()).items);
    await clientOf(b).takeoverHaPair();
    // The secondary authenticates with the replicated password.
    const mail = await until('the takeover mail', () => mta.mails().find((m) => subject(m).includes('TAKEOVER')), 60_000);
    expect(subject(mail)).toMatch(/TAKEOVER: .* is now active \(was passive\)/);
    expect(mail).toMatch(/with ESMTPSA/);
    expect(b.output.join('\n')).not.toContain(SMTP_PASSWORD);
    expect(a.output.join('\n')).not.toContain(SMTP_PASSWORD);
  });
});
