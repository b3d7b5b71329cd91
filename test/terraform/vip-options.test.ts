// The VIP options of issue 15 under the real terraform: the fallback server and page, the
// VIP's connection limits and a real server's maxConnections. Wrong combinations fail at plan
// on the nested attribute (the shared rules of openapi/sdk/rules.ts) and change nothing; a
// configuration applies, plans clean, shows a change made through the API as drift that
// apply corrects, and imports back with no changes. Addresses 127.0.217.x belong to this file.
import { describe, expect, it } from 'vitest';
import { applianceWorkspace, expectCode } from './helpers/terraform.js';

const ctx = applianceWorkspace();

function vip(body: string): string {
  return `resource "lbappliance_virtual_service" "v" {
  label      = "tf-options"
  ip_address = "127.0.217.1"
  ports      = [8080]
  protocol   = "http"
${body}
}
`;
}

const SERVER = `
resource "lbappliance_real_server" "s" {
  virtual_service_id = lbappliance_virtual_service.v.id
  label              = "SERVER1"
  address            = "127.0.217.11"
  port               = 80
  max_connections    = 50
}
`;

async function failingPlan(hcl: string): Promise<string> {
  const before = (await ctx.client.getConfig()).revision;
  await ctx.tf.write(hcl);
  const result = await ctx.tf.run(['plan', '-no-color', '-input=false']);
  expect(result.code, result.output).toBe(1);
  expect((await ctx.client.getConfig()).revision).toBe(before);
  return result.output;
}

