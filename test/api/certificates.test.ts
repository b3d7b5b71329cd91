// Certificates: PEM and PFX uploads (made by openssl), self-signed generation, rotation,
// relabelling, and the private key never leaving the appliance.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApplianceClient } from '../../openapi/sdk/index.js';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';
import { makeTestCert } from '../helpers/certs.js';

let app: TestAppliance;
let client: ApplianceClient;

beforeAll(async () => {
  app = await startTestAppliance();
  client = app.client();
});
afterAll(async () => app?.dispose());

async function rawGet(path: string): Promise<string> {
  const res = await request(`${app.endpoint}${path}`, {
    headers: { authorization: `Basic ${Buffer.from(`loadbalancer:${app.password}`).toString('base64')}` },
    dispatcher: new (await import('undici')).Agent({ connect: { rejectUnauthorized: false } }),
  });
  return res.body.text();
}

describe('certificates', () => {
  it('uploads a PEM bundle (EC) and returns its public details', async () => {
    const t = makeTestCert('intuition.hospital.example', 'ec', ['intuition.hospital.example', '127.0.40.217']);
    const cert = await client.createCertificate({ label: 'intuition-cert', pem: t.bundlePem });
    const x = new X509Certificate(t.certPem);
    expect(cert).toMatchObject({
      label: 'intuition-cert',
      source: 'pem',
      commonName: 'intuition.hospital.example',
      subject: 'CN=intuition.hospital.example',
      subjectAltNames: ['intuition.hospital.example', '127.0.40.217'],
      fingerprintSha256: x.fingerprint256,
      serialNumber: x.serialNumber.toUpperCase(),
      keyType: 'ec-prime256v1',
      selfSigned: null,
      usedBy: [],
    });
    expect(new X509Certificate(cert.chainPem).fingerprint256).toBe(x.fingerprint256);
    expect(Date.parse(cert.notAfter)).toBe(Date.parse(x.validTo));
  });

  it('uploads a PFX (RSA, openssl 3 defaults: AES-256 and PBKDF2) with its passphrase', async () => {
    const t = makeTestCert('agfa.hospital.example', 'rsa');
    const cert = await client.createCertificate({ label: 'agfa-pfx', pfx: t.pfxBase64, passphrase: t.pfxPassphrase });
    expect(cert).toMatchObject({ source: 'pfx', keyType: 'rsa-2048', commonName: 'agfa.hospital.example' });
    expect(cert.fingerprintSha256).toBe(new X509Certificate(t.certPem).fingerprint256);
  });

  it('uploads an EC PFX (node-forge cannot decode EC certificates itself)', async () => {
    const t = makeTestCert('ec-pfx.hospital.example', 'ec');
    const cert = await client.createCertificate({ label: 'ec-pfx', pfx: t.pfxBase64, passphrase: t.pfxPassphrase });
    expect(cert).toMatchObject({ source: 'pfx', keyType: 'ec-prime256v1' });
  });

  it('generates self-signed certificates with the requested names, validity and key type', async () => {
    const cert = await client.createCertificate({ label: 'self', selfSigned: { commonName: 'pacs.hospital.example', subjectAltNames: ['pacs.hospital.example', '127.0.60.10'], days: 30, keyType: 'rsa-2048' } });
    expect(cert).toMatchObject({ source: 'selfSigned', keyType: 'rsa-2048', subjectAltNames: ['pacs.hospital.example', '127.0.60.10'] });
    expect(cert.selfSigned).toEqual({ commonName: 'pacs.hospital.example', subjectAltNames: ['pacs.hospital.example', '127.0.60.10'], days: 30, keyType: 'rsa-2048' });
    const days = (Date.parse(cert.notAfter) - Date.parse(cert.notBefore)) / 86_400_000;
    expect(days).toBeCloseTo(30, 0);
    const x = new X509Certificate(cert.chainPem);
    expect(x.verify(x.publicKey)).toBe(true);
  });

  it('keeps a common name with DN metacharacters exactly (found by the property test: a leading #)', async () => {
    for (const commonName of ['#1 "Radiology", Ward+3', 'Zoë \\ backslash', ' lead and trail ']) {
      const cert = await client.createCertificate({ label: `dn-${commonName.length}`, selfSigned: { commonName } });
      expect(cert.commonName).toBe(commonName);
      expect(cert.selfSigned?.commonName).toBe(commonName);
    }
  });

  it('rotates the material with PUT and relabels with PATCH, keeping the id', async () => {
    const a = makeTestCert('rotate.example');
    const b = makeTestCert('rotate.example');
    const cert = await client.createCertificate({ label: 'rotate', pem: a.bundlePem });
    const vs = await client.createVirtualService({ label: 'rotating-vip', ipAddress: '127.0.45.1', ports: [443], protocol: 'http2', certificateId: cert.id });
    const rotated = await client.replaceCertificate(cert.id, { label: 'rotate', pem: b.bundlePem });
    expect(rotated.id).toBe(cert.id);
    expect(rotated.fingerprintSha256).toBe(new X509Certificate(b.certPem).fingerprint256);
    expect(rotated.usedBy).toEqual([vs.id]);
    const relabelled = await client.updateCertificate(cert.id, { label: 'rotated' });
    expect(relabelled).toMatchObject({ label: 'rotated', fingerprintSha256: rotated.fingerprintSha256 });
    const rotatedAgain = await client.updateCertificate(cert.id, { selfSigned: { commonName: 'rotate.example' } });
    expect(rotatedAgain.source).toBe('selfSigned');
  });

  it('never returns a private key, and stores keys readable by the appliance user only', async () => {
    const t = makeTestCert('secret.example');
    await client.createCertificate({ label: 'secret', pem: t.bundlePem });
    for (const path of ['/api/v1/certificates', '/api/v1/config', '/api/v1/revisions/1', '/api/v1/audit-log']) {
      const text = await rawGet(path);
      expect(text, path).not.toMatch(/PRIVATE KEY/);
    }
    const keyDir = join(app.dataDir, 'config', 'keys');
    const files = await readdir(keyDir);
    expect(files.length).toBeGreaterThan(0);
    expect((await stat(keyDir)).mode & 0o077).toBe(0);
    for (const f of files) {
      expect((await stat(join(keyDir, f))).mode & 0o077).toBe(0);
      expect(await readFile(join(keyDir, f), 'utf8')).toMatch(/BEGIN PRIVATE KEY/);
    }
    const revs = join(app.dataDir, 'config', 'revisions');
    for (const f of await readdir(revs)) expect(await readFile(join(revs, f), 'utf8')).not.toMatch(/PRIVATE KEY/);
  });

  it('filters by label and answers 404 for unknown ids', async () => {
    const cert = await client.createCertificate({ label: 'findme', selfSigned: { commonName: 'findme.example' } });
    expect((await client.listCertificates({ query: { label: 'findme' } })).items.map((c) => c.id)).toEqual([cert.id]);
    await expect(client.getCertificate('cert-00000000beef')).rejects.toMatchObject({ status: 404, code: 'LB_NOT_FOUND', field: 'certificateId' });
  });
});
