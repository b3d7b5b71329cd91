// lbappliance_virtual_service and lbappliance_real_server under the real terraform, step by
// step as a user works: create both in one apply (the server's VIP id unknown at plan), a
// clean second plan, in-place updates, replacements, drift from changes and deletions made
// through the API, import of both, and destroy (draining the server first). After each step
// the appliance is checked through the SDK.
import { describe, expect, it } from 'vitest';
import { applianceWorkspace, expectCode } from './helpers/terraform.js';

const ctx = applianceWorkspace();

/** The configuration of the steps: one VIP (two once `second` is set) and one server. */
function config(o: { ports?: string; health?: string; algorithm?: string; weight?: number; serverVip?: 'a' | 'b'; second?: boolean } = {}): string {
  return `
resource "lbappliance_virtual_service" "a" {
  label      = "tf-vs-a"
  ip_address = "127.0.70.1"
  ports      = ${o.ports ?? '[8080]'}
  protocol   = "http"
${o.algorithm ? `  algorithm  = "${o.algorithm}"\n` : ''}${o.health ? `  health_check = ${o.health}\n` : ''}}
${o.second ? `
resource "lbappliance_virtual_service" "b" {
  label      = "tf-vs-b"
  ip_address = "127.0.70.2"
  ports      = [1200]
  protocol   = "tcp"
  persistence = { mode = "source-ip" }
  timeouts   = { client = 92, server = 93 }
}
` : ''}
resource "lbappliance_real_server" "s1" {
  virtual_service_id = lbappliance_virtual_service.${o.serverVip ?? 'a'}.id
  label              = "SERVER1"
  address            = "127.0.70.11"
  port               = 80
${o.weight !== undefined ? `  weight             = ${o.weight}\n` : ''}}
`;
}

async function vsByLabel(label: string) {
  return (await ctx.client.listVirtualServices({ query: { label } })).items[0];
}

