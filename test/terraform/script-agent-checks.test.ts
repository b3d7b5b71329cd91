// `script` checks and feedback agents (issue 15) in Terraform, as a user writes them: what the
// shared rules can tell without the appliance (no program, a `..` segment, an agent on a
// layer 4 VIP) and the schema's bounds fail at plan on the attribute; a program outside the
// appliance's check scripts directory passes the plan (only the appliance knows its
// directory) and fails the apply naming the field, changing nothing; a VIP with both is
// created, a change made through the API shows as drift that apply corrects, and an import
// plans no changes. The appliance runs no engine here; addresses 127.0.244.x belong to
// test/engine/script-agent-checks.test.ts, which this file shares without binding them.
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { applianceWorkspace, expectCode, type TfResult } from './helpers/terraform.js';

let scripts = '';
const ctx = applianceWorkspace('dev_overrides', async () => {
  scripts = await mkdtemp(join(tmpdir(), 'tf-check-scripts-'));
  await writeFile(join(scripts, 'pacs-query.sh'), '#!/bin/sh\nexit 0\n');
  await chmod(join(scripts, 'pacs-query.sh'), 0o755);
  return { args: ['--check-scripts-dir', scripts] };
});
afterAll(async () => {
  if (scripts) await rm(scripts, { recursive: true, force: true });
});

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

function vip(label: string, healthCheck: string, extra = ''): string {
  return `resource "lbappliance_virtual_service" "v" {
  label      = "${label}"
  ip_address = "127.0.244.240"
  ports      = [104]
  protocol   = "tcp"
  health_check = ${healthCheck}
${extra}}
`;
}

async function failing(command: 'plan' | 'apply', hcl: string): Promise<JsonDiagnostic[]> {
  const before = await ctx.client.getConfig();
  await ctx.tf.write(hcl);
  const result = await ctx.tf.run(command === 'plan' ? ['plan', '-json', '-input=false'] : ['apply', '-json', '-input=false', '-auto-approve']);
  expect(result.code, result.output).toBe(1);
  expect(await ctx.client.getConfig()).toEqual(before);
  return diagnosticsOf(result);
}

describe('script and agent settings at plan time', () => {
  it.each([
    ['{ type = "script" }', '', 'a script check needs script.path, a program in the check scripts directory [LB_INVALID_COMBINATION]'],
    ['{ type = "script", script = { path = "../etc/passwd" } }', '', 'LB_UNSUPPORTED_VALUE'],
    ['{ type = "script", script = { path = "a; rm -rf /" } }', '', 'health_check.script.path'],
    ['{ type = "script", script = { path = "pacs-query.sh", args = ["x"] }, agent = { port = 0 } }', '', 'health_check.agent.port'],
    ['{ agent = { port = 3333, interval = 0 } }', '', 'health_check.agent.interval'],
    ['{ agent = { port = 3333 } }', '  forwarding = "nat"\n  forwarded_for = false\n', 'a feedback agent needs forwarding proxy [LB_INVALID_COMBINATION]'],
  ])('%s %s fails at plan (%s)', async (hc, extra, attribute) => {
    const diags = await failing('plan', vip('tf-bad-script', hc, extra));
    expect(diags.length).toBeGreaterThan(0);
    for (const d of diags) {
      expect(d.address).toBe('lbappliance_virtual_service.v');
      expect(`${d.summary} ${d.detail}`).toContain(attribute);
    }
  });

  it('a program outside the check scripts directory fails at apply, naming the field', async () => {
    const diags = await failing('apply', vip('tf-outside', '{ type = "script", script = { path = "/bin/true" } }'));
    expect(diags.map((d) => `${d.summary} ${d.detail}`).join('\n')).toMatch(/LB_UNSUPPORTED_VALUE[\s\S]*outside the check scripts directory|outside the check scripts directory[\s\S]*LB_UNSUPPORTED_VALUE/);
    expect(diags.map((d) => `${d.summary} ${d.detail}`).join('\n')).toContain('script');
  });
});

describe('a script check with a feedback agent through its life', () => {
  let id: string;
  const hc = '{ type = "script", interval = 10, script = { path = "pacs-query.sh", args = ["--aet", "PACS1"] }, agent = { port = 3333, interval = 2 } }';

  it('creates it, then plans no changes', async () => {
    await ctx.tf.write(vip('tf-script', hc));
    expectCode(await ctx.tf.apply(), 0, 'apply');
    const vs = (await ctx.client.listVirtualServices({ query: { label: 'tf-script' } })).items[0]!;
    expect(vs.healthCheck).toMatchObject({ type: 'script', interval: 10, script: { path: 'pacs-query.sh', args: ['--aet', 'PACS1'] }, agent: { port: 3333, interval: 2 } });
    id = vs.id;
    expectCode(await ctx.tf.plan(), 0, 'second plan');
  });

  it('shows a change made through the API as drift, and apply corrects it', async () => {
    await ctx.client.updateVirtualService(id, { healthCheck: { type: 'script', interval: 10, script: { path: 'pacs-query.sh', args: ['--aet', 'OTHER'] }, agent: { port: 4444, interval: 2 } } });
    const plan = await ctx.tf.plan();
    expectCode(plan, 2, 'plan');
    expect(plan.stdout).toMatch(/~ port\s+= 4444 -> 3333/);
    expect(plan.stdout).toMatch(/- "OTHER"[\s\S]*\+ "PACS1"|"OTHER" -> "PACS1"/);
    expectCode(await ctx.tf.apply(), 0, 'apply');
    expect((await ctx.client.getVirtualService(id)).healthCheck).toMatchObject({ script: { path: 'pacs-query.sh', args: ['--aet', 'PACS1'] }, agent: { port: 3333, interval: 2 } });
  });

  it('imports it and plans no changes', async () => {
    expectCode(await ctx.tf.run(['state', 'rm', 'lbappliance_virtual_service.v']), 0, 'state rm');
    expectCode(await ctx.tf.run(['import', '-no-color', 'lbappliance_virtual_service.v', id]), 0, 'import');
    expect(await ctx.tf.attributes('lbappliance_virtual_service.v')).toMatchObject({ health_check: { type: 'script', script: { path: 'pacs-query.sh', args: ['--aet', 'PACS1'] }, agent: { port: 3333, interval: 2 } } });
    expectCode(await ctx.tf.plan(), 0, 'plan after import');
    expectCode(await ctx.tf.destroy(), 0, 'destroy');
  });
});
