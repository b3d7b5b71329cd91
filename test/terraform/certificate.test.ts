// lbappliance_certificate under the real terraform: PEM upload with a write-only private key
// that never reaches the state or the plan, self-signed generation, rotation in place (new
// certificate text, private_key_version), relabelling, replacement, drift, import, and
// destroy with a virtual service that uses it.
import { X509Certificate } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateSelfSigned } from '../../appliance/config/x509-generate.js';
import { applianceWorkspace, expectCode } from './helpers/terraform.js';

const ctx = applianceWorkspace();

/** A key pair and certificate as a user would have them in files. */
interface Material {
  cert: string;
  key: string;
  fingerprint: string;
}

async function material(cn: string): Promise<Material> {
  const g = await generateSelfSigned({ commonName: cn, subjectAltNames: [cn], days: 30, keyType: 'ecdsa-p256' });
  const cert = `${g.certPem.trim()}\n`;
  const fingerprint = new X509Certificate(cert).fingerprint256;
  return { cert, key: `${g.keyPem.trim()}\n`, fingerprint };
}

/** Every line of the key's base64 body: none may appear anywhere terraform writes. */
function keyFragments(m: Material): string[] {
  return m.key.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'));
}

let first: Material;
let second: Material;

beforeAll(async () => {
  [first, second] = await Promise.all([material('avs.hospital.test'), material('avs2.hospital.test')]);
  await writeFile(join(ctx.tf.dir, 'first.crt'), first.cert);
  await writeFile(join(ctx.tf.dir, 'first.key'), first.key);
  await writeFile(join(ctx.tf.dir, 'second.crt'), second.cert);
  await writeFile(join(ctx.tf.dir, 'second.key'), second.key);
});

function config(o: { files?: 'first' | 'second'; version?: number; label?: string; days?: number } = {}): string {
  const files = o.files ?? 'first';
  return `
resource "lbappliance_certificate" "avs" {
  label           = "${o.label ?? 'avs-tls'}"
  certificate_pem = file("${files}.crt")
  private_key_pem = file("${files}.key")
${o.version !== undefined ? `  private_key_version = ${o.version}\n` : ''}}

resource "lbappliance_certificate" "internal" {
  label = "internal"
  self_signed = {
    common_name       = "internal.hospital.test"
    subject_alt_names = ["internal.hospital.test", "127.0.71.1"]
${o.days !== undefined ? `    days              = ${o.days}\n` : ''}  }
}

resource "lbappliance_virtual_service" "avs" {
  label          = "AVS"
  ip_address     = "127.0.71.1"
  ports          = [8443]
  protocol       = "http2"
  certificate_id = lbappliance_certificate.avs.id
}
`;
}

async function certByLabel(label: string) {
  return (await ctx.client.listCertificates({ query: { label } })).items[0];
}

