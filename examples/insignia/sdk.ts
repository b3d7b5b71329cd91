// Insignia / Intelerad InSight through the SDK: the DICOM VIP and the HL7 VIP in
// load-balanced mode and in failover mode. DICOM is layer 4 direct routing as the guide says,
// unless `dicomForwarding` says otherwise (the loopback plan, sdk.settings.local.json, chooses
// proxy; see README.md). Run it again at any time: it converges the appliance to this
// description (see ../converge/).
//
//   LBAPPLIANCE_ENDPOINT=https://10.30.60.2:9443 LBAPPLIANCE_PASSWORD=... \
//     node dist/examples/insignia/sdk.js examples/insignia/sdk.settings.json [--plan|--destroy]
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import type { DesiredVirtualService } from '../converge/desired.js';
import { runDeployment, type Deployment } from '../converge/run.js';

/** A server. */
export interface Server {
  label: string;
  address: string;
}

/** The settings of an Insignia deployment (the terraform variables, in camelCase). */
export interface InsigniaSettings {
  /** The address of the load-balanced VIPs. */
  loadBalancedVipAddress: string;
  /** The address of the failover VIPs. */
  failoverVipAddress: string;
  /** The servers in order of preference: in failover mode the first is the primary. */
  servers: Server[];
  /** DICOM port (default 104). */
  dicomPort?: number;
  /** HL7 over MLLP port (default 2575). */
  hl7Port?: number;
  /** How the DICOM VIPs forward (default `direct-routing`, the guide's layer 4 DR; `proxy` where layer 4 cannot work). */
  dicomForwarding?: 'direct-routing' | 'nat' | 'snat' | 'proxy';
}

/** Insignia's deployment: four TCP VIPs, two per mode (DICOM direct routing by default, HL7 proxy). */
export const insignia: Deployment<InsigniaSettings> = {
  name: 'Insignia InSight PACS',
  desired(s) {
    const modes = [
      { suffix: 'LB', address: s.loadBalancedVipAddress, failover: false },
      { suffix: 'Failover', address: s.failoverVipAddress, failover: true },
    ];
    const protocols = [
      { name: 'DICOM', port: s.dicomPort ?? 104, check: 'dicom' as const, forwarding: s.dicomForwarding ?? 'direct-routing' },
      { name: 'HL7', port: s.hl7Port ?? 2575, check: 'hl7' as const, forwarding: 'proxy' as const },
    ];
    const virtualServices = modes.flatMap((mode) =>
      protocols.map(
        (p): DesiredVirtualService => ({
          // No persistence: each DICOM association and MLLP connection is complete in itself.
          // The guide names no check: a C-ECHO on DICOM, an HL7 message whose ACK must accept it on HL7.
          // A layer 4 VIP forwards packets and must say forwardedFor false; a proxy VIP keeps the default.
          spec: { label: `Insignia-${p.name}-${mode.suffix}`, ipAddress: mode.address, ports: [p.port], protocol: 'tcp', forwarding: p.forwarding, forwardedFor: p.forwarding === 'proxy', healthCheck: { type: p.check } },
          // In failover mode every server after the first waits as a backup.
          realServers: s.servers.map(({ label, address }, i) => ({ label, address, port: p.port, backup: mode.failover && i > 0 })),
        }),
      ),
    );
    return { certificates: [], virtualServices };
  },
  // Both VIP addresses are this deployment's alone.
  ownership: (s) => ({ addresses: [s.loadBalancedVipAddress, s.failoverVipAddress] }),
};

/** Reads a settings file (sdk.settings.example.json). */
export async function loadSettings(file: string): Promise<InsigniaSettings> {
  return JSON.parse(await readFile(file, 'utf8')) as InsigniaSettings;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runDeployment(insignia, loadSettings).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });
}
