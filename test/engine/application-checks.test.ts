// Application health checks against real peers (issue 15): a `dicom` check is a C-ECHO
// that real DCMTK servers answer, accept or reject, an `hl7` check a message over MLLP that
// the examples' HL7 server acknowledges (or a refusing interface does not), and the verdict
// and its reason reach the overview; a PACS that rejects the association is down although its port stays open, and
// client traffic goes only to the servers that pass. test/haproxy re-runs this file on the
// HAProxy engine. Addresses 127.0.210.x (127.0.211.x on HAProxy) belong to this file.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApplianceClient } from '../../openapi/sdk/index.js';
import { DicomServer, Hl7Server, dicomEcho } from '../../examples/backends/index.js';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';
import { makeTestCert } from '../helpers/certs.js';
import { probe, tempDir } from '../backends/helpers.js';
import { startDcmqrscp, startHl7Refuser, startSilentPeer, startTlsFront, type Peer } from './helpers/check-peers.js';
import { createVip, overviewOf } from './helpers/vips.js';
import { startHttpBackend, startTcpBackend } from './helpers/backends.js';
import { until } from './helpers/wait.js';
import { ENGINE, HAPROXY } from './helpers/engine-under-test.js';

const NET = HAPROXY ? '127.0.211' : '127.0.210';
const VIP = `${NET}.217`;
const FAST = { interval: 1, timeout: 2, rise: 1, fall: 1 };
let app: TestAppliance;
let client: ApplianceClient;
let work: Awaited<ReturnType<typeof tempDir>>;
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  work = await tempDir(`chk-${ENGINE}`);
  app = await startTestAppliance({ engine: ENGINE, host: `${NET}.1` });
  client = app.client();
});

afterAll(async () => {
  await app?.dispose();
  for (const close of closers.reverse()) await close().catch(() => undefined);
  await work?.remove();
});

async function dicomServer(name: string, last: number, options: { aeTitle?: string; refuseAssociations?: boolean } = {}): Promise<DicomServer> {
  const s = new DicomServer({ host: name, name, address: `${NET}.${last}`, port: 11112, workDir: join(work.dir, name), ...options });
  await s.start();
  closers.push(() => s.stop());
  return s;
}

function peer<T extends Peer>(p: T): T {
  closers.push(() => p.close());
  return p;
}

/** Each real server's health and last check detail, by label, once every server has a verdict. */
async function verdicts(vsId: string): Promise<Record<string, { health: string; detail: string | undefined }>> {
  return until('every server checked', async () => {
    const o = await overviewOf(client, vsId);
    if (o.realServers.some((r) => r.health === 'unknown' || !r.lastCheck)) return null;
    return Object.fromEntries(o.realServers.map((r) => [r.label, { health: r.health, detail: r.lastCheck?.detail }]));
  }, 30_000);
}

