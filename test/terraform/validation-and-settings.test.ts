// What users see when something is wrong, and how the provider is configured: invalid
// configurations fail with a diagnostic on the offending attribute and change nothing on
// the appliance; provider settings come from the block or LBAPPLIANCE_* variables; data
// sources look objects up by label; the HA pair resource surfaces the appliance's refusal.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applianceWorkspace, expectCode, type TfResult } from './helpers/terraform.js';

const ctx = applianceWorkspace();

/** A diagnostic of `terraform ... -json`. */
interface JsonDiagnostic {
  severity: string;
  summary: string;
  detail: string;
  address?: string;
  snippet?: { code: string };
}

function diagnosticsOf(result: TfResult): JsonDiagnostic[] {
  return result.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { type: string; diagnostic?: JsonDiagnostic })
    .filter((m) => m.type === 'diagnostic' && m.diagnostic?.severity === 'error')
    .map((m) => m.diagnostic!);
}

/** Runs a failing plan or apply and returns its error diagnostics; the appliance must not change. */
async function failing(command: 'plan' | 'apply', hcl: string): Promise<JsonDiagnostic[]> {
  const before = (await ctx.client.getConfig()).revision;
  await ctx.tf.write(hcl);
  const result = await ctx.tf.run(command === 'plan' ? ['plan', '-json', '-input=false'] : ['apply', '-json', '-auto-approve', '-input=false']);
  expect(result.code, result.output).toBe(1);
  expect((await ctx.client.getConfig()).revision).toBe(before);
  return diagnosticsOf(result);
}

