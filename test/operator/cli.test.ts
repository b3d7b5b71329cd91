// The operator commands of `bin/lbappliance` against live appliances, as an on-call engineer
// types them: status (table, colour, JSON), drain / halt / online by label and by id, backup
// and restore (onto the same appliance and onto another one), and every failure a person
// meets first, each as one line with its own exit status. Addresses 127.0.111.x belong to
// this file.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApplianceClient, Config } from '../../openapi/sdk/index.js';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';
import { makeTestCert } from '../helpers/certs.js';
import { LBAPPLIANCE_BIN } from '../helpers/paths.js';

const READER = { username: 'oncall', password: 'oncall-password-0123' };
let app: TestAppliance;
let other: TestAppliance;
let client: ApplianceClient;
let dir: string;
let ids: { avs: string; aqi: string; s1: string; s2: string };

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with a clean environment (no LBAPPLIANCE_* from the caller). */
function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LBAPPLIANCE_') && k !== 'NO_COLOR'));
  return new Promise((resolve) => {
    execFile(process.execPath, [LBAPPLIANCE_BIN, ...args], { env: { ...base, LBAPPLIANCE_PASSWORD: app.password, ...env } as NodeJS.ProcessEnv }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** The CLI against the main appliance, trusting its self-signed certificate by file. */
const on = (args: string[], env: Record<string, string | undefined> = {}) => cli([...args, '--endpoint', app.endpoint, '--ca-file', join(app.dataDir, 'tls/api.crt')], env);

function oneLine(run: Run): string {
  expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  return run.stderr.trim();
}

beforeAll(async () => {
  [app, other] = await Promise.all([startTestAppliance({ host: '127.0.111.1' }), startTestAppliance({ host: '127.0.111.2' })]);
  client = app.client();
  dir = await mkdtemp(join(tmpdir(), 'lbappliance-cli-'));
  const material = makeTestCert('avs.hospital.test');
  const cert = await client.createCertificate({ label: 'avs-cert', pem: material.bundlePem });
  await writeFile(join(dir, 'avs.pem'), material.bundlePem, { mode: 0o600 });
  await client.createCertificate({ label: 'spare-selfsigned', selfSigned: { commonName: 'spare.hospital.test' } });
  const avs = await client.createVirtualService({ label: 'AVS', ipAddress: '127.0.111.217', ports: [443], protocol: 'http2', certificateId: cert.id, persistence: { mode: 'http-cookie' } });
  const aqi = await client.createVirtualService({ label: 'AVS-AQI', ipAddress: '127.0.111.217', ports: [1200], protocol: 'tcp', healthCheck: { type: 'none' } });
  const s1 = await client.createRealServer(avs.id, { label: 'SERVER1', address: '127.0.111.6', port: 443, reEncrypt: true });
  const s2 = await client.createRealServer(avs.id, { label: 'SERVER2', address: '127.0.111.7', port: 443, reEncrypt: true, backup: true });
  await client.createRealServer(aqi.id, { label: 'SERVER1', address: '127.0.111.6', port: 1200 });
  ids = { avs: avs.id, aqi: aqi.id, s1: s1.id, s2: s2.id };
  await client.createUser({ ...READER, role: 'read-only' });
});

afterAll(async () => {
  await Promise.all([app?.dispose(), other?.dispose()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('lbappliance status', () => {
  it('prints the overview as a plain table when not on a terminal', async () => {
    const run = await on(['status']);
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain('\x1b[');
    const lines = run.stdout.split('\n');
    expect(lines[0]).toMatch(/: lbappliance \S+, engine none, revision \d+; HA: standalone \(no peer\)$/);
    expect(lines).toContainEqual(expect.stringMatching(/^VIRTUAL SERVICE\s+IP\s+PORTS\s+CONN\s+PROTOCOL\s+PERSISTENCE\s+CHECK\s+STATUS$/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}REAL SERVER\s+IP\s+PORT\s+CONN\s+WEIGHT\s+HEALTH\s+AGENT\s+LAST CHECK$/));
    expect(lines).toContainEqual(expect.stringMatching(/^AVS\s+127\.0\.111\.217\s+443\s+0\s+HTTP2\s+HTTP cookie\s+connect\s+down: no data plane engine \(serve --engine none\)$/));
    expect(lines).toContainEqual(expect.stringMatching(/^AVS-AQI\s+127\.0\.111\.217\s+1200\s+0\s+TCP\s+-\s+none\s+down: no data plane engine \(serve --engine none\)$/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}SERVER2 \(backup\)\s+127\.0\.111\.7\s+443\s+0\s+100\s+unknown\s+-\s+-$/));
    // Columns line up: every IP starts in the same column.
    const ipColumns = new Set(lines.filter((l) => / 127\.0\.111\./.test(l)).map((l) => l.indexOf('127.0.111.')));
    expect(ipColumns.size).toBe(1);
  });

  it('paints it with --color always, and gives the document itself with --json', async () => {
    const painted = await on(['status', '--color', 'always']);
    expect(painted.code).toBe(0);
    expect(painted.stdout).toContain('\x1b[31m\u25CF\x1b[0m'); // a red dot: the VIPs are not listening (no engine)
    const json = await on(['status', '--json']);
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.stdout) as Awaited<ReturnType<ApplianceClient['getOverview']>>;
    const now = await client.getOverview();
    expect(doc.revision).toBe(now.revision);
    expect(doc.virtualServices.map((v) => [v.label, v.realServers.map((r) => r.id)])).toEqual(now.virtualServices.map((v) => [v.label, v.realServers.map((r) => r.id)]));
  });
});

describe('lbappliance drain | halt | online', () => {
  it('changes a real server named by label or by id, as the appliance then says', async () => {
    const drained = await on(['drain', 'AVS', 'SERVER1']);
    expect([drained.code, drained.stdout]).toEqual([0, 'SERVER1 on AVS: online -> draining\n']);
    expect((await client.getRealServer(ids.avs, ids.s1)).adminState).toBe('drain');
    const halted = await on(['halt', ids.avs, ids.s1]);
    expect([halted.code, halted.stdout]).toEqual([0, 'SERVER1 on AVS: draining -> halted\n']);
    expect((await client.getRealServer(ids.avs, ids.s1)).adminState).toBe('halt');
    const again = await on(['halt', 'AVS', ids.s1]);
    expect([again.code, again.stdout]).toEqual([0, 'SERVER1 on AVS is already halted\n']);
    const online = await on(['online', 'AVS', 'SERVER1']);
    expect([online.code, online.stdout]).toEqual([0, 'SERVER1 on AVS: halted -> online\n']);
    expect((await client.getRealServer(ids.avs, ids.s1)).adminState).toBe('online');
    // The other VIP's SERVER1 was never touched.
    expect((await client.listRealServers(ids.aqi)).items.map((r) => r.adminState)).toEqual(['online']);
  });

  it('names the VIPs and servers there are when one is unknown (exit 6)', async () => {
    const vip = await on(['drain', 'NOPE', 'SERVER1']);
    expect(vip.code).toBe(6);
    expect(oneLine(vip)).toBe('lbappliance: no virtual service "NOPE" (by label or id); there are: AVS, AVS-AQI');
    const rip = await on(['drain', 'AVS', 'SERVER9']);
    expect(rip.code).toBe(6);
    expect(oneLine(rip)).toBe('lbappliance: virtual service AVS has no real server "SERVER9" (by label or id); it has: SERVER1, SERVER2');
    expect((await on(['drain', 'vs-000000000000', 'SERVER1'])).code).toBe(6);
  });

  it('refuses a read-only user (exit 5) and a missing argument (exit 2)', async () => {
    const ro = await on(['drain', 'AVS', 'SERVER1', '--username', READER.username], { LBAPPLIANCE_PASSWORD: READER.password });
    expect(ro.code).toBe(5);
    expect(oneLine(ro)).toMatch(/^lbappliance: user oncall may not drain SERVER1 on AVS: LB_FORBIDDEN: /);
    expect((await client.getRealServer(ids.avs, ids.s1)).adminState).toBe('online');
    const usage = await on(['halt', 'AVS']);
    expect(usage.code).toBe(2);
    expect(oneLine(usage)).toBe('lbappliance: usage: lbappliance halt VIP RIP  (each by label or id)');
  });
});

describe('connection failures', () => {
  it('tells a wrong password (exit 4) from an unreachable appliance (exit 3)', async () => {
    const wrong = await on(['status'], { LBAPPLIANCE_PASSWORD: 'not-the-password-123' });
    expect(wrong.code).toBe(4);
    expect(oneLine(wrong)).toBe(`lbappliance: wrong user name or password for loadbalancer at ${app.endpoint}`);
    const started = Date.now();
    const down = await cli(['status', '--endpoint', 'https://127.0.111.3:9443', '--insecure']);
    expect(down.code).toBe(3);
    expect(oneLine(down)).toBe('lbappliance: cannot reach the appliance at https://127.0.111.3:9443 (ECONNREFUSED)');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('asks for trust in the certificate (exit 8), the password (exit 2), and an https endpoint', async () => {
    const untrusted = await cli(['status', '--endpoint', app.endpoint]);
    expect(untrusted.code).toBe(8);
    expect(oneLine(untrusted)).toMatch(/certificate this machine does not trust \(DEPTH_ZERO_SELF_SIGNED_CERT\): pass --ca-file .* or --insecure$/);
    expect((await cli(['status', '--endpoint', app.endpoint, '--insecure'])).code).toBe(0);
    expect((await cli(['status'], { LBAPPLIANCE_ENDPOINT: app.endpoint, LBAPPLIANCE_INSECURE: 'true' })).code).toBe(0);
    const nopass = await on(['status'], { LBAPPLIANCE_PASSWORD: undefined });
    expect(nopass.code).toBe(2);
    expect(oneLine(nopass)).toBe('lbappliance: set LBAPPLIANCE_PASSWORD to the password of user loadbalancer');
    const http = await cli(['status', '--endpoint', app.endpoint.replace('https:', 'http:')]);
    expect(http.code).toBe(2);
    expect(oneLine(http)).toMatch(/must start with https:\/\/$/);
  });
});

describe('lbappliance backup and restore', () => {
  it('backs up the whole configuration, without private keys, and restores it in one revision', async () => {
    const file = join(dir, 'backup.json');
    const backedUp = await on(['backup', file]);
    expect(backedUp.code).toBe(0);
    expect(oneLine(backedUp)).toMatch(/^backed up revision \d+ \(2 virtual services, 3 real servers, 2 certificates\) to .*; private keys and secrets stay on the appliance$/);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const text = await readFile(file, 'utf8');
    expect(text).not.toMatch(/PRIVATE KEY/);
    const saved = JSON.parse(text) as Config;
    expect(saved).toEqual(await client.getConfig());
    expect(JSON.parse((await on(['backup'])).stdout)).toEqual(saved);

    // Someone changes things; the restore puts everything back.
    await client.updateRealServer(ids.avs, ids.s1, { weight: 5, adminState: 'halt' });
    await client.deleteVirtualService(ids.aqi);
    const restored = await on(['restore', file]);
    expect(restored.code).toBe(0);
    expect(restored.stdout).toMatch(/^restored .*backup\.json: revision \d+ \(2 virtual services, 3 real servers, 2 certificates\)\n$/);
    const after = await client.getConfig();
    expect({ ...after, revision: saved.revision }).toEqual(saved);
    expect(after.revision).toBeGreaterThan(saved.revision);
  });

  it('restores onto another appliance only with the certificate material, which stays there', async () => {
    const file = join(dir, 'backup.json');
    const env = { LBAPPLIANCE_PASSWORD: other.password };
    const target = ['--endpoint', other.endpoint, '--insecure'];
    const missing = await cli(['restore', file, ...target], env);
    expect(missing.code).toBe(7);
    // Named by the label --cert-pem takes, with what would bring the material.
    expect(oneLine(missing)).toMatch(/LB_CERTIFICATE_INVALID: certificate avs-cert \(cert-\w+\) does not exist here and brings no pem, pfx or selfSigned material: restore a backup made with a passphrase .*or give the certificate's pem \(certificate, chain and private key in one PEM\)/);
    const done = await cli(['restore', file, ...target, '--cert-pem', `avs-cert=${join(dir, 'avs.pem')}`], env);
    expect(done.code).toBe(0);
    expect(done.stderr).toMatch(/^warning: certificate spare-selfsigned \(cert-\w+\) has a new fingerprint .*: its key was not in the backup\n$/);
    const there = await other.client().getConfig();
    const here = await client.getConfig();
    const byLabel = (c: Config) => Object.fromEntries(Object.values(c.certificates).map((x) => [x.label, x.fingerprintSha256]));
    // The PEM certificate arrives with its own key; the self-signed one is generated anew.
    expect(byLabel(there)['avs-cert']).toBe(byLabel(here)['avs-cert']);
    expect(byLabel(there)['spare-selfsigned']).not.toBe(byLabel(here)['spare-selfsigned']);
    expect(Object.values(there.virtualServices).map((v) => v.label).sort()).toEqual(['AVS', 'AVS-AQI']);
  });

  it('refuses a file that is not a backup (exit 2) and a read-only restore (exit 5)', async () => {
    const junk = join(dir, 'junk.json');
    await writeFile(junk, '{"hello": 1}');
    const notBackup = await on(['restore', junk]);
    expect(notBackup.code).toBe(2);
    expect(oneLine(notBackup)).toMatch(/is not a backup: it needs virtualServices, realServers and certificates/);
    expect((await on(['restore', join(dir, 'absent.json')])).code).toBe(2);
    const ro = await on(['restore', join(dir, 'backup.json'), '--username', READER.username], { LBAPPLIANCE_PASSWORD: READER.password });
    expect(ro.code).toBe(5);
  });
});
