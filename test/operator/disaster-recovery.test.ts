// A disaster-recovery backup, as the on-call engineer makes and uses one (issue 16): `lbappliance
// backup --passphrase-file` on the appliance that will die, then `lbappliance restore` onto a
// brand-new appliance process with its own data dir. Every id and certificate fingerprint
// comes back, keys included, and the TLS VIP serves with the very certificate it served
// before. A backup without a passphrase holds no key material; a wrong passphrase is a clear
// 422 on /keyPassphrase that changes nothing. Addresses 127.0.205.x belong to this file.
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplianceProblemError, type Config } from '../../openapi/sdk/index.js';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';
import { makeTestCert } from '../helpers/certs.js';
import { LBAPPLIANCE_BIN } from '../helpers/paths.js';
import { startHttpBackend, type HttpBackend } from '../engine/helpers/backends.js';

const VIP = '127.0.205.217';
const PASSPHRASE = 'correct horse battery staple';
const READER = { username: 'auditor', password: 'auditor-password-0123' };

let old: TestAppliance | undefined;
let fresh: TestAppliance | undefined;
let backend: HttpBackend;
let dir: string;
let before: Config;
let servedBefore: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI against an appliance, with a clean environment. */
function cli(app: TestAppliance, args: string[]): Promise<Run> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LBAPPLIANCE_')));
  return new Promise((resolve) => {
    execFile(process.execPath, [LBAPPLIANCE_BIN, ...args, '--endpoint', app.endpoint, '--insecure'], { env: { ...base, LBAPPLIANCE_PASSWORD: app.password } as NodeJS.ProcessEnv }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** The SHA-256 fingerprint of the certificate a TLS VIP presents, as the API writes it. */
function servedFingerprint(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, servername: 'pacs.hospital.test', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, () => {
      const raw = socket.getPeerCertificate().raw;
      socket.end();
      resolve(new X509Certificate(raw).fingerprint256.toUpperCase());
    });
    socket.once('error', reject);
  });
}

/** A GET through the VIP; resolves with the body. */
function through(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, servername: 'pacs.hospital.test', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, () => {
      socket.write('GET / HTTP/1.1\r\nHost: pacs.hospital.test\r\nConnection: close\r\n\r\n');
    });
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.once('end', () => resolve(text));
    socket.once('error', reject);
  });
}

