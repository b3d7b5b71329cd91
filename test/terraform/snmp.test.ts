// lbappliance_snmp under the real terraform: plan-time refusals (a community without its
// string, a v3 destination naming no user), create with write-only secrets that never reach
// the plan or the state, no changes on a second plan, a secret rotated with
// secrets_version, drift from a change made over the API, import of `snmp`, and destroy
// (SNMP off, nothing left). The appliance's agent answers with the secrets terraform sent.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { snmpTool } from '../helpers/snmp-tools.js';
import { applianceWorkspace, expectCode } from './helpers/terraform.js';

const ctx = applianceWorkspace();

const AGENT = '127.0.252.30';
const AGENT_PORT = 16171;
const TARGET = `udp:${AGENT}:${AGENT_PORT}`;
const COMMUNITY = 'tf-community-3b9e';
const ROTATED = 'tf-community-rotated-77';
const AUTH = 'tf-auth-secret-c1d2';
const PRIV = 'tf-priv-secret-e3f4';
const TRAP = 'tf-trap-community-55';

function config(o: { community?: string; version?: number; location?: string; omitString?: boolean; badUser?: boolean } = {}): string {
  return `
resource "lbappliance_snmp" "noc" {
  enabled        = true
  listen_address = "${AGENT}"
  port           = ${AGENT_PORT}
  contact        = "PACS team"
  location       = "${o.location ?? 'Data centre A'}"
  communities    = ["noc"]
  community_strings = ${o.omitString ? '{}' : `{ noc = trimspace(file("${o.community === ROTATED ? 'rotated' : 'community'}.secret")) }`}
  users = [{ name = "nocv3", auth_protocol = "sha", priv_protocol = "aes" }]
  user_auth_passwords = { nocv3 = trimspace(file("auth.secret")) }
  user_priv_passwords = { nocv3 = trimspace(file("priv.secret")) }
  trap_destinations = [
    { name = "nms-v2c", address = "127.0.252.39", port = 16172, version = "v2c", user = null },
    { name = "nms-v3", address = "127.0.252.39", port = 16172, version = "v3", user = "${o.badUser ? 'nobody' : 'nocv3'}" },
  ]
  trap_communities = { nms-v2c = trimspace(file("trap.secret")) }
${o.version !== undefined ? `  secrets_version = ${o.version}\n` : ''}}
`;
}

const SECRETS = [COMMUNITY, ROTATED, AUTH, PRIV, TRAP];

async function answers(community: string): Promise<boolean> {
  const end = Date.now() + 30_000;
  for (;;) {
    const r = await snmpTool('snmpget', TARGET, { community }, ['LBAPPLIANCE-MIB::lbVsCount.0']);
    if (r.ok && r.stdout.includes('Gauge32: 0')) return true;
    if (Date.now() > end) return false;
    await new Promise((r2) => setTimeout(r2, 500));
  }
}

beforeAll(async () => {
  // The secrets come from files, as a user keeps them: a literal would be in the plan's configuration.
  for (const [name, value] of Object.entries({ community: COMMUNITY, rotated: ROTATED, auth: AUTH, priv: PRIV, trap: TRAP })) await writeFile(join(ctx.tf.dir, `${name}.secret`), `${value}\n`);
});

