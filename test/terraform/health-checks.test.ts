// The application health checks (issue 15) in Terraform, as a user writes them: a bad
// setting fails at plan on the attribute that holds it and changes nothing; a VIP with a
// `dicom` check is created, a change made through the API shows as drift that apply
// corrects, and an import plans no changes. Addresses 127.0.212.x belong to this file.
import { describe, expect, it } from 'vitest';
import { applianceWorkspace, expectCode, type TfResult } from './helpers/terraform.js';

const ctx = applianceWorkspace();

interface JsonDiagnostic {
  severity: string;
  summary: string;
  detail: string;
  address?: string;
}

function diagnosticsOf(result: TfResult): JsonDiagnostic[] {
  return result.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { type: string; diagnostic?: JsonDiagnostic })
    .filter((m) => m.type === 'diagnostic' && m.diagnostic?.severity === 'error')
    .map((m) => m.diagnostic!);
}

function vip(label: string, healthCheck: string, ports = '[11112]'): string {
  return `resource "lbappliance_virtual_service" "v" {
  label      = "${label}"
  ip_address = "127.0.212.1"
  ports      = ${ports}
  protocol   = "tcp"
  health_check = ${healthCheck}
}
`;
}

/** A plan that must fail: its diagnostics, the appliance unchanged. */
async function failingPlan(hcl: string): Promise<JsonDiagnostic[]> {
  const before = (await ctx.client.getConfig()).revision;
  await ctx.tf.write(hcl);
  const result = await ctx.tf.run(['plan', '-json', '-input=false']);
  expect(result.code, result.output).toBe(1);
  expect((await ctx.client.getConfig()).revision).toBe(before);
  return diagnosticsOf(result);
}

describe('health checks at plan time', () => {
  it.each([
    ['{ type = "dicom", dicom = { called_ae_title = "" } }', 'health_check.dicom.called_ae_title'],
    ['{ type = "dicom", dicom = { called_ae_title = "SEVENTEEN-CHARS-X" } }', 'health_check.dicom.called_ae_title'],
    ['{ type = "dicom", dicom = { calling_ae_title = "BACK\\\\SLASH" } }', 'health_check.dicom.calling_ae_title'],
    ['{ type = "dicom", dicom = { calling_ae_title = " LEADING" } }', 'health_check.dicom.calling_ae_title'],
    ['{ type = "echo" }', 'health_check.type'],
    ['{ type = "hl7", hl7 = { message = "PID|1" } }', 'health_check.hl7.message'],
    ['{ type = "http", expect_statuses = [200, 99] }', 'health_check.expect_statuses[1]'],
    ['{ type = "http", body_match = { kind = "regex", value = "(a)\\\\1" } }', 'LB_UNSAFE_PATTERN'],
    ['{ type = "http", body_match = { kind = "substring" } }', 'LB_INVALID_COMBINATION'],
  ])('%s fails at plan (%s)', async (hc, attribute) => {
    const diags = await failingPlan(vip('tf-bad-check', hc));
    // One diagnostic per broken bound (an empty title breaks both its length and its pattern).
    expect(diags.length).toBeGreaterThan(0);
    // Schema bounds say "Invalid value for X"; the appliance's shared rules (openapi/sdk/rules.ts) give their code.
    for (const d of diags) {
      expect(d.address).toBe('lbappliance_virtual_service.v');
      expect(`${d.summary} ${d.detail}`).toContain(attribute);
    }
  });
});

describe('a dicom check through its life', () => {
  let id: string;
  const dicom = '{ type = "dicom", interval = 10, dicom = { calling_ae_title = "LB-CHECK", called_ae_title = "PACS1", tls = true } }';

  it('creates it, then plans no changes', async () => {
    await ctx.tf.write(vip('tf-dicom', dicom));
    expectCode(await ctx.tf.apply(), 0, 'apply');
    const vs = (await ctx.client.listVirtualServices({ query: { label: 'tf-dicom' } })).items[0]!;
    expect(vs.healthCheck).toMatchObject({ type: 'dicom', interval: 10, dicom: { callingAeTitle: 'LB-CHECK', calledAeTitle: 'PACS1', tls: true } });
    id = vs.id;
    expectCode(await ctx.tf.plan(), 0, 'second plan');
  });

  it('shows a change made through the API as drift, and apply corrects it', async () => {
    await ctx.client.updateVirtualService(id, { healthCheck: { type: 'dicom', interval: 10, dicom: { callingAeTitle: 'LB-CHECK', calledAeTitle: 'OTHER', tls: true } } });
    const plan = await ctx.tf.plan();
    expectCode(plan, 2, 'plan');
    expect(plan.stdout).toMatch(/~ called_ae_title\s+= "OTHER" -> "PACS1"/);
    expectCode(await ctx.tf.apply(), 0, 'apply');
    expect((await ctx.client.getVirtualService(id)).healthCheck.dicom).toEqual({ callingAeTitle: 'LB-CHECK', calledAeTitle: 'PACS1', tls: true });
  });

  it('imports it and plans no changes', async () => {
    expectCode(await ctx.tf.run(['state', 'rm', 'lbappliance_virtual_service.v']), 0, 'state rm');
    expectCode(await ctx.tf.run(['import', '-no-color', 'lbappliance_virtual_service.v', id]), 0, 'import');
    expect(await ctx.tf.attributes('lbappliance_virtual_service.v')).toMatchObject({ health_check: { type: 'dicom', dicom: { calling_ae_title: 'LB-CHECK', called_ae_title: 'PACS1', tls: true } } });
    expectCode(await ctx.tf.plan(), 0, 'plan after import');
    expectCode(await ctx.tf.destroy(), 0, 'destroy');
  });
});

