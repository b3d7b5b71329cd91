// Insignia / Intelerad InSight as a CDKTF stack: the DICOM and HL7 VIPs in load-balanced
// and failover mode, with the same variables as ../terraform, so one terraform.tfvars
// serves both. DICOM is layer 4 direct routing by default, as the guide says
// (`dicom_forwarding`; the loopback plan chooses proxy, see ../README.md).
//
//   node dist/examples/insignia/cdktf/main.js              # writes cdktf.out/stacks/insignia
//   cd cdktf.out/stacks/insignia && terraform init && terraform apply -var-file=...
import { App, Op, TerraformIterator, TerraformLocal, TerraformOutput, TerraformStack, TerraformVariable } from 'cdktf';
import type { Construct } from 'constructs';
import { provider, realServer, virtualService } from 'lbappliance/cdktf';
import { pathToFileURL } from 'node:url';

/** Four TCP VIPs: DICOM (direct routing by default) and HL7 (proxy), each load balanced and in failover mode. */
export class InsigniaStack extends TerraformStack {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    // The appliance and its credentials come from LBAPPLIANCE_* in the environment.
    new provider.LbapplianceProvider(this, 'lbappliance', {});

    const loadBalanced = new TerraformVariable(this, 'load_balanced_vip_address', { type: 'string', description: 'The address of the load-balanced VIPs: connections spread over every server.' });
    const failover = new TerraformVariable(this, 'failover_vip_address', { type: 'string', description: 'The address of the failover VIPs: the first server takes everything, the others only while it is down.' });
    new TerraformVariable(this, 'servers', {
      type: 'list(object({ label = string, address = string }))',
      description: 'The InSight servers, in order of preference: in failover mode the first is the primary and the others its backups.',
    });
    const dicomPort = new TerraformVariable(this, 'dicom_port', { type: 'number', default: 104, description: "The DICOM port, on the VIPs and the servers alike (104, DICOM's well-known port)." });
    const hl7Port = new TerraformVariable(this, 'hl7_port', { type: 'number', default: 2575, description: 'The HL7 (MLLP) port, on the VIPs and the servers alike (2575, the IANA port).' });
    const dicomForwarding = new TerraformVariable(this, 'dicom_forwarding', {
      type: 'string',
      default: 'direct-routing',
      description:
        "How the DICOM VIPs forward: `direct-routing` as the guide says (layer 4 DR: the servers hold the VIP on a loopback with the ARP problem solved, answer the modality directly and see its own address), `nat` or `snat` (layer 4 NAT), or `proxy` (a layer 7 TCP VIP, where layer 4 cannot work, e.g. the loopback plan of local.tfvars).",
      validation: [{ condition: '${contains(["direct-routing", "nat", "snat", "proxy"], var.dicom_forwarding)}', errorMessage: 'dicom_forwarding is direct-routing, nat, snat or proxy.' }],
    });

    // The servers by label, each knowing whether it is a backup in failover mode (every one
    // after the first): a for expression, since the place in the list decides.
    const ranked = new TerraformLocal(this, 'ranked_servers', '${{ for i, s in var.servers : s.label => { label = s.label, address = s.address, backup = i > 0 } }}');

    const modes = [
      { suffix: 'LB', address: loadBalanced, failover: false },
      { suffix: 'Failover', address: failover, failover: true },
    ];
    const protocols = [
      { name: 'DICOM', port: dicomPort, check: 'dicom', forwarding: dicomForwarding.stringValue, forwardedFor: Op.eq(dicomForwarding.stringValue, 'proxy') },
      { name: 'HL7', port: hl7Port, check: 'hl7', forwarding: 'proxy', forwardedFor: true },
    ];
    const ids: Record<string, string> = {};
    for (const mode of modes) {
      for (const p of protocols) {
        const label = `Insignia-${p.name}-${mode.suffix}`;
        const id = `${p.name.toLowerCase()}_${mode.suffix.toLowerCase()}`;
        // The guide's layer 4 DR for DICOM (unless dicom_forwarding says otherwise), layer 7 for HL7.
        const vs = new virtualService.VirtualService(this, id, {
          label,
          ipAddress: mode.address.stringValue,
          ports: [p.port.numberValue],
          protocol: 'tcp',
          forwarding: p.forwarding,
          // A layer 4 VIP forwards packets and must say false; a proxy VIP keeps the default.
          forwardedFor: p.forwardedFor,
          // The guide names no check: a C-ECHO on DICOM, an HL7 message whose ACK must accept it on HL7.
          healthCheck: { type: p.check },
        });
        const servers = TerraformIterator.fromMap(ranked.asAnyMap);
        new realServer.RealServer(this, `${id}_servers`, {
          forEach: servers,
          virtualServiceId: vs.id,
          label: servers.getString('label'),
          address: servers.getString('address'),
          port: p.port.numberValue,
          backup: mode.failover ? servers.getBoolean('backup') : false,
        });
        ids[label] = vs.id;
      }
    }
    new TerraformOutput(this, 'virtual_service_ids', { value: ids, description: "The VIPs' ids, by label." });
  }
}

// Run as a program (not imported): synthesise into ./cdktf.out, or $CDKTF_OUTDIR.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const app = new App();
  new InsigniaStack(app, 'insignia');
  app.synth();
}
