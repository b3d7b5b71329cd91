// PROXY protocol and the richer persistence of issue 15 (items 2 and 3) under the real
// terraform: send_proxy, accept_proxy, persistence.source_ip_fallback and the prefix lengths.
// Wrong combinations fail at plan on the attribute (the shared rules of openapi/sdk/rules.ts)
// and change nothing; a configuration applies, plans clean, shows a change made through the
// API as drift that apply corrects, and imports back with no changes. Addresses
// 127.0.246.100-127.0.246.119 belong to this file.
import { describe, expect, it } from 'vitest';
import { applianceWorkspace, expectCode } from './helpers/terraform.js';

const ctx = applianceWorkspace();

function vip(body: string, protocol = 'http'): string {
  return `resource "lbappliance_virtual_service" "p" {
  label      = "tf-proxy"
  ip_address = "127.0.246.100"
  ports      = [8080]
  protocol   = "${protocol}"
${body}
}
`;
}

/** A message as terraform prints it: wrapped at any space. */
function words(text: string): RegExp {
  return new RegExp(text.split(' ').map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('\\s+'));
}

async function failingPlan(hcl: string): Promise<string> {
  const before = await ctx.client.getConfig();
  await ctx.tf.write(hcl);
  const result = await ctx.tf.run(['plan', '-no-color', '-input=false']);
  expect(result.code, result.output).toBe(1);
  expect(await ctx.client.getConfig()).toEqual(before);
  return result.output;
}

describe('PROXY protocol and persistence', () => {
  let vsId: string;

  it('fails at plan on PROXY settings of a layer 4 VIP, a fallback without a cookie, a prefix without a table and an unknown version', async () => {
    const l4 = (extra: string) => vip(`  forwarding    = "nat"\n  forwarded_for = false\n${extra}`, 'tcp');
    const send = await failingPlan(l4('  send_proxy = "v2"'));
    expect(send).toMatch(words('cannot send a PROXY protocol header: sendProxy needs forwarding proxy'));
    expect(send).toContain('[LB_INVALID_COMBINATION]');
    expect(send).toMatch(/send_proxy\s+= "v2"/);
    const accept = await failingPlan(l4('  accept_proxy = true'));
    expect(accept).toMatch(words('acceptProxy needs forwarding proxy'));
    expect(accept).toMatch(/accept_proxy = true/);
    expect(await failingPlan(vip('  persistence = { mode = "source-ip", source_ip_fallback = true }'))).toMatch(words('sourceIpFallback backs up a persistence cookie and needs mode http-cookie'));
    expect(await failingPlan(vip('  persistence = { mode = "http-cookie", ipv4_prefix_length = 24 }'))).toMatch(words('persistence.ipv4PrefixLength says how clients are kept by network'));
    expect(await failingPlan(vip('  send_proxy = "v3"'))).toMatch(/Invalid value for send_proxy/);
    expect(await failingPlan(vip('  persistence = { mode = "source-ip", ipv6_prefix_length = 129 }'))).toMatch(/Invalid value for persistence\.ipv6_prefix_length/);
  });

  it('applies the new settings, then plans no changes', async () => {
    await ctx.tf.write(vip('  send_proxy   = "v2"\n  accept_proxy = true\n  persistence  = { mode = "http-cookie", source_ip_fallback = true, ipv4_prefix_length = 24, ipv6_prefix_length = 64 }'));
    expectCode(await ctx.tf.apply(), 0, 'apply');
    const vs = (await ctx.client.listVirtualServices({ query: { label: 'tf-proxy' } })).items[0]!;
    vsId = vs.id;
    expect(vs).toMatchObject({ sendProxy: 'v2', acceptProxy: true, persistence: { mode: 'http-cookie', sourceIpFallback: true, ipv4PrefixLength: 24, ipv6PrefixLength: 64 } });
    expectCode(await ctx.tf.plan(), 0, 'second plan');
  });

  it('shows changes made through the API as drift, and apply corrects them', async () => {
    await ctx.client.updateVirtualService(vsId, { sendProxy: 'v1', acceptProxy: false, persistence: { ipv4PrefixLength: 32 } });
    const plan = await ctx.tf.plan();
    expectCode(plan, 2, 'plan');
    expect(plan.stdout).toMatch(/~ send_proxy\s+= "v1" -> "v2"/);
    expect(plan.stdout).toMatch(/~ accept_proxy\s+= false -> true/);
    expect(plan.stdout).toMatch(/~ ipv4_prefix_length\s+= 32 -> 24/);
    expectCode(await ctx.tf.apply(), 0, 'apply');
    expect(await ctx.client.getVirtualService(vsId)).toMatchObject({ sendProxy: 'v2', acceptProxy: true, persistence: { ipv4PrefixLength: 24 } });
    expectCode(await ctx.tf.plan(), 0, 'plan after correction');
  });

  it('imports the VIP with the new attributes, then plans no changes', async () => {
    expectCode(await ctx.tf.run(['state', 'rm', 'lbappliance_virtual_service.p']), 0, 'state rm');
    expectCode(await ctx.tf.run(['import', '-no-color', 'lbappliance_virtual_service.p', vsId]), 0, 'import');
    expect(await ctx.tf.attributes('lbappliance_virtual_service.p')).toMatchObject({
      send_proxy: 'v2',
      accept_proxy: true,
      persistence: { mode: 'http-cookie', source_ip_fallback: true, ipv4_prefix_length: 24, ipv6_prefix_length: 64 },
    });
    expectCode(await ctx.tf.plan(), 0, 'plan after import');
    expectCode(await ctx.tf.destroy(), 0, 'destroy');
  });
});
