// lbappliance_syslog_collector and lbappliance_alert_mail under the real terraform (issue 18
// item 5): create and read back with the contract's defaults, plan-time refusals of
// inconsistent settings (before any call to the appliance), update in place, drift made
// outside terraform, import, and destroy; the SMTP password is write-only and appears in no
// plan, no state and no state backup, and password_version sends a new one.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { applianceWorkspace, expectCode } from './helpers/terraform.js';

const ctx = applianceWorkspace();

// The passwords come from files, as a user's would (a literal in the configuration is in the plan's configuration section, by terraform's design).
beforeAll(async () => {
  await writeFile(join(ctx.tf.dir, 'first.pw'), `${PASSWORD}\n`);
  await writeFile(join(ctx.tf.dir, 'new.pw'), `${NEW_PASSWORD}\n`);
});
const PASSWORD = 'smtp-Password-9d2e-terraform';
const NEW_PASSWORD = 'smtp-Password-rotated-41b7';

function config(o: { facility?: string; transport?: string; caPem?: boolean; maxPerHour?: number; password?: string; version?: number; username?: string | null } = {}): string {
  const username = o.username === undefined ? 'alerts@lbappliance.test' : o.username;
  return `
resource "lbappliance_syslog_collector" "noc" {
  label     = "noc"
  host      = "127.0.250.1"
  port      = 15530
  transport = "${o.transport ?? 'tcp'}"
${o.caPem ? '  ca_pem    = "-----BEGIN CERTIFICATE-----\\nMA==\\n-----END CERTIFICATE-----\\n"\n' : ''}${o.facility ? `  facility  = "${o.facility}"\n` : ''}}

resource "lbappliance_alert_mail" "oncall" {
  host         = "127.0.250.10"
  port         = 2599
${username === null ? '' : `  username     = "${username}"\n`}  password     = trimspace(file("${o.password === NEW_PASSWORD ? 'new' : 'first'}.pw"))
${o.version !== undefined ? `  password_version = ${o.version}\n` : ''}  from         = "lbappliance@lbappliance.test"
  to           = ["oncall@hospital.test"]
${o.maxPerHour ? `  max_per_hour = ${o.maxPerHour}\n` : ''}}
`;
}

