// lbappliance_directory under the real terraform: plan-time validation (the shared rule that
// an ldap:// directory needs StartTLS, the contract's enums and bounds), create with a
// write-only bind password that never reaches the plan or the state, no changes on a second
// plan, an update in place, drift (changed and removed by hand), import, and destroy.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeTestCert } from '../helpers/certs.js';
import { applianceWorkspace, expectCode } from './helpers/terraform.js';

const ctx = applianceWorkspace();
const BIND_PASSWORD = 'tf-bind-secret-Xq81-never-stored';
let caPem = '';

beforeAll(async () => {
  caPem = makeTestCert('hospital test CA').certPem;
  // In a file, as a real configuration keeps it (a literal would be the configuration's own text).
  await writeFile(join(ctx.tf.dir, 'bind-password.txt'), BIND_PASSWORD);
});

function config(o: { url?: string; startTls?: boolean; timeoutMs?: number; role?: string } = {}): string {
  return `
resource "lbappliance_directory" "ad" {
  url           = "${o.url ?? 'ldaps://127.0.248.60:636'}"
${o.startTls !== undefined ? `  start_tls     = ${o.startTls}\n` : ''}  ca_pem        = <<-EOT
${caPem.trim()}
EOT
  bind_dn       = "cn=svc-lbappliance,ou=service,dc=hospital,dc=test"
  bind_password = file("bind-password.txt")
  user_base_dn  = "ou=people,dc=hospital,dc=test"
  group_base_dn = "ou=groups,dc=hospital,dc=test"
${o.timeoutMs !== undefined ? `  timeout_ms    = ${o.timeoutMs}\n` : ''}  role_mappings = [
    { group = "cn=lb-admins,ou=groups,dc=hospital,dc=test", role = "admin" },
    { group = "cn=lb-operators,ou=groups,dc=hospital,dc=test", role = "${o.role ?? 'operator'}" },
  ]
}
`;
}

describe('directory', () => {
  it('refuses at plan time an ldap:// directory without StartTLS and an unknown role, touching nothing', async () => {
    await ctx.tf.write(config({ url: 'ldap://127.0.248.60:389' }));
    const plain = await ctx.tf.plan();
    expectCode(plain, 1, 'plan');
    expect(plain.output).toContain('LB_INVALID_COMBINATION');
    expect(plain.output).toMatch(/needs startTls/);
    await ctx.tf.write(config({ role: 'superuser' }));
    const role = await ctx.tf.plan();
    expectCode(role, 1, 'plan');
    expect(role.output).toMatch(/role_mappings/);
    await expect(ctx.client.getDirectory()).rejects.toMatchObject({ status: 404 });
  });

  it('creates the settings; the bind password stays out of plan and state', async () => {
    await ctx.tf.write(config());
    const plan = await ctx.tf.run(['plan', '-no-color', '-input=false', '-out=tfplan']);
    expectCode(plan, 0, 'plan');
    expect(plan.stdout).toMatch(/bind_password\s+= \(write-only attribute\)/);
    const shown = await ctx.tf.run(['show', '-json', 'tfplan']);
    const applied = await ctx.tf.apply();
    expectCode(applied, 0, 'apply');
    for (const text of [plan.output, shown.output, applied.output, await ctx.tf.stateText()]) expect(text).not.toContain(BIND_PASSWORD);
    expect(await ctx.client.getDirectory()).toMatchObject({ url: 'ldaps://127.0.248.60:636', startTls: false, groupSearch: 'member', userFilter: '(uid={username})', timeoutMs: 5000, roleMappings: [{ role: 'admin' }, { role: 'operator' }] });
    expect(await ctx.tf.attributes('lbappliance_directory.ad')).toMatchObject({ id: 'directory', bind_password: null, timeout_ms: 5000 });
    expectCode(await ctx.tf.plan(), 0, 'second plan');
  });

  it('changes the settings in place, StartTLS included', async () => {
    await ctx.tf.write(config({ url: 'ldap://127.0.248.60:389', startTls: true, timeoutMs: 2000 }));
    const plan = await ctx.tf.plan();
    expectCode(plan, 2, 'plan');
    expect(plan.stdout).toMatch(/lbappliance_directory\.ad will be updated in-place/);
    expectCode(await ctx.tf.apply(), 0, 'apply');
    expect(await ctx.client.getDirectory()).toMatchObject({ url: 'ldap://127.0.248.60:389', startTls: true, timeoutMs: 2000 });
    expectCode(await ctx.tf.plan(), 0, 'plan after update');
  });

  it('shows changes made by hand as drift, and a removal as a create', async () => {
    const current = await ctx.client.getDirectory();
    const { updatedAt: _u, ...rest } = current;
    await ctx.client.replaceDirectory({ ...rest, timeoutMs: 9000, bindPassword: 'changed-by-hand-0' });
    const drift = await ctx.tf.plan();
    expectCode(drift, 2, 'plan');
    expect(drift.stdout).toMatch(/~ timeout_ms\s+= 9000 -> 2000/);
    expectCode(await ctx.tf.apply(), 0, 'apply');
    expect((await ctx.client.getDirectory()).timeoutMs).toBe(2000);
    await ctx.client.deleteDirectory();
    const gone = await ctx.tf.plan();
    expectCode(gone, 2, 'plan');
    expect(gone.stdout).toMatch(/lbappliance_directory\.ad will be created/);
    expectCode(await ctx.tf.apply(), 0, 'apply');
    expectCode(await ctx.tf.plan(), 0, 'plan after correction');
  });

  it('imports the settings (id "directory") and plans no changes', async () => {
    expectCode(await ctx.tf.run(['state', 'rm', 'lbappliance_directory.ad']), 0, 'state rm');
    const bad = await ctx.tf.run(['import', '-no-color', 'lbappliance_directory.ad', 'ldap']);
    expect(bad.code).not.toBe(0);
    expect(bad.output).toContain('must be "directory"');
    expectCode(await ctx.tf.run(['import', '-no-color', 'lbappliance_directory.ad', 'directory']), 0, 'import');
    expect(await ctx.tf.attributes('lbappliance_directory.ad')).toMatchObject({ id: 'directory', bind_password: null, start_tls: true });
    expectCode(await ctx.tf.plan(), 0, 'plan after import');
  });

  it('destroys: directory logins stop; no file terraform wrote holds the bind password', async () => {
    expectCode(await ctx.tf.destroy(), 0, 'destroy');
    await expect(ctx.client.getDirectory()).rejects.toMatchObject({ status: 404 });
    const backup = await readFile(join(ctx.tf.dir, 'terraform.tfstate.backup'), 'utf8').catch(() => '');
    for (const text of [await ctx.tf.stateText(), backup]) expect(text).not.toContain(BIND_PASSWORD);
  });
});
