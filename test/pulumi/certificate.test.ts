// Certificate through the real plugin process: Check of bad material, PEM upload with the
// private key sent as a secret, a clean diff, relabelling, rotation by privateKeyVersion,
// self-signed generation, drift, import and delete. The private key is a secret in every
// answer the plugin gives (never plain text anywhere in them) and never in its log.
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApplianceClient } from '../../openapi/sdk/index.js';
import { generateSelfSigned } from '../../appliance/config/x509-generate.js';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';
import { isSecret, plainStrings, rpcError, secret, startPlugin, T, UNKNOWN, type Bag, type Plugin } from './helpers/plugin.js';

let app: TestAppliance;
let client: ApplianceClient;
let plugin: Plugin;

interface Material {
  cert: string;
  key: string;
  fingerprint: string;
}

async function material(cn: string): Promise<Material> {
  const g = await generateSelfSigned({ commonName: cn, subjectAltNames: [cn], days: 30, keyType: 'ecdsa-p256' });
  const cert = `${g.certPem.trim()}\n`;
  return { cert, key: `${g.keyPem.trim()}\n`, fingerprint: new X509Certificate(cert).fingerprint256 };
}

/** Lines of a key's base64 body: none may appear in plain text in an answer or the log. */
function keyLines(m: Material): string[] {
  return m.key.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'));
}

/** Key lines found in plain text (outside secret wrappers) in any answer so far. */
function plainKeyLeaks(m: Material): string[] {
  const plain = plugin.answers.flatMap(plainStrings).join('\n');
  return keyLines(m).filter((line) => plain.includes(line));
}

let first: Material;
let second: Material;

beforeAll(async () => {
  [app, plugin, first, second] = await Promise.all([startTestAppliance(), startPlugin(), material('avs.hospital.test'), material('avs2.hospital.test')]);
  client = app.client();
  await plugin.configureFor(app);
});
afterAll(async () => {
  await plugin?.stop();
  await app?.dispose();
});

