// Syslog forwarding (issue 18 item 2) against Debian's rsyslog as the real collector: a
// test-owned rsyslogd receives the appliance's RFC 5424 messages over UDP, TCP (octet
// counting) and TLS (gtls, the collector's certificate checked against the CA given), and
// parses them itself. A TCP/TLS collector that is stopped while writes happen receives every
// message once it is back: the appliance queued them and reconnected.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApplianceClient } from '../../openapi/sdk/index.js';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';
import { needProgram } from '../helpers/programs.js';
import { GTLS_MODULE, startRsyslog, type ReceivedSyslog, type TestRsyslog } from '../helpers/rsyslog.js';

const COLLECTOR = '127.0.250.1';
const VIP = '127.0.250.2';
const SERVER = '127.0.250.3';
const UDP_PORT = 15514;
const TCP_PORT = 15515;
const TLS_PORT = 16514;

/** A CA and a collector certificate for COLLECTOR, made with openssl. */
function collectorPki(dir: string): { caFile: string; certFile: string; keyFile: string; caPem: string; otherCaPem: string } {
  needProgram('openssl');
  const ossl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  ossl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=lbappliance test syslog CA');
  ossl('req', '-x509', ...ec, '-keyout', 'other.key', '-out', 'other.pem', '-days', '2', '-subj', '/CN=another CA');
  ossl('req', ...ec, '-keyout', 'srv.key', '-out', 'srv.csr', '-subj', '/CN=collector');
  writeFileSync(join(dir, 'ext'), `subjectAltName=IP:${COLLECTOR}\n`);
  ossl('x509', '-req', '-in', 'srv.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'srv.pem', '-days', '2', '-extfile', 'ext');
  return { caFile: join(dir, 'ca.pem'), certFile: join(dir, 'srv.pem'), keyFile: join(dir, 'srv.key'), caPem: readFileSync(join(dir, 'ca.pem'), 'utf8'), otherCaPem: readFileSync(join(dir, 'other.pem'), 'utf8') };
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

function param(m: ReceivedSyslog, name: string): string | undefined {
  const match = new RegExp(`\\b${name}="((?:[^"\\\\]|\\\\.)*)"`).exec(m.sd);
  return match?.[1]?.replace(/\\(.)/g, '$1');
}

describe('syslog collectors (rsyslog)', { timeout: 180_000 }, () => {
  let dir: string;
  let pki: ReturnType<typeof collectorPki>;
  let rsyslog: TestRsyslog;
  let app: TestAppliance;
  let client: ApplianceClient;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    needProgram('rsyslogd');
    if (!existsSync(GTLS_MODULE)) throw new Error(`rsyslog's TLS driver ${GTLS_MODULE} is missing (Debian package rsyslog-gnutls; .ci/run installs it)`);
    dir = mkdtempSync(join(tmpdir(), 'lb-syslog-pki-'));
    pki = collectorPki(dir);
    rsyslog = await startRsyslog({ address: COLLECTOR, udpPort: UDP_PORT, tcpPort: TCP_PORT, tls: { port: TLS_PORT, certFile: pki.certFile, keyFile: pki.keyFile, caFile: pki.caFile } });
    app = await startTestAppliance({ engine: 'embedded' });
    client = app.client();
  }, 120_000);
  afterAll(async () => {
    await app?.dispose();
    await rsyslog?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('collectors are configuration: created, read back with the contract defaults, refused when inconsistent', async () => {
    const udp = await client.createSyslogCollector({ label: 'noc-udp', host: COLLECTOR, port: UDP_PORT, transport: 'udp' });
    expect(udp).toMatchObject({ label: 'noc-udp', transport: 'udp', facility: 'local0', minSeverity: 'info', caPem: null, queueSize: 10000, events: ['audit', 'real-server-health', 'ha-transition', 'certificate-expiry'] });
    expect(udp.id).toMatch(/^syslog-[0-9a-f]{12}$/);
    ids.udp = udp.id;
    ids.tcp = (await client.createSyslogCollector({ label: 'noc-tcp', host: COLLECTOR, port: TCP_PORT, transport: 'tcp', facility: 'local3' })).id;
    ids.tls = (await client.createSyslogCollector({ label: 'noc-tls', host: COLLECTOR, port: TLS_PORT, transport: 'tls', caPem: pki.caPem })).id;
    const before = (await client.listSyslogCollectors()).revision;
    const refused = async (body: Record<string, unknown>, code: string, field: string) => {
      const err = await client.createSyslogCollector(body as never).then(() => null, (e: unknown) => e as { status: number; problem: { code: string; field: string } });
      expect(err?.problem).toMatchObject({ code, field });
    };
    await refused({ label: 'no-ca', host: COLLECTOR, transport: 'tls' }, 'LB_INVALID_COMBINATION', '/caPem');
    await refused({ label: 'ca-on-udp', host: COLLECTOR, transport: 'udp', caPem: pki.caPem }, 'LB_INVALID_COMBINATION', '/caPem');
    await refused({ label: 'bad-ca', host: COLLECTOR, transport: 'tls', caPem: 'not a certificate' }, 'LB_CERTIFICATE_INVALID', '/caPem');
    await refused({ label: 'noc-udp', host: COLLECTOR, transport: 'udp' }, 'LB_LABEL_IN_USE', '/label');
    await refused({ label: 'bad-transport', host: COLLECTOR, transport: 'relp' }, 'LB_VALIDATION', '/transport');
    expect((await client.listSyslogCollectors()).revision).toBe(before);
    expect((await client.listSyslogCollectors()).items.map((c) => c.label).sort()).toEqual(['noc-tcp', 'noc-tls', 'noc-udp']);
  });

  it('audit entries and health events arrive as RFC 5424 with structured data, over udp, tcp and tls', async () => {
    const vs = await client.createVirtualService({ label: 'PACS', ipAddress: VIP, ports: [11112], protocol: 'tcp', healthCheck: { type: 'connect', interval: 1, timeout: 1, rise: 1, fall: 1 } });
    await client.createRealServer(vs.id, { label: 'pacs-1', address: SERVER, port: 11112 });
    const health = await until('a health event on every transport', async () => {
      const found = (await rsyslog.messages()).filter((m) => m.msgid === 'real-server-health');
      return found.length >= 3 ? found : undefined;
    });
    for (const m of health) {
      expect(m.app).toBe('lbappliance');
      expect(m.severity).toBe('err');
      expect(param(m, 'realServer')).toBe('pacs-1');
      expect(param(m, 'to')).toBe('down');
      expect(param(m, 'address')).toBe(SERVER);
      expect(m.sd.startsWith('[lbappliance@32473 ')).toBe(true);
      expect(m.msg).toMatch(/real server pacs-1 \(127\.0\.250\.3:11112\) of PACS is down/);
    }
    expect(health.map((m) => m.facility).sort()).toEqual(['local0', 'local0', 'local3']);
    const audits = await until('the VIP creation audited on every transport', async () => {
      const found = (await rsyslog.messages()).filter((m) => m.msgid === 'audit' && param(m, 'operation') === 'createVirtualService');
      return found.length >= 3 ? found : undefined;
    });
    for (const m of audits) {
      expect(m.severity).toBe('info');
      expect(param(m, 'user')).toBe('loadbalancer');
      expect(param(m, 'status')).toBe('201');
      expect(m.msg).toMatch(/^loadbalancer from \S+: POST \/api\/v1\/virtual-services \(createVirtualService\) 201 revision \d+$/);
    }
  });

  it('a tls collector whose certificate the CA does not vouch for gets nothing', async () => {
    const wrong = await client.createSyslogCollector({ label: 'wrong-ca', host: COLLECTOR, port: TLS_PORT, transport: 'tls', caPem: pki.otherCaPem, events: ['audit'] });
    await client.createCertificate({ label: 'probe', selfSigned: { commonName: 'probe.example.test', days: 90 } });
    const metrics = await until('the refused connection in the metrics', async () => {
      const text = String(await client.getMetrics());
      return /lbappliance_syslog_connected\{collector="wrong-ca"\} 0/.test(text) && /lbappliance_syslog_queue_length\{collector="wrong-ca"\} [1-9]/.test(text) ? text : undefined;
    });
    expect(metrics).toMatch(/lbappliance_syslog_connected\{collector="noc-tls"\} 1/);
    await client.deleteSyslogCollector(wrong.id);
    await until('the dropped queue counted', async () => (/lbappliance_syslog_dropped_total\{collector="wrong-ca"\} [1-9]/.test(String(await client.getMetrics())) ? true : undefined));
  });

  it('nothing is lost while a tcp or tls collector restarts', async () => {
    await rsyslog.stop();
    const written: number[] = [];
    for (let i = 0; i < 20; i++) {
      await client.createCertificate({ label: `restart-${i}`, selfSigned: { commonName: `r${i}.example.test`, days: 90 } });
    }
    const entries = await client.listAuditEntries();
    for (const e of entries.items.filter((x) => x.operation === 'createCertificate' && x.path === '/api/v1/certificates' && x.status === 201).slice(0, 20)) written.push(e.seq);
    expect(written).toHaveLength(20);
    // While the collector is away the messages wait in each stream collector's queue.
    const text = String(await client.getMetrics());
    expect(text).toMatch(/lbappliance_syslog_queue_length\{collector="noc-tcp"\} ([2-9]\d|1\d\d)/);
    expect(text).toMatch(/lbappliance_syslog_queue_length\{collector="noc-tls"\} ([2-9]\d|1\d\d)/);
    await rsyslog.start();
    await until('every queued audit entry on tcp and tls', async () => {
      const got = (await rsyslog.messages()).filter((m) => m.msgid === 'audit' && m.input === 'imtcp');
      const seqs = (facility: string) => new Set(got.filter((m) => m.facility === facility).map((m) => Number(param(m, 'seq'))));
      const tcp = seqs('local3');
      const tls = seqs('local0');
      return written.every((s) => tcp.has(s) && tls.has(s)) ? true : undefined;
    });
    const after = String(await client.getMetrics());
    expect(after).toMatch(/lbappliance_syslog_queue_length\{collector="noc-tcp"\} 0/);
    expect(after).not.toMatch(/lbappliance_syslog_dropped_total\{collector="noc-t(cp|ls)"\}/);
  });
});