describe('invalid configuration', () => {
  it('a bad port: the diagnostic points at the port', async () => {
    const diags = await failing('plan', `resource "lbappliance_virtual_service" "v" {\n  label = "bad-port"\n  ip_address = "127.0.72.1"\n  ports = [80, 70000]\n  protocol = "http"\n}`);
    expect(diags).toHaveLength(1);
    expect(diags[0]).toMatchObject({ summary: 'Invalid value for ports[1]', detail: 'must be at most 65535; got 70000', address: 'lbappliance_virtual_service.v' });
    expect(diags[0]!.snippet!.code).toContain('ports = [80, 70000]');
  });

  it('a health-check path the request line cannot carry: the plan fails on health_check.path (issue 19)', async () => {
    const diags = await failing('plan', `resource "lbappliance_virtual_service" "v" {\n  label = "bad-path"\n  ip_address = "127.0.152.2"\n  ports = [8080]\n  protocol = "http"\n  health_check = { type = "http", path = "/\u01c5", interval = 1 }\n}`);
    expect(diags).toHaveLength(1);
    expect(diags[0]).toMatchObject({ summary: 'Invalid value for health_check.path', address: 'lbappliance_virtual_service.v' });
    expect(diags[0]!.detail).toContain('does not match');
  });

  it('an unknown protocol: the diagnostic points at protocol', async () => {
    const diags = await failing('plan', `resource "lbappliance_virtual_service" "v" {\n  label = "bad-protocol"\n  ip_address = "127.0.72.1"\n  ports = [80]\n  protocol = "sctp"\n}`);
    expect(diags.map((d) => d.summary)).toEqual(['Invalid value for protocol']);
    expect(diags[0]!.detail).toContain('must be one of "http", "http2", "tcp", "udp"');
    expect(diags[0]!.snippet!.code).toContain('protocol = "sctp"');
  });

  it('a certificate that does not parse: the diagnostic points at certificate_pem', async () => {
    const diags = await failing(
      'plan',
      `resource "lbappliance_certificate" "c" {\n  label = "bad-cert"\n  certificate_pem = "-----BEGIN CERTIFICATE-----\\nbm90IGEgY2VydGlmaWNhdGU=\\n-----END CERTIFICATE-----\\n"\n  private_key_pem = "not a key"\n}`,
    );
    expect(diags.map((d) => d.summary).sort()).toEqual(['Certificate does not parse', 'Private key does not parse']);
    expect(diags.find((d) => d.summary === 'Certificate does not parse')!.snippet!.code).toContain('certificate_pem =');
  });

  it('http2 without a certificate: the diagnostic points at certificate_id', async () => {
    const diags = await failing('plan', `resource "lbappliance_virtual_service" "v" {\n  label = "h2"\n  ip_address = "127.0.72.1"\n  ports = [443]\n  protocol = "http2"\n}`);
    expect(diags.map((d) => d.summary)).toEqual(['A certificate is required']);
  });

  it('http-cookie persistence on a tcp VIP fails at plan, pointing at persistence.mode', async () => {
    const diags = await failing('plan', `resource "lbappliance_virtual_service" "v" {\n  label = "cookie-tcp"\n  ip_address = "127.0.72.1"\n  ports = [1200]\n  protocol = "tcp"\n  persistence = {\n    mode = "http-cookie"\n  }\n}`);
    expect(diags.map((d) => [d.summary, d.detail])).toEqual([['Settings that cannot be combined', 'http-cookie persistence needs protocol http or http2; use source-ip for tcp [LB_INVALID_COMBINATION]']]);
    expect(diags[0]!.snippet!.code).toMatch(/^\s*persistence = \{[\s\S]*mode = "http-cookie"/);
  });

  it('a nested value out of range points at the nested attribute, and a mistyped address at address', async () => {
    const diags = await failing('plan', `resource "lbappliance_virtual_service" "v" {\n  label = "nested"\n  ip_address = "127.0.72.1"\n  ports = [80]\n  protocol = "http"\n  health_check = {\n    type = "http"\n    interval = 0\n  }\n}`);
    expect(diags.map((d) => [d.summary, d.detail])).toEqual([['Invalid value for health_check.interval', 'must be at least 1; got 0']]);
    expect(diags[0]!.snippet!.code).toMatch(/^\s*health_check = \{[\s\S]*interval = 0/);
    // 300.1.1.1 is a mistyped address, not a host name to look up (it used to sit down with ENOTFOUND).
    const rs = await failing('plan', `resource "lbappliance_real_server" "s" {\n  virtual_service_id = "vs-0123456789ab"\n  label = "s"\n  address = "300.1.1.1"\n  port = 80\n}`);
    expect(rs.map((d) => d.summary)).toEqual(['Invalid value for address']);
    expect(rs[0]!.snippet!.code).toContain('address = "300.1.1.1"');
    // A virtual service id that does not exist fails the apply on virtual_service_id.
    const missing = await failing('apply', `resource "lbappliance_real_server" "s" {\n  virtual_service_id = "vs-0123456789ab"\n  label = "s"\n  address = "127.0.72.9"\n  port = 80\n}`);
    expect(missing.map((d) => d.detail)).toEqual([expect.stringMatching(/virtual service vs-0123456789ab does not exist on the appliance .*\[LBP_NOT_FOUND\]/)]);
    expect(missing[0]!.snippet!.code).toContain('virtual_service_id = "vs-0123456789ab"');
  });

  it('clashing VIPs: the appliance refuses, the diagnostic carries its detail and points at the ports', async () => {
    await ctx.client.createVirtualService({ label: 'taken', ipAddress: '127.0.72.2', ports: [8080], protocol: 'http' });
    const diags = await failing('apply', `resource "lbappliance_virtual_service" "v" {\n  label = "clash"\n  ip_address = "127.0.72.2"\n  ports = [8080]\n  protocol = "tcp"\n}`);
    expect(diags).toHaveLength(1);
    expect(diags[0]!.summary).toBe('Creating lbappliance_virtual_service: Address and port already in use');
    expect(diags[0]!.detail).toMatch(/127\.0\.72\.2:8080 .*taken.*\[LB_ADDRESS_IN_USE\]/);
    expect(diags[0]!.snippet!.code).toContain('ports = [8080]');
    expect((await ctx.client.listVirtualServices({ query: { label: 'clash' } })).items).toEqual([]);
    expect(await ctx.tf.attributes('lbappliance_virtual_service.v')).toBeUndefined();
  });
});

describe('provider settings', () => {
  const resource = `resource "lbappliance_virtual_service" "env" {\n  label = "from-env"\n  ip_address = "127.0.72.3"\n  ports = [80]\n  protocol = "http"\n}`;

  it('come from LBAPPLIANCE_* environment variables when the block is empty (CA from LBAPPLIANCE_CA_PEM)', async () => {
    await ctx.tf.write(`provider "lbappliance" {}\n${resource}`, { provider: false });
    const caPem = await readFile(join(ctx.app.dataDir, 'tls', 'api.crt'), 'utf8');
    const env = { LBAPPLIANCE_ENDPOINT: ctx.app.endpoint, LBAPPLIANCE_USERNAME: 'loadbalancer', LBAPPLIANCE_PASSWORD: ctx.app.password, LBAPPLIANCE_CA_PEM: caPem };
    expectCode(await ctx.tf.apply([], env), 0, 'apply with env settings');
    expect((await ctx.client.listVirtualServices({ query: { label: 'from-env' } })).items).toHaveLength(1);
    expectCode(await ctx.tf.plan([], { ...env, LBAPPLIANCE_CA_PEM: '', LBAPPLIANCE_INSECURE: 'true' }), 0, 'plan with LBAPPLIANCE_INSECURE');
    // Neither: the appliance is reachable but untrusted, and the error names the settings.
    const untrusted = await ctx.tf.plan([], { ...env, LBAPPLIANCE_CA_PEM: '' });
    expectCode(untrusted, 1, 'plan without trust');
    expect(untrusted.output).toMatch(/untrusted appliance certificate/);
    expect(untrusted.output.replace(/\s+/g, ' ')).toMatch(/set ca_pem \(or LBAPPLIANCE_CA_PEM\) to its certificate .* or insecure = true/);
    expect(untrusted.output).toMatch(/LB_SDK_UNTRUSTED_CERTIFICATE/);
    expect(untrusted.output).not.toMatch(/cannot reach/);
  });

  it('name what is missing, and turn a wrong password into the appliance\'s answer', async () => {
    const missing = await ctx.tf.plan([], { LBAPPLIANCE_PASSWORD: ctx.app.password });
    expectCode(missing, 1, 'plan without endpoint');
    expect(missing.output).toMatch(/Missing appliance endpoint/);
    expect(missing.output).toMatch(/LBAPPLIANCE_ENDPOINT/);
    // Three resources in the state, so a per-resource report would show three times.
    const three = [1, 2, 3].map((n) => `resource "lbappliance_virtual_service" "w${n}" {\n  label = "wrong-${n}"\n  ip_address = "127.0.72.${10 + n}"\n  ports = [80]\n  protocol = "http"\n}`).join('\n');
    await ctx.tf.write(`provider "lbappliance" {}\n${three}`, { provider: false });
    expectCode(await ctx.tf.apply([], { LBAPPLIANCE_ENDPOINT: ctx.app.endpoint, LBAPPLIANCE_PASSWORD: ctx.app.password, LBAPPLIANCE_INSECURE: '1' }), 0, 'apply three');
    const wrong = await ctx.tf.plan([], { LBAPPLIANCE_ENDPOINT: ctx.app.endpoint, LBAPPLIANCE_PASSWORD: 'wrong-password-0000', LBAPPLIANCE_INSECURE: '1' });
    expectCode(wrong, 1, 'plan with a wrong password');
    expect(wrong.output).toMatch(/wrong\s+user\s+name\s+or\s+password\s+\[LB_UNAUTHORIZED\]/);
    // Once for the provider, not once per resource in the state.
    expect(wrong.output.match(/\[LB_UNAUTHORIZED\]/g)).toHaveLength(1);
    // Back to the one VIP of the first test (the three are destroyed).
    await ctx.tf.write(`provider "lbappliance" {}\n${resource}`, { provider: false });
    expectCode(await ctx.tf.apply([], { LBAPPLIANCE_ENDPOINT: ctx.app.endpoint, LBAPPLIANCE_PASSWORD: ctx.app.password, LBAPPLIANCE_INSECURE: '1' }), 0, 'apply back to one');
  });

  it('the block wins over the environment', async () => {
    await ctx.tf.write(resource);
    expectCode(await ctx.tf.plan([], { LBAPPLIANCE_ENDPOINT: 'https://127.0.0.1:1', LBAPPLIANCE_PASSWORD: 'nope' }), 0, 'plan');
    expectCode(await ctx.tf.destroy(), 0, 'destroy');
  });
});

describe('data sources', () => {
  it('look up a virtual service and a certificate by label, and read the overview', async () => {
    const cert = await ctx.client.createCertificate({ label: 'looked-up', selfSigned: { commonName: 'lookup.test' } });
    const vs = await ctx.client.createVirtualService({ label: 'looked-up', ipAddress: '127.0.72.4', ports: [8443], protocol: 'http2', certificateId: cert.id });
    await ctx.client.createRealServer(vs.id, { label: 'SERVER1', address: '127.0.72.40', port: 443 });
    await ctx.tf.write(`
data "lbappliance_virtual_service" "v" { label = "looked-up" }
data "lbappliance_certificate" "c" { label = "looked-up" }
data "lbappliance_overview" "o" {}
output "vs" { value = data.lbappliance_virtual_service.v }
output "cert_fp" { value = data.lbappliance_certificate.c.fingerprint_sha256 }
output "used_by" { value = data.lbappliance_certificate.c.used_by }
output "servers" { value = [for v in data.lbappliance_overview.o.virtual_services : length(v.real_servers) if v.label == "looked-up"] }
output "engine" { value = data.lbappliance_overview.o.node.engine }
`);
    expectCode(await ctx.tf.apply(), 0, 'apply');
    const out = JSON.parse((await ctx.tf.run(['output', '-json'])).stdout) as Record<string, { value: unknown }>;
    expect(out.vs!.value).toMatchObject({ id: vs.id, ip_address: '127.0.72.4', ports: [8443], protocol: 'http2', certificate_id: cert.id, persistence: { mode: 'none', cookie_name: 'SERVERID' } });
    expect(out.cert_fp!.value).toBe(cert.fingerprintSha256);
    expect(out.used_by!.value).toEqual([vs.id]);
    expect(out.servers!.value).toEqual([1]);
    expect(out.engine!.value).toBe('none');
    expectCode(await ctx.tf.plan(), 0, 'plan');
  });

  it('fail on the label when nothing has it', async () => {
    await ctx.tf.write('data "lbappliance_virtual_service" "v" { label = "no-such-vip" }');
    const result = await ctx.tf.run(['plan', '-json', '-input=false']);
    expect(result.code).toBe(1);
    const diags = diagnosticsOf(result);
    expect(diags[0]!.detail).toMatch(/no virtual service is labelled "no-such-vip"/);
    expect(diags[0]!.snippet!.code).toContain('label = "no-such-vip"');
  });
});

describe('HA pair', () => {
  it('declares the peer password write-only and sensitive', async () => {
    await ctx.tf.write('');
    const schema = JSON.parse((await ctx.tf.run(['providers', 'schema', '-json'])).stdout) as {
      provider_schemas: Record<string, { resource_schemas: Record<string, { block: { attributes: Record<string, Record<string, unknown>> } }> }>;
    };
    const attrs = schema.provider_schemas['registry.terraform.io/lbappliance/lbappliance']!.resource_schemas.lbappliance_ha_pair!.block.attributes;
    expect(attrs.peer_password).toMatchObject({ required: true, sensitive: true, write_only: true });
    expect(attrs.dead_time_ms).toMatchObject({ optional: true, computed: true });
  });

  it('checks the peer endpoint at plan time', async () => {
    const diags = await failing('plan', 'resource "lbappliance_ha_pair" "p" {\n  peer_endpoint = "http://127.0.72.9:9443"\n  peer_password = "secret-password-1"\n}');
    expect(diags[0]!.summary).toBe('Invalid value for peer_endpoint');
  });

  it('surfaces the appliance\'s refusal to pair as a diagnostic and stores nothing', async () => {
    const diags = await failing('apply', 'resource "lbappliance_ha_pair" "p" {\n  peer_endpoint = "https://127.0.72.9:9443"\n  peer_password = "secret-password-1"\n  dead_time_ms  = 2000\n}');
    expect(diags).toHaveLength(1);
    expect(diags[0]!.summary).toMatch(/^Creating lbappliance_ha_pair: /);
    expect(diags[0]!.detail).toMatch(/\[LB_[A-Z_]+\]$/);
    expect(await ctx.tf.attributes('lbappliance_ha_pair.p')).toBeUndefined();
    expect(await ctx.tf.stateText()).not.toContain('secret-password-1');
  });

  it('imports only an existing pair (id ha-pair)', async () => {
    const result = await ctx.tf.run(['import', '-no-color', 'lbappliance_ha_pair.p', 'ha-pair']);
    expect(result.code).toBe(1);
    expect(result.output).toMatch(/Cannot import non-existent remote object/);
    const bad = await ctx.tf.run(['import', '-no-color', 'lbappliance_ha_pair.p', 'pair-1']);
    expect(bad.output).toMatch(/must be "ha-pair"/);
  });
});