describe('lbappliance_snmp', { timeout: 240_000 }, () => {
  it('refuses at plan time a community without its string and a v3 destination without a known user', async () => {
    await ctx.tf.write(config({ omitString: true }));
    const missing = await ctx.tf.plan();
    expectCode(missing, 1, 'plan without a community string');
    expect(missing.output).toMatch(/community noc has no secret/);
    await ctx.tf.write(config({ badUser: true }));
    const badUser = await ctx.tf.plan();
    expectCode(badUser, 1, 'plan with an unknown user');
    expect(badUser.output).toMatch(/trap destination nms-v3 names no user of users/);
    expect((await ctx.client.getSnmpSettings()).enabled).toBe(false);
  });

  it('creates the settings; the secrets stay out of the plan and the state; the agent answers', async () => {
    await ctx.tf.write(config());
    const plan = await ctx.tf.run(['plan', '-no-color', '-input=false', '-out=tfplan']);
    expectCode(plan, 0, 'plan');
    expect(plan.stdout).toMatch(/community_strings\s+= \(write-only attribute\)/);
    const shown = await ctx.tf.run(['show', '-json', 'tfplan']);
    const applied = await ctx.tf.apply();
    expectCode(applied, 0, 'apply');
    const state = await ctx.tf.stateText();
    for (const text of [plan.output, shown.output, applied.output, state]) for (const s of SECRETS) expect(text).not.toContain(s);
    expect(await ctx.client.getSnmpSettings()).toMatchObject({ enabled: true, port: AGENT_PORT, communities: [{ name: 'noc' }], trapDestinations: [{ name: 'nms-v2c', version: 'v2c' }, { name: 'nms-v3', version: 'v3', user: 'nocv3' }] });
    expect(await ctx.tf.attributes('lbappliance_snmp.noc')).toMatchObject({ id: 'snmp', community_strings: null, user_auth_passwords: null, communities: ['noc'] });
    expect(await answers(COMMUNITY)).toBe(true);
    const v3 = await snmpTool('snmpget', TARGET, { user: 'nocv3', authPassword: AUTH, privPassword: PRIV }, ['LBAPPLIANCE-MIB::lbVsCount.0']);
    expect(v3.stdout).toContain('Gauge32: 0');
  });

  it('plans no changes right after apply', async () => {
    expectCode(await ctx.tf.plan(), 0, 'second plan');
  });

  it('sends a changed secret when secrets_version changes', async () => {
    await ctx.tf.write(config({ community: ROTATED }));
    expectCode(await ctx.tf.plan(), 0, 'a changed write-only value alone is not a change');
    await ctx.tf.write(config({ community: ROTATED, version: 2 }));
    const plan = await ctx.tf.plan();
    expectCode(plan, 2, 'plan');
    expect(plan.stdout).toMatch(/\+ secrets_version\s+= 2/);
    expectCode(await ctx.tf.apply(), 0, 'apply');
    expect(await answers(ROTATED)).toBe(true);
    expect((await snmpTool('snmpget', TARGET, { community: COMMUNITY }, ['LBAPPLIANCE-MIB::lbVsCount.0'])).ok).toBe(false);
    for (const s of SECRETS) expect(await ctx.tf.stateText()).not.toContain(s);
    expectCode(await ctx.tf.plan(), 0, 'plan after rotation');
  });

  it('shows a change made over the API as drift and puts it back', async () => {
    const current = await ctx.client.getSnmpSettings();
    const { revision: _r, ...rest } = current;
    await ctx.client.replaceSnmpSettings({ ...rest, location: 'moved by hand' });
    const plan = await ctx.tf.plan();
    expectCode(plan, 2, 'plan');
    expect(plan.stdout).toMatch(/~ location\s+= "moved by hand" -> "Data centre A"/);
    expectCode(await ctx.tf.apply(), 0, 'apply');
    expect((await ctx.client.getSnmpSettings()).location).toBe('Data centre A');
    expectCode(await ctx.tf.plan(), 0, 'plan after correction');
  });

  it('imports the settings (snmp) and plans no changes', async () => {
    expectCode(await ctx.tf.run(['state', 'rm', 'lbappliance_snmp.noc']), 0, 'state rm');
    expectCode(await ctx.tf.run(['import', '-no-color', 'lbappliance_snmp.noc', 'snmp']), 0, 'import');
    expect(await ctx.tf.attributes('lbappliance_snmp.noc')).toMatchObject({ id: 'snmp', location: 'Data centre A', community_strings: null });
    // secrets_version is the configuration's own: the first plan after import sets it.
    const plan = await ctx.tf.plan();
    expect(plan.code === 0 || /\+ secrets_version\s+= 2/.test(plan.stdout), plan.output).toBe(true);
    expectCode(await ctx.tf.apply(), 0, 'apply after import');
    expectCode(await ctx.tf.plan(), 0, 'plan after import');
  });

  it('destroys: SNMP off, no community, user or destination left', async () => {
    expectCode(await ctx.tf.destroy(), 0, 'destroy');
    expect(await ctx.client.getSnmpSettings()).toMatchObject({ enabled: false, communities: [], users: [], trapDestinations: [] });
    for (const s of SECRETS) expect(await ctx.tf.stateText()).not.toContain(s);
  });
});