describe('an hl7 check through its life', () => {
  let id: string;
  const hl7 = '{ type = "hl7", hl7 = { message = "MSH|^~\\\\&|LB|RADIOLOGY|RIS|HOSPITAL||||X|P|2.3" } }';

  it('creates it, shows drift in the message, and imports it with no changes', async () => {
    await ctx.tf.write(vip('tf-hl7', hl7, '[2575]'));
    expectCode(await ctx.tf.apply(), 0, 'apply');
    const vs = (await ctx.client.listVirtualServices({ query: { label: 'tf-hl7' } })).items[0]!;
    expect(vs.healthCheck).toMatchObject({ type: 'hl7', hl7: { message: 'MSH|^~\\&|LB|RADIOLOGY|RIS|HOSPITAL||||X|P|2.3' } });
    id = vs.id;
    expectCode(await ctx.tf.plan(), 0, 'second plan');
    await ctx.client.updateVirtualService(id, { healthCheck: { type: 'hl7', hl7: { message: null } } });
    const plan = await ctx.tf.plan();
    expectCode(plan, 2, 'plan after drift');
    expect(plan.stdout).toMatch(/\+ message\s+= "MSH/);
    expectCode(await ctx.tf.apply(), 0, 'apply');
    expectCode(await ctx.tf.run(['state', 'rm', 'lbappliance_virtual_service.v']), 0, 'state rm');
    expectCode(await ctx.tf.run(['import', '-no-color', 'lbappliance_virtual_service.v', id]), 0, 'import');
    expectCode(await ctx.tf.plan(), 0, 'plan after import');
    expectCode(await ctx.tf.destroy(), 0, 'destroy');
  });
});

describe('content match and tcp checks through their life', () => {
  it('creates them, shows drift, and imports with no changes', async () => {
    const hc = '{ type = "http", expect_statuses = [200, 204], body_match = { kind = "regex", value = "^ok" } }';
    await ctx.tf.write(vip('tf-content', hc, '[8080]'));
    expectCode(await ctx.tf.apply(), 0, 'apply');
    const vs = (await ctx.client.listVirtualServices({ query: { label: 'tf-content' } })).items[0]!;
    expect(vs.healthCheck).toMatchObject({ type: 'http', expectStatuses: [200, 204], bodyMatch: { kind: 'regex', value: '^ok' } });
    expectCode(await ctx.tf.plan(), 0, 'second plan');
    await ctx.client.updateVirtualService(vs.id, { healthCheck: { type: 'tcp', tcp: { send: 'PING', expect: 'PONG' } } });
    const plan = await ctx.tf.plan();
    expectCode(plan, 2, 'plan after drift');
    expect(plan.stdout).toMatch(/~ type\s+= "tcp" -> "http"/);
    expectCode(await ctx.tf.apply(), 0, 'apply corrects it');
    expect((await ctx.client.getVirtualService(vs.id)).healthCheck).toMatchObject({ type: 'http', tcp: { send: null, expect: null } });
    expectCode(await ctx.tf.run(['state', 'rm', 'lbappliance_virtual_service.v']), 0, 'state rm');
    expectCode(await ctx.tf.run(['import', '-no-color', 'lbappliance_virtual_service.v', vs.id]), 0, 'import');
    expect(await ctx.tf.attributes('lbappliance_virtual_service.v')).toMatchObject({ health_check: { type: 'http', expect_statuses: [200, 204], body_match: { kind: 'regex', value: '^ok' } } });
    expectCode(await ctx.tf.plan(), 0, 'plan after import');
    expectCode(await ctx.tf.destroy(), 0, 'destroy');
  });
});
