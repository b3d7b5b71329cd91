// AGFA HealthCare Enterprise Imaging (seeds 002 and 004): all 21 VIPs. The guide gives no
// addresses; in the 127.0.50.x plan VIPs 1-19 share 127.0.50.100 and VIPs 20/21 (which reuse
// ports 443 and 80) get their own address 127.0.50.101. "CoreServer" VIPs front two core
// servers (127.0.50.11/.12), "WebServer" VIPs two web servers (127.0.50.21/.22). The VIP
// settings are the package's agfaEnterpriseImaging vendor profile; this plan places them and
// says what runs behind each.
import { AGFA_HEALTH_PAGE_PORT, agfaEnterpriseImaging as table } from '../../../provider/pulumi/sdk/profiles/agfa.js';
import type { BackendKind } from '../service.js';
import { vipFromVendorRow } from './from-vendor.js';
import type { BackendProfile, HostPlan } from './types.js';

const core: HostPlan[] = [
  { id: 'CORE1', name: 'agfa-core1', address: '127.0.50.11', aeTitle: 'AGFA_CORE1' },
  { id: 'CORE2', name: 'agfa-core2', address: '127.0.50.12', aeTitle: 'AGFA_CORE2' },
];
const web: HostPlan[] = [
  { id: 'WEB1', name: 'agfa-web1', address: '127.0.50.21' },
  { id: 'WEB2', name: 'agfa-web2', address: '127.0.50.22' },
];

/** The port of every AGFA server's health page (see BackendProfile.healthPort). */
export const AGFA_HEALTH_PORT = AGFA_HEALTH_PAGE_PORT;
/** The VIP addresses: CoreServer VIPs 1-19, WebServer VIPs 20-21. */
export const AGFA_VIP_ADDRESSES = { core: '127.0.50.100', web: '127.0.50.101' } as const;

type Persistence = 'HTTP Cookie' | 'Source IP' | 'None';
type Check = 'HTTP (GET)' | 'HTTPS (GET)' | 'Connect to Port' | '';

// The guide's table as printed (layer 7 protocol, port, persistence, check), and what each
// row's servers run, in the vendor profile's row order.
const GUIDE: [l7: 'HTTP' | 'TCP', persistence: Persistence, check: Check, kind: BackendKind][] = [
  ['HTTP', 'HTTP Cookie', 'HTTP (GET)', 'http'],
  ['TCP', 'None', 'HTTP (GET)', 'dicom'],
  ['TCP', 'None', 'HTTP (GET)', 'dicom'],
  ['HTTP', 'HTTP Cookie', 'HTTPS (GET)', 'https'],
  ['TCP', 'None', 'Connect to Port', 'hl7'],
  ['TCP', 'None', 'Connect to Port', 'hl7'],
  ['TCP', 'None', 'HTTP (GET)', 'dicom'],
  ['TCP', 'None', 'HTTP (GET)', 'tcp'],
  ['TCP', 'None', 'Connect to Port', 'tcp'],
  ['TCP', 'None', 'Connect to Port', 'tcp'],
  ['TCP', 'None', 'Connect to Port', 'tcp'],
  ['TCP', 'None', 'Connect to Port', 'tcp'],
  ['HTTP', 'HTTP Cookie', 'HTTP (GET)', 'http'],
  ['HTTP', 'Source IP', 'HTTPS (GET)', 'https'],
  ['HTTP', 'Source IP', '', 'http'],
  ['HTTP', 'Source IP', 'HTTP (GET)', 'http'],
  ['HTTP', 'Source IP', 'HTTP (GET)', 'http'],
  ['TCP', 'Source IP', 'Connect to Port', 'tcp'],
  ['TCP', 'Source IP', 'Connect to Port', 'tcp'],
  ['TCP', 'None', 'HTTPS (GET)', 'https'],
  ['HTTP', 'HTTP Cookie', 'HTTPS (GET)', 'http'],
];

/** AGFA's 21 VIPs, the two core servers and the two web servers behind them. */
export const agfa: BackendProfile = {
  example: 'agfa',
  title: 'AGFA HealthCare Enterprise Imaging',
  guide: ['002_13781dc209246142.txt', '004_7065b3a9d18d0e3b.txt'],
  hosts: [...core, ...web],
  vips: table.virtualServices.map((row, i) => {
    const [l7, persistence, healthCheck, kind] = GUIDE[i]!;
    const isWeb = row.serverGroup === 'web';
    return vipFromVendorRow(row, {
      ref: `VIP ${i + 1}`,
      ipAddress: isWeb ? AGFA_VIP_ADDRESSES.web : AGFA_VIP_ADDRESSES.core,
      hosts: isWeb ? web : core,
      kind,
      guide: { mode: `Layer 7 Reverse Proxy (${l7})`, ports: String(row.ports[0]), persistence, healthCheck },
    });
  }),
  healthPort: AGFA_HEALTH_PORT,
};
