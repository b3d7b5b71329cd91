// AGFA HealthCare Enterprise Imaging (shared/seeds 002 and 004): the 21 VIPs of the guide's
// table, all layer 7 reverse proxy ("HTTP" rows as protocol http, "TCP" rows as tcp), with
// the table's persistence and health check. Where the table is ambiguous the row says which
// reading it takes (`note`). "CoreServer" rows are served by the core servers (`servers`),
// "WebServer" rows 20 and 21 by the web servers (`serverGroups.web`) on an address of their
// own, since they reuse ports 443 and 80.
import type { VendorProfile, VipProfile } from '../vendor-profile.js';

/** The port of the health page that answers the HTTP (GET) checks of AGFA's TCP services: GET /health/<service port> is 200 while that service runs. */
export const AGFA_HEALTH_PAGE_PORT = 8099;

const HTTP_GET = { healthCheck: { type: 'http' as const } };
const HTTPS_GET = { healthCheck: { type: 'https' as const } };
const CONNECT = { healthCheck: { type: 'connect' as const } };
const COOKIE = { persistence: { mode: 'http-cookie' as const } };
const SOURCE_IP = { persistence: { mode: 'source-ip' as const } };
// A DICOM or plain TCP port cannot answer an HTTP GET: the table's HTTP (GET) check of such a
// service asks the server's health page about that service's port.
const healthPage = (port: number) => ({ healthCheck: { type: 'http' as const, port: AGFA_HEALTH_PAGE_PORT, path: `/health/${port}` } });
const PAGE_NOTE = `HTTP (GET) check of a TCP service: it asks the server's health page on ${AGFA_HEALTH_PAGE_PORT} for /health/<port>, which follows that service.`;

function row(n: number, label: string, port: number, protocol: 'http' | 'tcp', settings: VipProfile['settings'], extra: Partial<VipProfile> = {}): VipProfile {
  return { key: `vip${n}`, label, ports: [port], protocol, settings, ...extra };
}

/** The AGFA Enterprise Imaging VIP table. */
export const agfaEnterpriseImaging: VendorProfile = {
  name: 'AGFA HealthCare Enterprise Imaging',
  virtualServices: [
    row(1, 'CoreServerClient-80', 80, 'http', { ...COOKIE, ...HTTP_GET }),
    row(2, 'CoreServerDICOM-104', 104, 'tcp', healthPage(104), { note: PAGE_NOTE }),
    row(3, 'CoreServerDICOM-110', 110, 'tcp', healthPage(110), { note: PAGE_NOTE }),
    row(4, 'CoreServer-443', 81, 'http', { ...COOKIE, ...HTTPS_GET }, {
      serverPort: 443,
      reEncrypt: true,
      note: 'Named -443 but listed on port 81: the VIP listens on 81 as the table says and forwards to the core servers\' HTTPS service on 443 as the name says, re-encrypting; the HTTPS (GET) check needs that TLS service.',
    }),
    row(5, 'CoreServerHL7-2310', 2310, 'tcp', CONNECT),
    row(6, 'CoreServerHL7-2311', 2311, 'tcp', CONNECT),
    row(7, 'CoreServerDICOM-2762', 2762, 'tcp', healthPage(2762), { note: `2762 is DICOM over TLS; the TCP VIP passes the bytes through unchanged. ${PAGE_NOTE}` }),
    row(8, 'CoreServerClient-4447', 4447, 'tcp', healthPage(4447), { note: PAGE_NOTE }),
    row(9, 'CoreServerClient-5222', 5222, 'tcp', CONNECT),
    row(10, 'CoreServerClient-5223', 5223, 'tcp', CONNECT),
    row(11, 'CoreServerClient-7443', 7443, 'tcp', CONNECT),
    row(12, 'CoreServerARR-6514', 6514, 'tcp', CONNECT),
    row(13, 'CoreServerClient-8080', 8080, 'http', { ...COOKIE, ...HTTP_GET }),
    row(14, 'CoreServerClient-8443', 8443, 'http', { ...SOURCE_IP, ...HTTPS_GET }, { reEncrypt: true, note: 'An HTTP VIP checked with HTTPS (GET): the servers speak TLS on 8443, so the real servers re-encrypt; the VIP itself takes plain HTTP as the table says.' }),
    row(15, 'CoreServerClient-9080', 9080, 'http', { ...SOURCE_IP, ...CONNECT }, { note: 'The table gives no health check: the appliance\'s default (connect to port) is kept, so a stopped server is still taken out of the pool.' }),
    row(16, 'CoreServerClient-9081', 9081, 'http', { ...SOURCE_IP, ...HTTP_GET }),
    row(17, 'CoreServerClient-10080', 10080, 'http', { ...SOURCE_IP, ...HTTP_GET }),
    row(18, 'CoreServerClient-10123', 10123, 'tcp', { ...SOURCE_IP, ...CONNECT }),
    row(19, 'CoreServerClient-10124', 10124, 'tcp', { ...SOURCE_IP, ...CONNECT }),
    row(20, 'WebServer-withXero', 443, 'tcp', HTTPS_GET, {
      ownAddress: true,
      serverGroup: 'web',
      note: 'Port 443 again, in TCP mode: TLS passes through to the web servers\' HTTPS service, which the HTTPS (GET) check asks directly. A WebServer VIP: the web servers, on the WebServer address.',
    }),
    row(21, 'WebServer-withoutXero', 80, 'http', { ...COOKIE, healthCheck: { type: 'https', port: 443, path: '/health/80' } }, {
      ownAddress: true,
      serverGroup: 'web',
      note: 'Port 80 again, on the WebServer address. HTTP on 80 with an HTTPS (GET) check: the check goes to the web servers\' HTTPS port 443 and asks for /health/80, which reports the port-80 service, so stopping that service fails the check.',
    }),
  ],
};
