// CDKTF on the generated bindings (lbappliance/cdktf): a stack with a VIP and two servers
// synthesises in a plain node process with no terraform on PATH, and the real terraform
// applies its output (init from a filesystem mirror, no registry) against a live appliance;
// a second plan shows no changes. The stack holds a syslog collector too (issue 18).
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/paths.js';
import { applianceWorkspace, expectCode } from './helpers/terraform.js';

// CDKTF writes a backend block, which needs `terraform init`: install from a filesystem mirror.
const ctx = applianceWorkspace('mirror');

/** A CDKTF app as a user writes it, on the package's public exports. */
function appSource(outdir: string): string {
  return `
import { App, LocalBackend, TerraformStack, TerraformOutput } from 'cdktf';
import { provider, virtualService, realServer, syslogCollector } from 'lbappliance/cdktf';

class Vips extends TerraformStack {
  constructor(scope, id) {
    super(scope, id);
    new LocalBackend(this, { path: ${JSON.stringify(join(outdir, 'terraform.vips.tfstate'))} });
    new provider.LbapplianceProvider(this, 'appliance', { endpoint: ${JSON.stringify(ctx.app.endpoint)}, password: ${JSON.stringify(ctx.app.password)}, insecure: true });
    const aqi = new virtualService.VirtualService(this, 'aqi', {
      label: 'AVS-AQI',
      ipAddress: '127.0.73.1',
      ports: [1200],
      protocol: 'tcp',
      persistence: { mode: 'source-ip' },
      healthCheck: { type: 'connect' },
      timeouts: { client: 92, server: 93 },
    });
    ['127.0.73.11', '127.0.73.12'].forEach((address, i) => {
      new realServer.RealServer(this, 'server' + (i + 1), { virtualServiceId: aqi.id, label: 'SERVER' + (i + 1), address, port: 1200 });
    });
    new syslogCollector.SyslogCollector(this, 'noc', { label: 'noc', host: '127.0.250.1', port: 15560, transport: 'tcp', facility: 'local2' });
    new TerraformOutput(this, 'vip_id', { value: aqi.id });
  }
}

const app = new App({ outdir: ${JSON.stringify(outdir)} });
new Vips(app, 'vips');
app.synth();
`;
}

function synth(source: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    // No terraform on PATH: synthesis must not need it.
    const env = { PATH: dirname(process.execPath), HOME: process.env.HOME ?? '/tmp', CHECKPOINT_DISABLE: '1' };
    execFile(process.execPath, ['--input-type=module', '-e', source], { cwd: ROOT, env, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? 1 : 0, output: `${stdout}${stderr}` });
    });
  });
}

describe('CDKTF', () => {
  const stackDir = () => join(ctx.tf.dir, 'cdktf.out', 'stacks', 'vips');

  it('synthesises a stack on the generated bindings without terraform', async () => {
    const result = await synth(appSource(join(ctx.tf.dir, 'cdktf.out')));
    expect(result.code, result.output).toBe(0);
    const json = JSON.parse(await readFile(join(stackDir(), 'cdk.tf.json'), 'utf8')) as Record<string, any>;
    expect(json.terraform.required_providers.lbappliance.source).toBe('registry.terraform.io/lbappliance/lbappliance');
    expect(json.resource.lbappliance_virtual_service.aqi).toMatchObject({ label: 'AVS-AQI', ip_address: '127.0.73.1', ports: [1200], persistence: { mode: 'source-ip' }, timeouts: { client: 92, server: 93 } });
    expect(Object.keys(json.resource.lbappliance_real_server)).toEqual(['server1', 'server2']);
    expect(json.resource.lbappliance_real_server.server1.virtual_service_id).toBe('${lbappliance_virtual_service.aqi.id}');
    expect(json.resource.lbappliance_syslog_collector.noc).toMatchObject({ label: 'noc', host: '127.0.250.1', port: 15560, transport: 'tcp', facility: 'local2' });
  });

  it('applies the synthesised stack with terraform: a VIP with two servers', async () => {
    const chdir = `-chdir=${stackDir()}`;
    expectCode(await ctx.tf.run([chdir, 'init', '-no-color', '-input=false']), 0, 'init from the filesystem mirror');
    expectCode(await ctx.tf.run([chdir, 'apply', '-auto-approve', '-no-color', '-input=false']), 0, 'apply');
    const vs = (await ctx.client.listVirtualServices({ query: { label: 'AVS-AQI' } })).items[0]!;
    expect(vs).toMatchObject({ ipAddress: '127.0.73.1', ports: [1200], protocol: 'tcp', persistence: { mode: 'source-ip' }, timeouts: { client: 92, server: 93 } });
    const servers = (await ctx.client.listRealServers(vs.id)).items.map((s) => [s.label, s.address, s.port]);
    expect(servers.sort()).toEqual([
      ['SERVER1', '127.0.73.11', 1200],
      ['SERVER2', '127.0.73.12', 1200],
    ]);
    expect((await ctx.client.listSyslogCollectors()).items).toMatchObject([{ label: 'noc', transport: 'tcp', facility: 'local2' }]);
    expectCode(await ctx.tf.run([chdir, 'plan', '-detailed-exitcode', '-no-color', '-input=false']), 0, 'second plan');
    expectCode(await ctx.tf.run([chdir, 'destroy', '-auto-approve', '-no-color', '-input=false']), 0, 'destroy');
    expect((await ctx.client.listVirtualServices()).items).toEqual([]);
    expect((await ctx.client.listSyslogCollectors()).items).toEqual([]);
  }, 300_000); // init, apply, plan and destroy: four terraform runs on a loaded machine
});