describe('virtual service and real server', () => {
  let vsA: string;
  let rs1: string;

  it('creates a VIP and a server referencing it in one apply (unknown id at plan time)', async () => {
    await ctx.tf.write(config({ algorithm: 'leastconn' }));
    const plan = await ctx.tf.plan();
    expectCode(plan, 2, 'plan');
    expect(plan.stdout).toMatch(/virtual_service_id\s+= \(known after apply\)/);
    expect(plan.stdout).toMatch(/Plan: 2 to add, 0 to change, 0 to destroy/);
    expectCode(await ctx.tf.apply(), 0, 'apply');
    const vs = await vsByLabel('tf-vs-a');
    expect(vs).toMatchObject({ ipAddress: '127.0.70.1', ports: [8080], protocol: 'http', algorithm: 'leastconn', healthCheck: { type: 'connect' } });
    vsA = vs!.id;
    const servers = (await ctx.client.listRealServers(vsA)).items;
    expect(servers).toHaveLength(1);
    expect(servers[0]).toMatchObject({ label: 'SERVER1', address: '127.0.70.11', port: 80, weight: 100, adminState: 'online' });
    rs1 = servers[0]!.id;
    expect(await ctx.tf.attributes('lbappliance_real_server.s1')).toMatchObject({ id: rs1, virtual_service_id: vsA, drain_timeout: 30 });
  });

  it('plans no changes right after apply', async () => {
    expectCode(await ctx.tf.plan(), 0, 'second plan');
  });

  it('updates both in place; an attribute removed from the configuration returns to its default', async () => {
    await ctx.tf.write(config({ ports: '[8080, 8081]', health: '{ type = "http", path = "/health" }', weight: 50 }));
    const plan = await ctx.tf.plan();
    expectCode(plan, 2, 'plan');
    expect(plan.stdout).toMatch(/Plan: 0 to add, 2 to change, 0 to destroy/);
    expect(plan.stdout).toMatch(/~ algorithm\s+= "leastconn" -> "roundrobin"/);
    expectCode(await ctx.tf.apply(), 0, 'apply');
    const vs = await ctx.client.getVirtualService(vsA);
    expect(vs).toMatchObject({ ports: [8080, 8081], algorithm: 'roundrobin', healthCheck: { type: 'http', path: '/health', interval: 5, expectStatus: 200 } });
    expect(await ctx.client.getRealServer(vsA, rs1)).toMatchObject({ weight: 50 });
    expectCode(await ctx.tf.plan(), 0, 'plan after update');
  });

  it('replaces a server whose virtual_service_id changes', async () => {
    await ctx.tf.write(config({ ports: '[8080, 8081]', health: '{ type = "http", path = "/health" }', weight: 50, second: true, serverVip: 'b' }));
    const plan = await ctx.tf.plan();
    expectCode(plan, 2, 'plan');
    expect(plan.stdout).toMatch(/must be replaced/);
    expect(plan.stdout).toMatch(/virtual_service_id\s+= "vs-[0-9a-f]{12}" -> \(known after apply\) # forces replacement/);
    expectCode(await ctx.tf.apply(), 0, 'apply');
    const vsB = (await vsByLabel('tf-vs-b'))!;
    expect(vsB).toMatchObject({ protocol: 'tcp', persistence: { mode: 'source-ip' }, timeouts: { client: 92, server: 93 } });
    expect((await ctx.client.listRealServers(vsA)).items).toEqual([]);
    const moved = (await ctx.client.listRealServers(vsB.id)).items;
    expect(moved).toHaveLength(1);
    expect(moved[0]!.id).not.toBe(rs1);
    rs1 = moved[0]!.id;
    expectCode(await ctx.tf.plan(), 0, 'plan after replace');
  });

  it('replaces a VIP on request (-replace), and its server with it', async () => {
    const before = (await vsByLabel('tf-vs-b'))!.id;
    const applied = await ctx.tf.apply(['-replace=lbappliance_virtual_service.b']);
    expectCode(applied, 0, 'apply -replace');
    expect(applied.stdout).toMatch(/Resources: 2 added, 0 changed, 2 destroyed/);
    const after = (await vsByLabel('tf-vs-b'))!.id;
    expect(after).not.toBe(before);
    await expect(ctx.client.getVirtualService(before)).rejects.toMatchObject({ status: 404 });
    const servers = (await ctx.client.listRealServers(after)).items;
    expect(servers).toHaveLength(1);
    rs1 = servers[0]!.id;
    expectCode(await ctx.tf.plan(), 0, 'plan after -replace');
  });

  it('shows a change made through the API as drift, and apply corrects it', async () => {
    await ctx.client.updateVirtualService(vsA, { ports: [9090], enabled: false });
    const plan = await ctx.tf.plan();
    expectCode(plan, 2, 'plan');
    expect(plan.stdout).toMatch(/~ resource "lbappliance_virtual_service" "a"/);
    expect(plan.stdout).toMatch(/~ enabled\s+= false -> true/);
    expect(plan.stdout).toMatch(/- 9090/);
    expect(plan.stdout).toMatch(/Plan: 0 to add, 1 to change, 0 to destroy/);
    expectCode(await ctx.tf.apply(), 0, 'apply');
    expect(await ctx.client.getVirtualService(vsA)).toMatchObject({ ports: [8080, 8081], enabled: true });
    expectCode(await ctx.tf.plan(), 0, 'plan after correction');
  });

  it('plans re-creation of a server deleted through the API', async () => {
    const vsB = (await vsByLabel('tf-vs-b'))!.id;
    await ctx.client.deleteRealServer(vsB, rs1);
    const plan = await ctx.tf.plan();
    expectCode(plan, 2, 'plan');
    expect(plan.stdout).toMatch(/lbappliance_real_server\.s1 will be created/);
    expect(plan.stdout).toMatch(/Plan: 1 to add, 0 to change, 0 to destroy/);
    expectCode(await ctx.tf.apply(), 0, 'apply');
    const servers = (await ctx.client.listRealServers(vsB)).items;
    expect(servers).toHaveLength(1);
    rs1 = servers[0]!.id;
  });

  it('imports a VIP (vs-...) and a server (vs-.../rs-...), then plans no changes', async () => {
    const vsB = (await vsByLabel('tf-vs-b'))!.id;
    expectCode(await ctx.tf.run(['state', 'rm', 'lbappliance_virtual_service.b', 'lbappliance_real_server.s1']), 0, 'state rm');
    const bad = await ctx.tf.run(['import', '-no-color', 'lbappliance_real_server.s1', rs1]);
    expectCode(bad, 1, 'import with a bad id');
    expect(bad.output).toMatch(/is not of the form vs-xxxxxxxxxxxx\/rs-xxxxxxxxxxxx/);
    expectCode(await ctx.tf.run(['import', '-no-color', 'lbappliance_virtual_service.b', vsB]), 0, 'import vs');
    expectCode(await ctx.tf.run(['import', '-no-color', 'lbappliance_real_server.s1', `${vsB}/${rs1}`]), 0, 'import rs');
    expect(await ctx.tf.attributes('lbappliance_real_server.s1')).toMatchObject({ id: rs1, virtual_service_id: vsB, weight: 50 });
    expectCode(await ctx.tf.plan(), 0, 'plan after import');
  });

  it('destroys everything, draining the server before deleting it', async () => {
    const destroyed = await ctx.tf.destroy();
    expectCode(destroyed, 0, 'destroy');
    expect((await ctx.client.listVirtualServices()).items).toEqual([]);
    // newest first: the server's last two writes are the drain, then the delete
    const audit = (await ctx.client.listAuditEntries({ query: { limit: 50 } })).items.filter((e) => e.path.endsWith(rs1)).map((e) => e.operation);
    expect(audit.slice(0, 2)).toEqual(['deleteRealServer', 'updateRealServer']);
  });
});