describe('dicom check', () => {
  it('is up on a PACS that answers C-ECHO, down with the reason on one that rejects the association while its port stays open', async () => {
    const good = await dicomServer('pacs-good', 11, { aeTitle: 'PACS1' });
    const refusing = await dicomServer('pacs-refusing', 12, { aeTitle: 'PACS1', refuseAssociations: true });
    const strict = peer(await startDcmqrscp(join(work.dir, 'strict'), 'OTHERPACS'));
    const vip = await createVip(
      client,
      { label: 'dicom-vip', ipAddress: VIP, ports: [11112], protocol: 'tcp', healthCheck: { type: 'dicom', ...FAST, dicom: { callingAeTitle: 'LB-CHECK', calledAeTitle: 'PACS1' } } },
      [
        { label: 'good', address: good.identity.address, port: 11112 },
        { label: 'refusing', address: refusing.identity.address, port: 11112 },
        { label: 'strict', address: `${NET}.13`, port: strict.port },
      ],
    );
    const v = await verdicts(vip.id);
    expect(v).toEqual({
      good: { health: 'up', detail: 'C-ECHO status 0x0000' },
      refusing: { health: 'down', detail: 'association rejected: no reason given' },
      strict: { health: 'down', detail: 'association rejected: called AE title not recognised' },
    });
    // The rejecting servers' ports are open: a connect check would have called them up.
    expect(await probe(refusing.identity.address, 11112)).toBe('open');
    expect(await probe(`${NET}.13`, strict.port)).toBe('open');
    // Every client association through the VIP reaches the one server that passes.
    const before = good.associations;
    for (let i = 0; i < 4; i++) await dicomEcho({ address: VIP, port: 11112, calledAeTitle: 'PACS1' });
    await until('associations counted', () => good.associations >= before + 4);
    const o = await overviewOf(client, vip.id);
    expect(o).toMatchObject({ state: 'degraded', colour: 'yellow' });
    // The guide's AE title is what the PACS knows: calling it brings the strict PACS up.
    await client.updateVirtualService(vip.id, { healthCheck: { type: 'dicom', ...FAST, dicom: { callingAeTitle: 'LB-CHECK', calledAeTitle: 'OTHERPACS' } } });
    await until('strict PACS up once called by its own AE title', async () => {
      const s = (await overviewOf(client, vip.id)).realServers.find((r) => r.label === 'strict');
      return s?.health === 'up' && s.lastCheck?.detail === 'C-ECHO status 0x0000';
    }, 30_000);
  });

  it('is down with a timeout on a server that accepts and never answers, and on a closed port', async () => {
    const silent = peer(await startSilentPeer(`${NET}.21`));
    const vip = await createVip(client, { label: 'dicom-hung', ipAddress: VIP, ports: [11113], protocol: 'tcp', healthCheck: { type: 'dicom', interval: 1, timeout: 1, rise: 1, fall: 1 } }, [
      { label: 'silent', address: `${NET}.21`, port: silent.port },
      { label: 'closed', address: `${NET}.22`, port: 11112 },
    ]);
    const v = await verdicts(vip.id);
    expect(v.silent).toEqual({ health: 'down', detail: 'timeout after 1000 ms waiting for the association answer' });
    expect(v.closed).toEqual({ health: 'down', detail: 'ECONNREFUSED' });
  });

  it('speaks DICOM over TLS when asked', async () => {
    const plain = await dicomServer('pacs-tls', 31);
    const cert = makeTestCert('pacs-tls.example');
    const front = peer(await startTlsFront(`${NET}.32`, { cert: cert.certPem, key: cert.keyPem }, { address: plain.identity.address, port: 11112 }));
    const tlsVip = await createVip(client, { label: 'dicom-tls', ipAddress: VIP, ports: [2762], protocol: 'tcp', healthCheck: { type: 'dicom', ...FAST, dicom: { tls: true } } }, [
      { label: 'tls', address: `${NET}.32`, port: front.port },
    ]);
    expect((await verdicts(tlsVip.id)).tls).toEqual({ health: 'up', detail: 'C-ECHO status 0x0000' });
    // Plain DICOM on a TLS port fails (the TLS front sees no handshake), and says so.
    await client.updateVirtualService(tlsVip.id, { healthCheck: { type: 'dicom', ...FAST, dicom: { tls: false } } });
    await until('plain DICOM to a TLS port is down', async () => (await overviewOf(client, tlsVip.id)).realServers[0]?.health === 'down', 30_000);
  });

  it('refuses bad settings with LB_VALIDATION naming the field, and changes nothing', async () => {
    const before = (await client.getConfig()).revision;
    for (const [dicom, field] of [
      [{ calledAeTitle: '' }, '/healthCheck/dicom/calledAeTitle'],
      [{ calledAeTitle: 'SEVENTEEN-CHARS-X' }, '/healthCheck/dicom/calledAeTitle'],
      [{ callingAeTitle: 'BACK\\SLASH' }, '/healthCheck/dicom/callingAeTitle'],
      [{ callingAeTitle: ' LEADING' }, '/healthCheck/dicom/callingAeTitle'],
      [{ tls: 'yes' }, '/healthCheck/dicom/tls'],
      [{ port: 104 }, '/healthCheck/dicom/port'],
    ] as const) {
      const err = (await client
        .createVirtualService({ label: 'dicom-bad', ipAddress: VIP, ports: [11114], protocol: 'tcp', healthCheck: { type: 'dicom', dicom: dicom as never } })
        .catch((e: unknown) => e)) as { status: number; code: string; field: string };
      expect([err.status, err.code, err.field], JSON.stringify(dicom)).toEqual([400, 'LB_VALIDATION', field]);
    }
    expect((await client.getConfig()).revision).toBe(before);
  });
});