describe('Certificate', () => {
  let id: string;
  let state: Bag;
  let inputs: Bag;

  it('fails Check on bad material, per property', async () => {
    const two = await plugin.check(T.cert, { label: 'c', certificatePem: first.cert, privateKeyPem: secret(first.key), selfSigned: { commonName: 'x' } });
    expect(two.failures).toEqual([{ property: 'selfSigned', reason: expect.stringMatching(/\[LBP_CERTIFICATE_SOURCE\]$/) }]);
    const mismatch = await plugin.check(T.cert, { label: 'c', certificatePem: first.cert, privateKeyPem: secret(second.key) });
    expect(mismatch.failures).toEqual([{ property: 'privateKeyPem', reason: expect.stringMatching(/\[LBP_KEY_MISMATCH\]$/) }]);
    const keyInCert = await plugin.check(T.cert, { label: 'c', certificatePem: `${first.cert}${first.key}`, privateKeyPem: secret(first.key) });
    expect(keyInCert.failures.map((f) => f.property)).toEqual(['certificatePem']);
    // The mistake is reported, and the pasted key still goes back only as a secret.
    expect(isSecret(keyInCert.inputs.certificatePem)).toBe(true);
    const unknownKey = await plugin.check(T.cert, { label: 'c', certificatePem: first.cert, privateKeyPem: secret(UNKNOWN) });
    expect(unknownKey.failures).toEqual([]);
    expect(isSecret(unknownKey.inputs.privateKeyPem)).toBe(true);
  });

  it('keeps the private key a secret in Check, even when the program sent it in plain text', async () => {
    const { inputs: checked } = await plugin.check(T.cert, { label: 'avs-tls', certificatePem: first.cert, privateKeyPem: first.key, privateKeyVersion: 1 });
    expect(isSecret(checked.privateKeyPem) && checked.privateKeyPem.value).toBe(first.key);
    expect(checked.certificatePem).toBe(first.cert);
  });

  it('previews a create without touching the appliance', async () => {
    const before = (await client.listCertificates()).revision;
    const { inputs: checked } = await plugin.check(T.cert, { label: 'avs-tls', certificatePem: UNKNOWN, privateKeyPem: secret(UNKNOWN) });
    const planned = await plugin.create(T.cert, checked, { preview: true });
    expect(planned.properties).toMatchObject({ label: 'avs-tls', certificatePem: UNKNOWN, fingerprintSha256: UNKNOWN });
    expect(isSecret(planned.properties.privateKeyPem)).toBe(true);
    expect((await client.listCertificates()).revision).toBe(before);
  });

  it('uploads PEM material; the key comes back only as a secret', async () => {
    const created = await plugin.checkAndCreate(T.cert, { label: 'avs-tls', certificatePem: first.cert, privateKeyPem: secret(first.key), privateKeyVersion: 1 });
    ({ id, properties: state, inputs } = created);
    expect(id).toMatch(/^cert-[0-9a-f]{12}$/);
    expect(state).toMatchObject({ label: 'avs-tls', source: 'pem', commonName: 'avs.hospital.test', fingerprintSha256: first.fingerprint, certificatePem: first.cert, privateKeyVersion: 1 });
    expect(isSecret(state.privateKeyPem) && state.privateKeyPem.value).toBe(first.key);
    expect(await client.getCertificate(id)).toMatchObject({ fingerprintSha256: first.fingerprint });
  });

  it('diffs no change, then a relabel in place without resending the key', async () => {
    expect((await plugin.diff(T.cert, id, state, inputs)).changes).toBe('none');
    const relabel = await plugin.diff(T.cert, id, state, { ...inputs, label: 'avs-tls-2' });
    expect(relabel).toMatchObject({ changes: 'some', replaces: [], detailed: { label: 'UPDATE' }, deleteBeforeReplace: false });
    state = (await plugin.update(T.cert, id, state, { ...inputs, label: 'avs-tls-2' })).properties;
    inputs = { ...inputs, label: 'avs-tls-2' };
    expect(state).toMatchObject({ label: 'avs-tls-2', fingerprintSha256: first.fingerprint });
    expect(isSecret(state.privateKeyPem)).toBe(true);
  });

  it('rotates the material in place when the certificate and privateKeyVersion change', async () => {
    const news = { ...inputs, certificatePem: second.cert, privateKeyPem: secret(second.key), privateKeyVersion: 2 };
    const diff = await plugin.diff(T.cert, id, state, news);
    expect(diff).toMatchObject({ replaces: [], detailed: { certificatePem: 'UPDATE', privateKeyVersion: 'UPDATE' } });
    expect(diff.stables).not.toContain('fingerprintSha256');
    const planned = await plugin.update(T.cert, id, state, news, { preview: true });
    expect(planned.properties.fingerprintSha256).toBe(UNKNOWN);
    state = (await plugin.update(T.cert, id, state, news)).properties;
    inputs = news;
    expect(state).toMatchObject({ fingerprintSha256: second.fingerprint, commonName: 'avs2.hospital.test' });
    expect((await client.getCertificate(id)).fingerprintSha256).toBe(second.fingerprint);
  });

  it('reads drift from a relabel made out of band', async () => {
    await client.updateCertificate(id, { label: 'renamed' });
    const read = await plugin.read(T.cert, id, state, inputs);
    expect(read.properties).toMatchObject({ label: 'renamed', fingerprintSha256: second.fingerprint, certificatePem: second.cert });
    expect(isSecret(read.properties.privateKeyPem)).toBe(true);
    expect(isSecret(read.inputs!.privateKeyPem)).toBe(true);
    expect((await plugin.diff(T.cert, id, read.properties, inputs)).detailed).toEqual({ label: 'UPDATE' });
    state = (await plugin.update(T.cert, id, read.properties, inputs)).properties;
  });

  it('imports by id with no prior state: public details only', async () => {
    const imported = await plugin.read(T.cert, id);
    expect(imported.id).toBe(id);
    expect(imported.properties).toMatchObject({ label: 'avs-tls-2', source: 'pem', fingerprintSha256: second.fingerprint });
    expect(imported.properties).not.toHaveProperty('privateKeyPem');
    expect(imported.inputs).toEqual({ label: 'avs-tls-2', certificatePem: expect.stringContaining('BEGIN CERTIFICATE') });
  });

  it('generates a self-signed certificate with the defaults filled in', async () => {
    const created = await plugin.checkAndCreate(T.cert, { label: 'internal', selfSigned: { commonName: 'intuition.hospital.test', subjectAltNames: ['127.0.80.40'] } }, 'internal');
    expect(created.inputs.selfSigned).toEqual({ commonName: 'intuition.hospital.test', subjectAltNames: ['127.0.80.40'], days: 365, keyType: 'ecdsa-p256' });
    expect(created.properties).toMatchObject({ source: 'selfSigned', commonName: 'intuition.hospital.test', subjectAltNames: ['127.0.80.40'] });
    expect((await plugin.diff(T.cert, created.id, created.properties, created.inputs)).changes).toBe('none');
    const longer = await plugin.diff(T.cert, created.id, created.properties, { ...created.inputs, selfSigned: { commonName: 'intuition.hospital.test', subjectAltNames: ['127.0.80.40'], days: 30 } });
    expect(longer.detailed).toEqual({ 'selfSigned.days': 'UPDATE' });
    await plugin.delete(T.cert, created.id, created.properties);
  });

  it('refuses to delete a certificate a virtual service uses, with the appliance code', async () => {
    const vs = await plugin.checkAndCreate(T.vs, { label: 'pu-avs', ipAddress: '127.0.80.41', ports: [443], protocol: 'http2', certificateId: id });
    const err = await rpcError(plugin.delete(T.cert, id, state));
    expect(err.details).toMatch(/^deleting Certificate .*\[LB_/);
    await plugin.delete(T.vs, vs.id, vs.properties);
  });

  it('deletes it', async () => {
    await plugin.delete(T.cert, id, state);
    expect((await client.listCertificates()).items).toEqual([]);
  });

  it('never answered a private key in plain text, and never logged one', () => {
    expect(plugin.answers.length).toBeGreaterThan(10);
    expect(plainKeyLeaks(first)).toEqual([]);
    expect(plainKeyLeaks(second)).toEqual([]);
    const log = plugin.stderr.join('\n');
    for (const line of [...keyLines(first), ...keyLines(second)]) expect(log).not.toContain(line);
  });
});