// Each step runs several terraform commands: generous time under a loaded machine.
describe('syslog collector and alert mail resources', { timeout: 400_000 }, () => {
  let collectorId = '';

  it('refuses inconsistent settings at plan time', async () => {
    await ctx.tf.write(config({ transport: 'tls' }));
    const noCa = await ctx.tf.plan();
    expectCode(noCa, 1, 'plan tls without ca_pem');
    expect(noCa.output).toMatch(/a tls collector needs ca_pem/);
    await ctx.tf.write(config({ caPem: true }));
    expect((await ctx.tf.plan()).output).toMatch(/ca_pem is for the tls transport/);
    await ctx.tf.write(config({ username: null }));
    expect((await ctx.tf.plan()).output).toMatch(/a password goes with a username/);
    await ctx.tf.write(config({ facility: 'local9' }));
    expectCode(await ctx.tf.plan(), 1, 'plan with an unknown facility');
    expect((await ctx.client.listSyslogCollectors()).items).toEqual([]);
  });

  it('creates both; the password is in no plan and no state', async () => {
    await ctx.tf.write(config());
    const plan = await ctx.tf.run(['plan', '-no-color', '-input=false', '-out=tfplan']);
    expectCode(plan, 0, 'plan');
    const shown = await ctx.tf.run(['show', '-json', 'tfplan']);
    const applied = await ctx.tf.apply();
    expectCode(applied, 0, 'apply');
    for (const text of [plan.output, shown.output, applied.output, await ctx.tf.stateText()]) expect(text).not.toContain(PASSWORD);
    const [collector] = (await ctx.client.listSyslogCollectors()).items;
    collectorId = collector!.id;
    expect(collector).toMatchObject({ label: 'noc', transport: 'tcp', facility: 'local0', queueSize: 10000 });
    expect(await ctx.tf.attributes('lbappliance_syslog_collector.noc')).toMatchObject({ id: collectorId, facility: 'local0', min_severity: 'info', ca_pem: null });
    expect(await ctx.client.getAlertMail()).toMatchObject({ enabled: true, passwordSet: true, maxPerHour: 30, security: 'starttls' });
    expect(await ctx.tf.attributes('lbappliance_alert_mail.oncall')).toMatchObject({ id: 'alert-mail', password: null, password_set: true, max_per_hour: 30 });
    expectCode(await ctx.tf.plan(), 0, 'plan after apply');
  });

  it('updates in place, and sends a new password when password_version changes', async () => {
    await ctx.tf.write(config({ facility: 'local4', maxPerHour: 10 }));
    const plan = await ctx.tf.plan();
    expectCode(plan, 2, 'plan');
    expect(plan.stdout).toMatch(/Plan: 0 to add, 2 to change, 0 to destroy/);
    expectCode(await ctx.tf.apply(), 0, 'apply');
    expect(await ctx.client.getSyslogCollector(collectorId)).toMatchObject({ facility: 'local4' });
    expect(await ctx.client.getAlertMail()).toMatchObject({ maxPerHour: 10 });
    const etag = (await ctx.client.request('getAlertMail')).etag;
    await ctx.tf.write(config({ facility: 'local4', maxPerHour: 10, password: NEW_PASSWORD, version: 2 }));
    const rotate = await ctx.tf.plan();
    expectCode(rotate, 2, 'plan a new password');
    expect(rotate.stdout).toMatch(/\+ password_version = 2/);
    expectCode(await ctx.tf.apply(), 0, 'apply a new password');
    // The stored password changed (its reference is part of the ETag); neither is in the state.
    expect((await ctx.client.request('getAlertMail')).etag).not.toBe(etag);
    for (const p of [PASSWORD, NEW_PASSWORD]) expect(await ctx.tf.stateText()).not.toContain(p);
    expectCode(await ctx.tf.plan(), 0, 'plan after update');
  });

  it('shows out-of-band changes as drift and corrects them', async () => {
    const c = await ctx.client.getSyslogCollector(collectorId);
    const { id: _id, ...spec } = c;
    await ctx.client.replaceSyslogCollector(collectorId, { ...spec, facility: 'local7' });
    await ctx.client.deleteAlertMail();
    const plan = await ctx.tf.plan();
    expectCode(plan, 2, 'plan');
    expect(plan.stdout).toMatch(/~ facility\s+= "local7" -> "local4"/);
    expect(plan.stdout).toMatch(/lbappliance_alert_mail\.oncall will be created/);
    expectCode(await ctx.tf.apply(), 0, 'apply');
    expect(await ctx.client.getSyslogCollector(collectorId)).toMatchObject({ facility: 'local4' });
    expect(await ctx.client.getAlertMail()).toMatchObject({ enabled: true, passwordSet: true });
    expectCode(await ctx.tf.plan(), 0, 'plan after correction');
  });

  it('imports both; the write-only password is sent once, then no changes', async () => {
    expectCode(await ctx.tf.run(['state', 'rm', 'lbappliance_syslog_collector.noc', 'lbappliance_alert_mail.oncall']), 0, 'state rm');
    expectCode(await ctx.tf.run(['import', '-no-color', 'lbappliance_syslog_collector.noc', collectorId]), 0, 'import collector');
    expectCode(await ctx.tf.run(['import', '-no-color', 'lbappliance_alert_mail.oncall', 'alert-mail']), 0, 'import alert mail');
    expect(await ctx.tf.attributes('lbappliance_alert_mail.oncall')).toMatchObject({ id: 'alert-mail', password: null, max_per_hour: 10 });
    expectCode(await ctx.tf.run(['state', 'rm', 'lbappliance_syslog_collector.noc']), 0, 'state rm');
    const bad = await ctx.tf.run(['import', '-no-color', 'lbappliance_syslog_collector.noc', 'vs-0123456789ab']);
    expectCode(bad, 1, 'import with a malformed id');
    expect(bad.output).toMatch(/syslog-xxxxxxxxxxxx/);
    expectCode(await ctx.tf.run(['import', '-no-color', 'lbappliance_syslog_collector.noc', collectorId]), 0, 'import collector again');
    // The imported settings do not say which password the appliance holds: the configuration's
    // password_version is new to the state, so the next apply sends the password once.
    const plan = await ctx.tf.plan();
    expectCode(plan, 2, 'plan after import');
    expect(plan.stdout).toMatch(/lbappliance_alert_mail\.oncall will be updated in-place/);
    expect(plan.stdout).toMatch(/\+ password_version = 2/);
    expect(plan.stdout).toMatch(/Plan: 0 to add, 1 to change, 0 to destroy/);
    expectCode(await ctx.tf.apply(), 0, 'apply after import');
    expectCode(await ctx.tf.plan(), 0, 'plan after the apply');
  });

  it('destroys both; no state file ever held a password', async () => {
    expectCode(await ctx.tf.destroy(), 0, 'destroy');
    expect((await ctx.client.listSyslogCollectors()).items).toEqual([]);
    expect(await ctx.client.getAlertMail()).toEqual({ enabled: false, passwordSet: false });
    const backup = await readFile(join(ctx.tf.dir, 'terraform.tfstate.backup'), 'utf8').catch(() => '');
    for (const text of [await ctx.tf.stateText(), backup]) for (const p of [PASSWORD, NEW_PASSWORD]) expect(text).not.toContain(p);
  });
});
