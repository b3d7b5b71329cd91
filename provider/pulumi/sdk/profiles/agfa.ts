// AGFA HealthCare Enterprise Imaging (shared/seeds 002 and 004): the 21 VIPs of the guide's
// table, all layer 7 reverse proxy ("HTTP" rows as protocol http, "TCP" rows as tcp), with
// the table's persistence and health check. The table's ambiguities are kept as the table
// states them and noted on the row, so a deployment can override them knowingly.
import type { VendorProfile, VipProfile } from '../vendor-profile.js';

const HTTP_GET = { healthCheck: { type: 'http' as const } };
const HTTPS_GET = { healthCheck: { type: 'https' as const } };
const CONNECT = { healthCheck: { type: 'connect' as const } };
const COOKIE = { persistence: { mode: 'http-cookie' as const } };
const SOURCE_IP = { persistence: { mode: 'source-ip' as const } };

function row(n: number, label: string, port: number, protocol: 'http' | 'tcp', settings: VipProfile['settings'], extra: Partial<VipProfile> = {}): VipProfile {
  return { key: `vip${n}`, label, ports: [port], protocol, settings, ...extra };
}

/** The AGFA Enterprise Imaging VIP table. */
export const agfaEnterpriseImaging: VendorProfile = {
  name: 'AGFA HealthCare Enterprise Imaging',
  virtualServices: [
    row(1, 'CoreServerClient-80', 80, 'http', { ...COOKIE, ...HTTP_GET }),
    row(2, 'CoreServerDICOM-104', 104, 'tcp', HTTP_GET),
    row(3, 'CoreServerDICOM-110', 110, 'tcp', HTTP_GET),
    row(4, 'CoreServer-443', 81, 'http', { ...COOKIE, ...HTTPS_GET }, { note: 'Named -443 but listed on port 81: the table\'s port is used.' }),
    row(5, 'CoreServerHL7-2310', 2310, 'tcp', CONNECT),
    row(6, 'CoreServerHL7-2311', 2311, 'tcp', CONNECT),
    row(7, 'CoreServerDICOM-2762', 2762, 'tcp', HTTP_GET),
    row(8, 'CoreServerClient-4447', 4447, 'tcp', HTTP_GET),
    row(9, 'CoreServerClient-5222', 5222, 'tcp', CONNECT),
    row(10, 'CoreServerClient-5223', 5223, 'tcp', CONNECT),
    row(11, 'CoreServerClient-7443', 7443, 'tcp', CONNECT),
    row(12, 'CoreServerARR-6514', 6514, 'tcp', CONNECT),
    row(13, 'CoreServerClient-8080', 8080, 'http', { ...COOKIE, ...HTTP_GET }),
    row(14, 'CoreServerClient-8443', 8443, 'http', { ...SOURCE_IP, ...HTTPS_GET }),
    row(15, 'CoreServerClient-9080', 9080, 'http', { ...SOURCE_IP, healthCheck: { type: 'none' } }, { note: 'The table gives no health check: none is configured, so a down server is not detected on this VIP.' }),
    row(16, 'CoreServerClient-9081', 9081, 'http', { ...SOURCE_IP, ...HTTP_GET }),
    row(17, 'CoreServerClient-10080', 10080, 'http', { ...SOURCE_IP, ...HTTP_GET }),
    row(18, 'CoreServerClient-10123', 10123, 'tcp', { ...SOURCE_IP, ...CONNECT }),
    row(19, 'CoreServerClient-10124', 10124, 'tcp', { ...SOURCE_IP, ...CONNECT }),
    row(20, 'WebServer-withXero', 443, 'tcp', HTTPS_GET, { ownAddress: true, note: 'Port 443 again (VIP 4 is the CoreServer "443" service): it gets an address of its own.' }),
    row(21, 'WebServer-withoutXero', 80, 'http', { ...COOKIE, ...HTTPS_GET }, { ownAddress: true, note: 'Port 80 is VIP 1\'s on the shared address: it gets an address of its own.' }),
  ],
};
