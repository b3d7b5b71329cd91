// AGFA HealthCare Enterprise Imaging through the SDK: the guide's 21 VIPs (./vip-table.ts)
// in front of the core servers (VIPs 1-19) and the web servers (VIPs 20-21). Run it again at
// any time: it converges the appliance to this description (see ../converge/).
//
//   LBAPPLIANCE_ENDPOINT=https://10.20.50.2:9443 LBAPPLIANCE_PASSWORD=... \
//     node dist/examples/agfa/sdk.js examples/agfa/sdk.settings.json [--plan|--destroy]
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { runDeployment, type Deployment } from '../converge/run.js';
import { AGFA_VIPS } from './vip-table.js';

/** A server. */
export interface Server {
  label: string;
  address: string;
}

/** The settings of an AGFA deployment (the terraform variables, in camelCase). */
export interface AgfaSettings {
  /** The address of the CoreServer VIPs 1-19. */
  coreVipAddress: string;
  /** The address of the WebServer VIPs 20 and 21 (they reuse ports 443 and 80). */
  webVipAddress: string;
  coreServers: Server[];
  webServers: Server[];
}

/** AGFA's deployment: 21 VIPs and their servers. */
export const agfa: Deployment<AgfaSettings> = {
  name: 'AGFA HealthCare Enterprise Imaging',
  desired(s) {
    return {
      certificates: [],
      virtualServices: AGFA_VIPS.map((vip) => ({
        spec: {
          label: vip.label,
          ipAddress: vip.web ? s.webVipAddress : s.coreVipAddress,
          ports: [vip.port],
          protocol: vip.protocol,
          persistence: { mode: vip.persistence },
          healthCheck: vip.healthCheck,
        },
        realServers: (vip.web ? s.webServers : s.coreServers).map(({ label, address }) => ({
          label,
          address,
          port: vip.serverPort ?? vip.port,
          reEncrypt: vip.reEncrypt ?? false,
        })),
      })),
    };
  },
  // Both VIP addresses are this deployment's alone.
  ownership: (s) => ({ addresses: [s.coreVipAddress, s.webVipAddress] }),
};

/** Reads a settings file (sdk.settings.example.json). */
export async function loadSettings(file: string): Promise<AgfaSettings> {
  return JSON.parse(await readFile(file, 'utf8')) as AgfaSettings;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runDeployment(agfa, loadSettings).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });
}
