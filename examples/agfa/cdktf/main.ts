// AGFA HealthCare Enterprise Imaging as a CDKTF stack: the guide's 21 VIPs (../vip-table.ts)
// with the same variables as ../terraform, so one terraform.tfvars serves both.
//
//   node dist/examples/agfa/cdktf/main.js                  # writes cdktf.out/stacks/agfa
//   cd cdktf.out/stacks/agfa && terraform init && terraform apply -var-file=...
import { App, TerraformIterator, TerraformOutput, TerraformStack, TerraformVariable } from 'cdktf';
import type { Construct } from 'constructs';
import { provider, realServer, virtualService } from 'lbappliance/cdktf';
import { pathToFileURL } from 'node:url';
import { AGFA_VIPS } from '../vip-table.js';

const SERVER_LIST = 'list(object({ label = string, address = string }))';

/** The 21 VIPs, each with its pool of core or web servers. */
export class AgfaStack extends TerraformStack {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    // The appliance and its credentials come from LBAPPLIANCE_* in the environment.
    new provider.LbapplianceProvider(this, 'lbappliance', {});

    const coreVipAddress = new TerraformVariable(this, 'core_vip_address', { type: 'string', description: 'The address of the CoreServer VIPs 1-19.' });
    const webVipAddress = new TerraformVariable(this, 'web_vip_address', { type: 'string', description: 'The address of the WebServer VIPs 20 and 21, which reuse ports 443 and 80.' });
    const coreServers = new TerraformVariable(this, 'core_servers', { type: SERVER_LIST, description: 'The Enterprise Imaging core servers, behind VIPs 1-19.' });
    const webServers = new TerraformVariable(this, 'web_servers', { type: SERVER_LIST, description: 'The web servers, behind VIPs 20 and 21.' });

    const ids: Record<string, string> = {};
    for (const vip of AGFA_VIPS) {
      const vs = new virtualService.VirtualService(this, `vip${vip.ref}`, {
        label: vip.label,
        ipAddress: (vip.web ? webVipAddress : coreVipAddress).stringValue,
        ports: [vip.port],
        protocol: vip.protocol,
        persistence: { mode: vip.persistence },
        healthCheck: vip.healthCheck,
      });
      // One real server per server of the VIP's pool, keyed by its label.
      const servers = TerraformIterator.fromComplexList((vip.web ? webServers : coreServers).value, 'label');
      new realServer.RealServer(this, `vip${vip.ref}_servers`, {
        forEach: servers,
        virtualServiceId: vs.id,
        label: servers.getString('label'),
        address: servers.getString('address'),
        port: vip.serverPort ?? vip.port,
        reEncrypt: vip.reEncrypt ?? false,
      });
      ids[vip.label] = vs.id;
    }
    new TerraformOutput(this, 'virtual_service_ids', { value: ids, description: "The VIPs' ids, by the guide's names." });
  }
}

// Run as a program (not imported): synthesise into ./cdktf.out, or $CDKTF_OUTDIR.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const app = new App();
  new AgfaStack(app, 'agfa');
  app.synth();
}