describe('hl7 check', () => {
  it('is up on an interface that acknowledges with AA, down with the reason on one that answers AE or AR or acknowledges another message', async () => {
    const good = new Hl7Server({ host: 'hl7-good', name: 'hl7-good', address: `${NET}.41`, port: 2575 });
    await good.start();
    closers.push(() => good.stop());
    const ae = peer(await startHl7Refuser(`${NET}.42`, 'AE', 'queue full'));
    const ar = peer(await startHl7Refuser(`${NET}.43`, 'AR', ''));
    const other = peer(await startHl7Refuser(`${NET}.44`, 'AA', '', true));
    const silent = peer(await startSilentPeer(`${NET}.45`));
    const vip = await createVip(client, { label: 'hl7-vip', ipAddress: VIP, ports: [2575], protocol: 'tcp', healthCheck: { type: 'hl7', interval: 1, timeout: 1, rise: 1, fall: 1 } }, [
      { label: 'good', address: `${NET}.41`, port: 2575 },
      { label: 'ae', address: `${NET}.42`, port: ae.port },
      { label: 'ar', address: `${NET}.43`, port: ar.port },
      { label: 'other', address: `${NET}.44`, port: other.port },
      { label: 'silent', address: `${NET}.45`, port: silent.port },
    ]);
    expect(await verdicts(vip.id)).toEqual({
      good: { health: 'up', detail: 'ACK AA' },
      ae: { health: 'down', detail: 'ACK AE: queue full' },
      ar: { health: 'down', detail: 'ACK AR' },
      other: { health: 'down', detail: 'ACK AA for another message (MSA-2 "SOMEONE-ELSE")' },
      silent: { health: 'down', detail: 'timeout after 1000 ms waiting for the ACK' },
    });
    // Each check was a minimal MSH with a fresh control id.
    await until('two checks received', () => good.log.length >= 2);
    const [first, second] = good.log;
    expect(first!.messageType).toBe('NMQ^N02');
    expect(first!.controlId).toMatch(/^LB[0-9A-F]{16}$/);
    expect(second!.controlId).not.toBe(first!.controlId);
  });

  it('sends the configured message with a fresh control id', async () => {
    const good = new Hl7Server({ host: 'hl7-msg', name: 'hl7-msg', address: `${NET}.46`, port: 2575 });
    await good.start();
    closers.push(() => good.stop());
    const message = 'MSH|^~\\&|LB|RADIOLOGY|RIS|HOSPITAL||||FIXED|P|2.3\nEVN|A01';
    await createVip(client, { label: 'hl7-msg', ipAddress: VIP, ports: [2576], protocol: 'tcp', healthCheck: { type: 'hl7', interval: 1, timeout: 2, rise: 1, fall: 1, hl7: { message } } }, [
      { label: 'msg', address: `${NET}.46`, port: 2575 },
    ]);
    await until('a check received', () => good.log.length >= 1);
    const seen = good.log[0]!;
    expect(seen.text).toMatch(/^MSH\|\^~\\&\|LB\|RADIOLOGY\|RIS\|HOSPITAL\|\d{14}\|\|\|LB[0-9A-F]{16}\|P\|2\.3\rEVN\|A01$/);
  });

  it('refuses a message that is not an HL7 message with LB_VALIDATION naming the field, and changes nothing', async () => {
    const before = (await client.getConfig()).revision;
    for (const message of ['PID|1', 'MSH|ok\u001cframe end', 'MSH|' + 'x'.repeat(8200)]) {
      const err = (await client
        .createVirtualService({ label: 'hl7-bad', ipAddress: VIP, ports: [2577], protocol: 'tcp', healthCheck: { type: 'hl7', hl7: { message } } })
        .catch((e: unknown) => e)) as { status: number; code: string; field: string };
      expect([err.status, err.code, err.field]).toEqual([400, 'LB_VALIDATION', '/healthCheck/hl7/message']);
    }
    expect((await client.getConfig()).revision).toBe(before);
  });
});