/** Polls until the VIP answers with the backend's name. */
async function servesThrough(port: number): Promise<string> {
  const deadline = Date.now() + 30_000;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const text = await through(VIP, port);
      if (/^HTTP\/1\.1 200/.test(text) && text.includes('dr-backend')) return text;
      last = text.split('\r\n')[0];
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the VIP does not serve: ${String(last)}`);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lbappliance-dr-'));
  backend = await startHttpBackend({ name: 'dr-backend', host: '127.0.205.6' });
  old = await startTestAppliance({ engine: 'embedded' });
  const client = old.client();
  const pem = makeTestCert('pacs.hospital.test');
  const uploaded = await client.createCertificate({ label: 'pacs-cert', pem: pem.bundlePem });
  await client.createCertificate({ label: 'spare-rsa', selfSigned: { commonName: 'spare.hospital.test', keyType: 'rsa-2048' } });
  const vs = await client.createVirtualService({ label: 'PACS', ipAddress: VIP, ports: [8443], protocol: 'http', certificateId: uploaded.id, healthCheck: { type: 'none' } });
  await client.createRealServer(vs.id, { label: 'PACS1', address: backend.host, port: backend.port });
  await client.createUser({ ...READER, role: 'read-only' });
  await writeFile(join(dir, 'passphrase'), `${PASSPHRASE}\n`, { mode: 0o600 });
  await writeFile(join(dir, 'wrong'), 'not the passphrase at all\n', { mode: 0o600 });
  await servesThrough(8443);
  servedBefore = await servedFingerprint(VIP, 8443);
  before = await client.getConfig();
}, 120_000);

afterAll(async () => {
  await Promise.all([old?.dispose(), fresh?.dispose(), backend?.close()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a disaster-recovery backup', () => {
  it('holds no key material without a passphrase, and keys encrypted only with one', async () => {
    const app = old as TestAppliance;
    const plain = await cli(app, ['backup', join(dir, 'plain.json')]);
    expect(plain.code).toBe(0);
    const plainText = await readFile(join(dir, 'plain.json'), 'utf8');
    expect(plainText).not.toMatch(/PRIVATE KEY|encryptedPrivateKey|keyEncryption/);

    const made = await cli(app, ['backup', join(dir, 'dr.json'), '--passphrase-file', join(dir, 'passphrase')]);
    expect(made.code).toBe(0);
    expect(made.stderr).toMatch(/private keys and secrets encrypted under the passphrase of .*passphrase\n$/);
    const text = await readFile(join(dir, 'dr.json'), 'utf8');
    expect(text).not.toMatch(/PRIVATE KEY/);
    expect(text).not.toContain(PASSPHRASE);
    const doc = JSON.parse(text) as Config;
    expect(doc.keyEncryption).toMatchObject({ algorithm: 'scrypt-aes-256-gcm', cost: 32768 });
    for (const cert of Object.values(doc.certificates)) expect(cert.encryptedPrivateKey).toMatch(/^[A-Za-z0-9+/]+=*$/);
    // Apart from the encrypted keys and secrets (issue 18: sealed the same way), it is the plain export.
    expect(doc.encryptedSecrets).toMatch(/^[A-Za-z0-9+/]+=*$/);
    const { keyEncryption: _k, encryptedSecrets: _s, ...rest } = doc;
    for (const cert of Object.values(rest.certificates)) delete cert.encryptedPrivateKey;
    expect(rest).toEqual(before);

    // Keys leave only for administrators, and the passphrase is never written down.
    const reader = app.client(READER);
    await expect(reader.exportBackup({ passphrase: PASSPHRASE })).rejects.toMatchObject({ status: 403, code: 'LB_FORBIDDEN' });
    await expect(app.client().exportBackup({ passphrase: 'short' })).rejects.toMatchObject({ status: 400, field: '/passphrase' });
    expect(app.output.join('\n')).not.toContain(PASSPHRASE);
    const audit = await app.client().listAuditEntries({ query: { limit: 5 } });
    expect(audit.items.map((e) => e.operation)).toContain('exportBackup');
    expect(JSON.stringify(audit)).not.toContain(PASSPHRASE);
  });

  it('restores onto a new appliance with the same ids, fingerprints and keys, and the TLS VIP serves the same certificate', async () => {
    // The old appliance is gone (and with it the VIP address it held).
    await (old as TestAppliance).stop();
    fresh = await startTestAppliance({ engine: 'embedded' });
    const client = fresh.client();
    const empty = await client.getConfig();

    // Without the passphrase, or with a wrong one, nothing changes.
    const none = await cli(fresh, ['restore', join(dir, 'dr.json')]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/holds private keys encrypted under a passphrase: give it with --passphrase-file FILE/);
    const wrong = await cli(fresh, ['restore', join(dir, 'dr.json'), '--passphrase-file', join(dir, 'wrong')]);
    expect(wrong.code).toBe(7);
    expect(wrong.stderr).toMatch(/LB_CERTIFICATE_INVALID: the passphrase does not open the private key of certificate/);
    const doc = JSON.parse(await readFile(join(dir, 'dr.json'), 'utf8')) as Config;
    const { revision: _r, ...body } = doc;
    const refused = await client.replaceConfig({ ...body, keyPassphrase: 'not the passphrase at all' }).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(ApplianceProblemError);
    expect(refused).toMatchObject({ status: 422, code: 'LB_CERTIFICATE_INVALID', field: '/keyPassphrase' });
    const missing = await client.replaceConfig(body).catch((err: unknown) => err);
    expect(missing).toMatchObject({ status: 400, code: 'LB_VALIDATION', field: '/keyPassphrase' });
    expect(await client.getConfig()).toEqual(empty);

    const restored = await cli(fresh, ['restore', join(dir, 'dr.json'), '--passphrase-file', join(dir, 'passphrase')]);
    expect(restored.code).toBe(0);
    expect(restored.stderr).toBe('');
    const after = await client.getConfig();
    expect({ ...after, revision: before.revision }).toEqual(before);
    expect(Object.keys(after.certificates).sort()).toEqual(Object.keys(before.certificates).sort());

    expect(await servesThrough(8443)).toContain('dr-backend');
    const served = await servedFingerprint(VIP, 8443);
    expect(served).toBe(servedBefore);
    const pacs = Object.values(after.certificates).find((c) => c.label === 'pacs-cert');
    expect(served).toBe(pacs?.fingerprintSha256);
  });
});