describe('fallback and limits', () => {
  let vsId: string;
  let rsId: string;

  it('a server fallback without an address fails at plan on fallback.address', async () => {
    const out = await failingPlan(vip('  fallback = { mode = "server" }'));
    expect(out).toMatch(/a server fallback needs the address of the fallback server\s+(│\s+)?\[LB_INVALID_COMBINATION\]/);
    expect(out).toMatch(/fallback = \{ mode = "server" \}/);
  });

  it('the maintenance page on a tcp VIP fails at plan on fallback.mode, a zero limit on limits.max_connections', async () => {
    expect(await failingPlan(vip('  fallback = { mode = "page" }').replace('"http"', '"tcp"'))).toContain('the maintenance page is an HTTP answer');
    expect(await failingPlan(vip('  limits = { max_connections = 0 }'))).toMatch(/Invalid value for limits\.max_connections[\s\S]*must be at least 1; got 0/);
    expect(await failingPlan(vip('') + SERVER.replace('= 50', '= 0'))).toMatch(/Invalid value for max_connections/);
  });

  it('applies fallback, limits and a server limit, then plans no changes', async () => {
    await ctx.tf.write(vip('  fallback = { mode = "server", address = "127.0.217.20", port = 8080 }\n  limits = { max_connections = 200, when_full = "refuse", queue_timeout = 5 }') + SERVER);
    expectCode(await ctx.tf.apply(), 0, 'apply');
    const vs = (await ctx.client.listVirtualServices({ query: { label: 'tf-options' } })).items[0]!;
    vsId = vs.id;
    expect(vs).toMatchObject({ fallback: { mode: 'server', address: '127.0.217.20', port: 8080 }, limits: { maxConnections: 200, whenFull: 'refuse', queueTimeout: 5 } });
    const rs = (await ctx.client.listRealServers(vsId)).items[0]!;
    rsId = rs.id;
    expect(rs.maxConnections).toBe(50);
    expectCode(await ctx.tf.plan(), 0, 'second plan');
  });

  it('shows changes made through the API as drift, and apply corrects them', async () => {
    await ctx.client.updateVirtualService(vsId, { fallback: { mode: 'page', address: null, port: null }, limits: { maxConnections: null } });
    await ctx.client.updateRealServer(vsId, rsId, { maxConnections: null });
    const plan = await ctx.tf.plan();
    expectCode(plan, 2, 'plan');
    expect(plan.stdout).toMatch(/~ mode\s+= "page" -> "server"/);
    expect(plan.stdout).toMatch(/\+ address\s+= "127\.0\.217\.20"/);
    expect(plan.stdout).toMatch(/~ limits\s+= \{\s+\+ max_connections = 200/);
    expect(plan.stdout).toMatch(/\+ max_connections\s+= 50/);
    expectCode(await ctx.tf.apply(), 0, 'apply');
    expect(await ctx.client.getVirtualService(vsId)).toMatchObject({ fallback: { mode: 'server' }, limits: { maxConnections: 200 } });
    expect(await ctx.client.getRealServer(vsId, rsId)).toMatchObject({ maxConnections: 50 });
    expectCode(await ctx.tf.plan(), 0, 'plan after correction');
  });

  it('imports the VIP and the server with the new attributes, then plans no changes', async () => {
    expectCode(await ctx.tf.run(['state', 'rm', 'lbappliance_virtual_service.v', 'lbappliance_real_server.s']), 0, 'state rm');
    expectCode(await ctx.tf.run(['import', '-no-color', 'lbappliance_virtual_service.v', vsId]), 0, 'import vs');
    expectCode(await ctx.tf.run(['import', '-no-color', 'lbappliance_real_server.s', `${vsId}/${rsId}`]), 0, 'import rs');
    expect(await ctx.tf.attributes('lbappliance_virtual_service.v')).toMatchObject({
      fallback: { mode: 'server', address: '127.0.217.20', port: 8080 },
      limits: { max_connections: 200, when_full: 'refuse', queue_timeout: 5 },
    });
    expect(await ctx.tf.attributes('lbappliance_real_server.s')).toMatchObject({ max_connections: 50 });
    expectCode(await ctx.tf.plan(), 0, 'plan after import');
    expectCode(await ctx.tf.destroy(), 0, 'destroy');
  });
});

describe('TLS policy', () => {
  let certA: string;
  let certB: string;
  let vsId: string;

  function tlsVip(tls: string, certificate = true): string {
    return `resource "lbappliance_virtual_service" "t" {
  label          = "tf-tls"
  ip_address     = "127.0.217.2"
  ports          = [8443]
  protocol       = "http2"
  certificate_id = ${certificate ? `"${certA}"` : 'null'}
  tls            = ${tls}
}
`;
  }

  it('fails at plan on a TLS setting of a VIP without a certificate, HSTS subdomains without max age, and a server name twice', async () => {
    certA = (await ctx.client.createCertificate({ label: 'tf-tls-a', selfSigned: { commonName: 'a.test' } })).id;
    certB = (await ctx.client.createCertificate({ label: 'tf-tls-b', selfSigned: { commonName: 'b.test' } })).id;
    expect(await failingPlan(tlsVip('{ min_version = "TLSv1.3" }', false).replace('"http2"', '"http"'))).toContain('tls.minVersion applies to a VIP that terminates TLS');
    expect(await failingPlan(tlsVip('{ hsts_include_sub_domains = true }'))).toContain('includeSubDomains is part of the HSTS field');
    const twice = await failingPlan(tlsVip(`{ sni_certificates = [{ server_name = "b.test", certificate_id = "${certB}" }, { server_name = "B.test", certificate_id = "${certB}" }] }`));
    expect(twice).toContain('server name B.test has a certificate already');
    expect(await failingPlan(tlsVip('{ min_version = "TLSv1.1" }'))).toMatch(/Invalid value for tls\.min_version/);
  });

  it('applies a TLS policy with SNI, plans clean, shows API changes as drift and imports', async () => {
    await ctx.tf.write(tlsVip(`{\n    min_version = "TLSv1.3"\n    cipher_suites = "TLS_AES_256_GCM_SHA384"\n    hsts_max_age = 31536000\n    sni_certificates = [{ server_name = "b.test", certificate_id = "${certB}" }]\n  }`));
    expectCode(await ctx.tf.apply(), 0, 'apply');
    const vs = (await ctx.client.listVirtualServices({ query: { label: 'tf-tls' } })).items[0]!;
    vsId = vs.id;
    expect(vs.tls).toMatchObject({ minVersion: 'TLSv1.3', cipherSuites: 'TLS_AES_256_GCM_SHA384', hstsMaxAge: 31536000, sniCertificates: [{ serverName: 'b.test', certificateId: certB }] });
    expectCode(await ctx.tf.plan(), 0, 'second plan');
    await ctx.client.updateVirtualService(vsId, { tls: { minVersion: 'TLSv1.2', sniCertificates: [] } });
    const plan = await ctx.tf.plan();
    expectCode(plan, 2, 'plan');
    expect(plan.stdout).toMatch(/~ min_version\s+= "TLSv1\.2" -> "TLSv1\.3"/);
    expect(plan.stdout).toMatch(/server_name\s+= "b\.test"/);
    expectCode(await ctx.tf.apply(), 0, 'apply');
    expect((await ctx.client.getVirtualService(vsId)).tls).toMatchObject({ minVersion: 'TLSv1.3', sniCertificates: [{ serverName: 'b.test' }] });
    expectCode(await ctx.tf.run(['state', 'rm', 'lbappliance_virtual_service.t']), 0, 'state rm');
    expectCode(await ctx.tf.run(['import', '-no-color', 'lbappliance_virtual_service.t', vsId]), 0, 'import');
    expect(await ctx.tf.attributes('lbappliance_virtual_service.t')).toMatchObject({ tls: { min_version: 'TLSv1.3', hsts_max_age: 31536000, sni_certificates: [{ server_name: 'b.test', certificate_id: certB }] } });
    expectCode(await ctx.tf.plan(), 0, 'plan after import');
    expectCode(await ctx.tf.destroy(), 0, 'destroy');
  });
});