describe('content match', () => {
  it('http: a body match (substring or linear-time regex) and a list of accepted statuses decide, as well as the status', async () => {
    const a = await startHttpBackend({ name: 'cm-a', host: `${NET}.51` });
    const b = await startHttpBackend({ name: 'cm-b', host: `${NET}.52` });
    closers.push(() => a.close(), () => b.close());
    const servers = [
      { label: 'a', address: a.host, port: a.port },
      { label: 'b', address: b.host, port: b.port },
    ];
    const substring = await createVip(client, { label: 'cm-substring', ipAddress: VIP, ports: [8101], protocol: 'http', healthCheck: { type: 'http', ...FAST, bodyMatch: { kind: 'substring', value: 'cm-a' } } }, servers);
    const regex = await createVip(client, { label: 'cm-regex', ipAddress: VIP, ports: [8102], protocol: 'http', healthCheck: { type: 'http', ...FAST, bodyMatch: { kind: 'regex', value: '^cm-(b|c)$' } } }, servers);
    const statuses = await createVip(client, { label: 'cm-statuses', ipAddress: VIP, ports: [8103], protocol: 'http', healthCheck: { type: 'http', ...FAST, path: '/status?code=418', expectStatuses: [200, 418] } }, servers);
    const health = (v: Record<string, { health: string }>) => Object.fromEntries(Object.entries(v).map(([k, x]) => [k, x.health]));
    const vs = await verdicts(substring.id);
    expect(health(vs)).toEqual({ a: 'up', b: 'down' });
    expect(health(await verdicts(regex.id))).toEqual({ a: 'down', b: 'up' });
    expect(health(await verdicts(statuses.id))).toEqual({ a: 'up', b: 'up' });
    if (!HAPROXY) {
      expect(vs).toEqual({ a: { health: 'up', detail: 'HTTP 200, body matches "cm-a"' }, b: { health: 'down', detail: 'HTTP 200, body does not match "cm-a"' } });
    }
    // 418 no longer accepted: both down.
    await client.updateVirtualService(statuses.id, { healthCheck: { type: 'http', ...FAST, path: '/status?code=418', expectStatuses: [200, 204] } });
    await until('418 refused', async () => (await overviewOf(client, statuses.id)).realServers.every((r) => r.health === 'down'), 30_000);
  });

  it('tcp: sends, and expects the answer to contain the text', async () => {
    const echo = await startTcpBackend({ name: 'tcp-echo', host: `${NET}.53`, mode: 'echo' });
    const named = await startTcpBackend({ name: 'tcp-named', host: `${NET}.54`, mode: 'name' });
    closers.push(() => echo.close(), () => named.close());
    const vip = await createVip(client, { label: 'tcp-expect', ipAddress: VIP, ports: [8104], protocol: 'tcp', healthCheck: { type: 'tcp', ...FAST, tcp: { send: 'PING\r\n', expect: 'PING' } } }, [
      { label: 'echo', address: echo.host, port: echo.port },
      { label: 'named', address: named.host, port: named.port },
    ]);
    const v = await verdicts(vip.id);
    expect([v.echo?.health, v.named?.health]).toEqual(['up', 'down']);
    if (!HAPROXY) expect(v.echo?.detail).toBe('got "PING"');
  });

  it('refuses an unsafe or empty pattern with 422 naming the field, a bad status with LB_VALIDATION, and changes nothing', async () => {
    const before = (await client.getConfig()).revision;
    const attempt = async (healthCheck: object) =>
      (await client.createVirtualService({ label: 'cm-bad', ipAddress: VIP, ports: [8105], protocol: 'http', healthCheck: healthCheck as never }).catch((e: unknown) => e)) as { status: number; code: string; field: string };
    for (const value of ['(a)\\1', '(?=a)b', '(unclosed']) {
      const err = await attempt({ type: 'http', bodyMatch: { kind: 'regex', value } });
      expect([err.status, err.code, err.field], value).toEqual([422, 'LB_UNSAFE_PATTERN', '/healthCheck/bodyMatch/value']);
    }
    const empty = await attempt({ type: 'http', bodyMatch: { kind: 'substring' } });
    expect([empty.status, empty.code, empty.field]).toEqual([422, 'LB_INVALID_COMBINATION', '/healthCheck/bodyMatch/value']);
    const status = await attempt({ type: 'http', expectStatuses: [200, 99] });
    expect([status.status, status.code, status.field]).toEqual([400, 'LB_VALIDATION', '/healthCheck/expectStatuses/1']);
    expect((await client.getConfig()).revision).toBe(before);
  });
});