describe('certificate', () => {
  let avsId: string;

  it('uploads PEM material and generates a self-signed certificate; the key stays out of plan and state', async () => {
    await ctx.tf.write(config());
    const plan = await ctx.tf.run(['plan', '-no-color', '-input=false', '-out=tfplan']);
    expectCode(plan, 0, 'plan');
    expect(plan.stdout).toMatch(/private_key_pem\s+= \(write-only attribute\)/);
    const shown = await ctx.tf.run(['show', '-json', 'tfplan']);
    const applied = await ctx.tf.apply();
    expectCode(applied, 0, 'apply');
    const state = await ctx.tf.stateText();
    for (const text of [plan.output, shown.output, applied.output, state]) {
      expect(text).not.toContain('PRIVATE KEY');
      for (const fragment of keyFragments(first)) expect(text).not.toContain(fragment);
    }
    const cert = (await certByLabel('avs-tls'))!;
    avsId = cert.id;
    expect(cert).toMatchObject({ source: 'pem', commonName: 'avs.hospital.test', fingerprintSha256: first.fingerprint });
    expect(await ctx.tf.attributes('lbappliance_certificate.avs')).toMatchObject({ id: avsId, private_key_pem: null, fingerprint_sha256: first.fingerprint, certificate_pem: first.cert });
    const internal = (await certByLabel('internal'))!;
    expect(internal).toMatchObject({ source: 'selfSigned', subjectAltNames: ['internal.hospital.test', '127.0.71.1'], selfSigned: { days: 365, keyType: 'ecdsa-p256' } });
    expect((await ctx.client.listVirtualServices({ query: { label: 'AVS' } })).items[0]).toMatchObject({ certificateId: avsId });
  });

  it('plans no changes right after apply', async () => {
    expectCode(await ctx.tf.plan(), 0, 'second plan');
  });

  it('rotates the material in place when the certificate text changes', async () => {
    await ctx.tf.write(config({ files: 'second' }));
    const plan = await ctx.tf.plan();
    expectCode(plan, 2, 'plan');
    expect(plan.stdout).toMatch(/lbappliance_certificate\.avs will be updated in-place/);
    expect(plan.stdout).toMatch(/Plan: 0 to add, 1 to change, 0 to destroy/);
    const applied = await ctx.tf.apply();
    expectCode(applied, 0, 'apply');
    for (const fragment of keyFragments(second)) expect(await ctx.tf.stateText()).not.toContain(fragment);
    expect(await ctx.client.getCertificate(avsId)).toMatchObject({ id: avsId, fingerprintSha256: second.fingerprint, usedBy: [expect.stringMatching(/^vs-/)] });
    expectCode(await ctx.tf.plan(), 0, 'plan after rotation');
  });

  it('sends the key again when private_key_version changes', async () => {
    await ctx.tf.write(config({ files: 'second', version: 2 }));
    const plan = await ctx.tf.plan();
    expectCode(plan, 2, 'plan');
    expect(plan.stdout).toMatch(/\+ private_key_version = 2/);
    const before = (await ctx.client.getConfig()).revision;
    expectCode(await ctx.tf.apply(), 0, 'apply');
    const audit = (await ctx.client.listAuditEntries({ query: { limit: 5 } })).items;
    expect(audit.find((e) => e.revision === before + 1)?.operation).toBe('replaceCertificate');
    expectCode(await ctx.tf.plan(), 0, 'plan after version change');
  });

  it('relabels without new material, and regenerates a self-signed certificate whose parameters change', async () => {
    const internalBefore = (await certByLabel('internal'))!;
    await ctx.tf.write(config({ files: 'second', version: 2, label: 'avs-tls-2', days: 90 }));
    expectCode(await ctx.tf.apply(), 0, 'apply');
    expect(await ctx.client.getCertificate(avsId)).toMatchObject({ label: 'avs-tls-2', fingerprintSha256: second.fingerprint });
    const internal = await ctx.client.getCertificate(internalBefore.id);
    expect(internal.selfSigned).toMatchObject({ days: 90 });
    expect(internal.fingerprintSha256).not.toBe(internalBefore.fingerprintSha256);
    expectCode(await ctx.tf.plan(), 0, 'plan after relabel');
  });

  it('replaces a certificate on request (-replace): a new id, the old one gone', async () => {
    const before = (await certByLabel('internal'))!.id;
    const applied = await ctx.tf.apply(['-replace=lbappliance_certificate.internal']);
    expectCode(applied, 0, 'apply -replace');
    expect(applied.stdout).toMatch(/Resources: 1 added, 0 changed, 1 destroyed/);
    const after = (await certByLabel('internal'))!.id;
    expect(after).not.toBe(before);
    await expect(ctx.client.getCertificate(before)).rejects.toMatchObject({ status: 404 });
    expectCode(await ctx.tf.plan(), 0, 'plan after -replace');
  });

  it('shows out-of-band changes as drift: a new label, a deleted certificate', async () => {
    await ctx.client.updateCertificate(avsId, { label: 'renamed-by-hand' });
    const internal = (await certByLabel('internal'))!;
    await ctx.client.deleteCertificate(internal.id);
    const plan = await ctx.tf.plan();
    expectCode(plan, 2, 'plan');
    expect(plan.stdout).toMatch(/~ label\s+= "renamed-by-hand" -> "avs-tls-2"/);
    expect(plan.stdout).toMatch(/lbappliance_certificate\.internal will be created/);
    expect(plan.stdout).toMatch(/Plan: 1 to add, 1 to change, 0 to destroy/);
    expectCode(await ctx.tf.apply(), 0, 'apply');
    expect((await ctx.client.getCertificate(avsId)).label).toBe('avs-tls-2');
    expect(await certByLabel('internal')).toBeDefined();
    expectCode(await ctx.tf.plan(), 0, 'plan after correction');
  });

  it('imports certificates (cert-...): an uploaded one and a self-signed one, then plans no changes', async () => {
    const adopted = await ctx.client.createCertificate({ label: 'adopted', pem: `${first.cert}${first.key}` });
    await ctx.tf.write(
      `${config({ files: 'second', version: 2, label: 'avs-tls-2', days: 90 })}
resource "lbappliance_certificate" "adopted" {
  label           = "adopted"
  certificate_pem = file("first.crt")
  private_key_pem = file("first.key")
}
`,
    );
    expectCode(await ctx.tf.run(['import', '-no-color', 'lbappliance_certificate.adopted', adopted.id]), 0, 'import uploaded');
    const internal = (await certByLabel('internal'))!;
    expectCode(await ctx.tf.run(['state', 'rm', 'lbappliance_certificate.internal']), 0, 'state rm');
    expectCode(await ctx.tf.run(['import', '-no-color', 'lbappliance_certificate.internal', internal.id]), 0, 'import self-signed');
    expect(await ctx.tf.attributes('lbappliance_certificate.adopted')).toMatchObject({ id: adopted.id, certificate_pem: first.cert, private_key_pem: null });
    expectCode(await ctx.tf.plan(), 0, 'plan after import');
  });

  it('destroys the virtual service, then its certificate', async () => {
    expectCode(await ctx.tf.destroy(), 0, 'destroy');
    expect((await ctx.client.listCertificates()).items).toEqual([]);
    expect((await ctx.client.listVirtualServices()).items).toEqual([]);
  });

  it('keeps the key out of every file terraform wrote', async () => {
    const state = await ctx.tf.stateText();
    const backup = await readFile(join(ctx.tf.dir, 'terraform.tfstate.backup'), 'utf8').catch(() => '');
    expect(backup).not.toBe('');
    for (const text of [state, backup]) {
      for (const m of [first, second]) for (const fragment of keyFragments(m)) expect(text).not.toContain(fragment);
    }
  });
  it('adopts objects with import blocks and -generate-config-out: the generated configuration plans, applies nothing and destroys', async () => {
    // Made outside terraform: an uploaded certificate and a VIP on it (literal ids, no references, in the generated file).
    const cert = await ctx.client.createCertificate({ label: 'gen-cert', pem: `${first.cert}${first.key}` });
    const vs = await ctx.client.createVirtualService({ label: 'GEN', ipAddress: '127.0.71.2', ports: [8443], protocol: 'http2', certificateId: cert.id });
    await ctx.tf.write(`import {\n  to = lbappliance_certificate.gen\n  id = "${cert.id}"\n}\nimport {\n  to = lbappliance_virtual_service.gen\n  id = "${vs.id}"\n}\n`);
    const generated = await ctx.tf.run(['plan', '-no-color', '-input=false', '-generate-config-out=generated.tf']);
    expectCode(generated, 0, 'plan -generate-config-out');
    const hcl = await readFile(join(ctx.tf.dir, 'generated.tf'), 'utf8');
    expect(hcl).toContain(`certificate_id = "${cert.id}"`);
    expect(hcl).not.toContain('private_key_pem = "');
    // It plans as written: the appliance holds the key of an imported certificate, none is asked for.
    const apply = await ctx.tf.apply();
    expectCode(apply, 0, 'apply the imports');
    expect(apply.output).toMatch(/2 imported, 0 added, 0 changed, 0 destroyed/);
    expectCode(await ctx.tf.plan(), 0, 'plan after import');
    // A new certificate text in that configuration does need the key, and says so at plan.
    await writeFile(join(ctx.tf.dir, 'generated.tf'), hcl.replace(/certificate_pem\s*=\s*("(?:[^"\\]|\\.)*"|<<-?EOT[\s\S]*?EOT)/, 'certificate_pem = file("second.crt")'));
    const rotate = await ctx.tf.plan();
    expectCode(rotate, 1, 'plan of a new certificate without its key');
    expect(rotate.output).toMatch(/Missing private key/);
    await writeFile(join(ctx.tf.dir, 'generated.tf'), hcl);
    // Destroy runs both deletes at once (no reference orders them): the certificate waits for its VIP.
    expectCode(await ctx.tf.destroy(), 0, 'destroy of the generated configuration');
    expect((await ctx.client.listCertificates()).items).toEqual([]);
    expect((await ctx.client.listVirtualServices()).items).toEqual([]);
  });
});
