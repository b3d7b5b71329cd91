// Issue 17: a plan's refresh reads the configuration once, not once per resource, and drift
// made outside Terraform still shows. Steps as a user works: apply VIPs with servers
// (for_each), a clean plan that asks the appliance for the whole configuration instead of
// each object, then changes made through the API (a weight, a deleted server, a deleted VIP)
// that the next plan shows; and the provider's cache on its own: a write through it, or a
// change made elsewhere once the copy is older than its maximum age, is seen by the next read.
// Addresses 127.0.227.x belong to this file.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { MAX_AGE_MS, readCache, writing } from '../../provider/resources/read-cache.js';
import { applianceWorkspace, expectCode } from './helpers/terraform.js';

const ctx = applianceWorkspace();

const HCL = `
locals {
  vips = { a = 1, b = 2, c = 3 }
  servers = merge([for k, i in local.vips : { for j in range(2) : "\${k}-\${j}" => { vip = k, j = j } }]...)
}
resource "lbappliance_virtual_service" "vip" {
  for_each   = local.vips
  label      = "BULK-\${each.key}"
  ip_address = "127.0.227.\${each.value}"
  ports      = [8080]
  protocol   = "http"
}
resource "lbappliance_real_server" "server" {
  for_each           = local.servers
  virtual_service_id = lbappliance_virtual_service.vip[each.value.vip].id
  label              = "S-\${each.key}"
  address            = "127.0.227.\${100 + each.value.j}"
  port               = 9000
  drain_timeout      = 0
}
`;

/** API requests answered so far, by operation (from the appliance's metrics). */
async function requests(): Promise<Map<string, number>> {
  const text = String(await ctx.client.getMetrics());
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^lbappliance_api_requests_total\{operation="(\w+)",status="2\d\d"\} (\d+)$/gm)) out.set(m[1] as string, (out.get(m[1] as string) ?? 0) + Number(m[2]));
  return out;
}

function delta(before: Map<string, number>, after: Map<string, number>, op: string): number {
  return (after.get(op) ?? 0) - (before.get(op) ?? 0);
}

describe('bulk reads', () => {
  it('a clean plan of 9 resources reads the configuration, not each object', async () => {
    await ctx.tf.write(HCL);
    expectCode(await ctx.tf.apply(), 0, 'apply');
    const before = await requests();
    expectCode(await ctx.tf.plan(), 0, 'clean plan');
    const after = await requests();
    expect(delta(before, after, 'getVirtualService')).toBe(0);
    expect(delta(before, after, 'getRealServer')).toBe(0);
    expect(delta(before, after, 'getConfig')).toBeGreaterThanOrEqual(1);
    expect(delta(before, after, 'getConfig')).toBeLessThanOrEqual(3);
  });

  it('shows drift made through the API: a changed weight, a deleted server, a deleted VIP', async () => {
    const config = await ctx.client.getConfig();
    const byLabel = (l: string) => Object.entries(config.realServers).find(([, rs]) => rs.label === l) as [string, { virtualServiceId: string }];
    const [changedId, changed] = byLabel('S-a-0');
    await ctx.client.updateRealServer(changed.virtualServiceId, changedId, { weight: 7 });
    const [goneId, gone] = byLabel('S-b-1');
    await ctx.client.deleteRealServer(gone.virtualServiceId, goneId);
    const vipC = Object.entries(config.virtualServices).find(([, vs]) => vs.label === 'BULK-c')?.[0] as string;
    await ctx.client.deleteVirtualService(vipC);
    const plan = await ctx.tf.plan();
    expectCode(plan, 2, 'plan after drift');
    expect(plan.stdout).toMatch(/lbappliance_real_server\.server\["a-0"\] will be updated in-place/);
    expect(plan.stdout).toMatch(/weight\s+= 7 -> 100/);
    expect(plan.stdout).toMatch(/lbappliance_real_server\.server\["b-1"\] will be created/);
    expect(plan.stdout).toMatch(/lbappliance_virtual_service\.vip\["c"\] will be created/);
    expect(plan.stdout).toMatch(/Plan: 4 to add, 1 to change, 0 to destroy/);
    expectCode(await ctx.tf.apply(), 0, 'apply repairs the drift');
    expectCode(await ctx.tf.plan(), 0, 'clean plan after the repair');
  });

  it('the provider cache: a write through it is read back at once; a change made elsewhere once the copy is older than its maximum age', async () => {
    const client = ctx.app.client();
    const cache = readCache(client);
    const first = await cache.config();
    const [rsId, rs] = Object.entries(first.realServers)[0] as [string, { virtualServiceId: string; weight: number }];
    // Out of band (another client): within the maximum age the copy may answer...
    await ctx.client.updateRealServer(rs.virtualServiceId, rsId, { weight: 11 });
    // ...but once it is older, the revision changed and the configuration is read again.
    await sleep(MAX_AGE_MS + 50);
    expect((await cache.config()).realServers[rsId]?.weight).toBe(11);
    // Through the provider's own client: read back at once.
    await writing(client, () => client.updateRealServer(rs.virtualServiceId, rsId, { weight: 12 }));
    expect((await cache.config()).realServers[rsId]?.weight).toBe(12);
    // Unchanged: revalidated by revision only (no second read of the whole configuration).
    const before = await requests();
    await sleep(MAX_AGE_MS + 50);
    await cache.config();
    const after = await requests();
    expect(delta(before, after, 'getConfig')).toBe(0);
    expect(delta(before, after, 'listRevisions')).toBe(1);
  });

  it('destroys everything', async () => {
    expectCode(await ctx.tf.destroy(), 0, 'destroy');
    const config = await ctx.client.getConfig();
    expect(Object.keys(config.virtualServices)).toEqual([]);
  });

  it('applies and destroys 48 resources with -parallelism=30: no write fails or is refused (no 409, 412, 429 or 5xx)', async () => {
    const refusals = async () => {
      const text = String(await ctx.client.getMetrics());
      let n = 0;
      for (const m of text.matchAll(/^lbappliance_api_requests_total\{operation="\w+",status="(\d+)"\} (\d+)$/gm)) if (/^(409|412|429|5\d\d)$/.test(m[1] as string)) n += Number(m[2]);
      return n;
    };
    const before = await refusals();
    await ctx.tf.write(HCL.replace('{ a = 1, b = 2, c = 3 }', `{ ${Array.from({ length: 12 }, (_, i) => `v${i} = ${10 + i}`).join(', ')} }`).replace('range(2)', 'range(3)'));
    const apply = await ctx.tf.apply(['-parallelism=30']);
    expectCode(apply, 0, 'apply -parallelism=30');
    expect(apply.stdout).toMatch(/Apply complete! Resources: 48 added, 0 changed, 0 destroyed/);
    expect((await ctx.client.getConfig()).realServers).toSatisfy((rs: object) => Object.keys(rs).length === 36);
    expectCode(await ctx.tf.plan(['-parallelism=30']), 0, 'clean plan');
    const destroy = await ctx.tf.run(['destroy', '-auto-approve', '-no-color', '-input=false', '-parallelism=30']);
    expectCode(destroy, 0, 'destroy -parallelism=30');
    expect(`${apply.output}${destroy.output}`).not.toMatch(/retry|retrying|\b(409|412|429)\b/i); // ids are hex: a bare 409 inside one is no status
    expect(await refusals()).toBe(before);
  });
});
