// AGFA HealthCare Enterprise Imaging (seeds 002 and 004): all 21 VIPs. The guide gives no
// addresses; in the 127.0.50.x plan VIPs 1-19 share 127.0.50.100 and VIPs 20/21 (which reuse
// ports 443 and 80) get their own address 127.0.50.101. "CoreServer" VIPs front two core
// servers (127.0.50.11/.12), "WebServer" VIPs two web servers (127.0.50.21/.22).
import type { BackendKind } from '../service.js';
import type { BackendProfile, HealthCheckPlan, HostPlan, VipPlan } from './types.js';

const core: HostPlan[] = [
  { id: 'CORE1', name: 'agfa-core1', address: '127.0.50.11', aeTitle: 'AGFA_CORE1' },
  { id: 'CORE2', name: 'agfa-core2', address: '127.0.50.12', aeTitle: 'AGFA_CORE2' },
];
const web: HostPlan[] = [
  { id: 'WEB1', name: 'agfa-web1', address: '127.0.50.21' },
  { id: 'WEB2', name: 'agfa-web2', address: '127.0.50.22' },
];

/** The port of every AGFA server's health page (see BackendProfile.healthPort). */
export const AGFA_HEALTH_PORT = 8099;
/** The VIP addresses: CoreServer VIPs 1-19, WebServer VIPs 20-21. */
export const AGFA_VIP_ADDRESSES = { core: '127.0.50.100', web: '127.0.50.101' } as const;

const http: HealthCheckPlan = { type: 'http', port: null, path: '/health', expectStatus: 200 };
const https: HealthCheckPlan = { type: 'https', port: null, path: '/health', expectStatus: 200 };
const connect: HealthCheckPlan = { type: 'connect', port: null };
// A TCP service checked with HTTP (GET): the host's health page reports that service's state.
const page = (port: number): HealthCheckPlan => ({ type: 'http', port: AGFA_HEALTH_PORT, path: `/health/${port}`, expectStatus: 200 });

type Row = [ref: number, label: string, l7: 'HTTP' | 'TCP', port: number, persistence: 'HTTP Cookie' | 'Source IP' | 'None', check: 'HTTP (GET)' | 'HTTPS (GET)' | 'Connect to Port' | ''];

// The guide's table, row for row.
const TABLE: Row[] = [
  [1, 'CoreServerClient-80', 'HTTP', 80, 'HTTP Cookie', 'HTTP (GET)'],
  [2, 'CoreServerDICOM-104', 'TCP', 104, 'None', 'HTTP (GET)'],
  [3, 'CoreServerDICOM-110', 'TCP', 110, 'None', 'HTTP (GET)'],
  [4, 'CoreServer-443', 'HTTP', 81, 'HTTP Cookie', 'HTTPS (GET)'],
  [5, 'CoreServerHL7-2310', 'TCP', 2310, 'None', 'Connect to Port'],
  [6, 'CoreServerHL7-2311', 'TCP', 2311, 'None', 'Connect to Port'],
  [7, 'CoreServerDICOM-2762', 'TCP', 2762, 'None', 'HTTP (GET)'],
  [8, 'CoreServerClient-4447', 'TCP', 4447, 'None', 'HTTP (GET)'],
  [9, 'CoreServerClient-5222', 'TCP', 5222, 'None', 'Connect to Port'],
  [10, 'CoreServerClient-5223', 'TCP', 5223, 'None', 'Connect to Port'],
  [11, 'CoreServerClient-7443', 'TCP', 7443, 'None', 'Connect to Port'],
  [12, 'CoreServerARR-6514', 'TCP', 6514, 'None', 'Connect to Port'],
  [13, 'CoreServerClient-8080', 'HTTP', 8080, 'HTTP Cookie', 'HTTP (GET)'],
  [14, 'CoreServerClient-8443', 'HTTP', 8443, 'Source IP', 'HTTPS (GET)'],
  [15, 'CoreServerClient-9080', 'HTTP', 9080, 'Source IP', ''],
  [16, 'CoreServerClient-9081', 'HTTP', 9081, 'Source IP', 'HTTP (GET)'],
  [17, 'CoreServerClient-10080', 'HTTP', 10080, 'Source IP', 'HTTP (GET)'],
  [18, 'CoreServerClient-10123', 'TCP', 10123, 'Source IP', 'Connect to Port'],
  [19, 'CoreServerClient-10124', 'TCP', 10124, 'Source IP', 'Connect to Port'],
  [20, 'WebServer-withXero', 'TCP', 443, 'None', 'HTTPS (GET)'],
  [21, 'WebServer-withoutXero', 'HTTP', 80, 'HTTP Cookie', 'HTTPS (GET)'],
];

/** The backend side of each row: what the servers run, on which port, and how the VIP checks it. */
interface Backend {
  kind: BackendKind;
  /** The real servers' port (the VIP's port unless said). */
  port?: number;
  check: HealthCheckPlan;
  note?: string;
}

const BACKENDS: Record<number, Backend> = {
  1: { kind: 'http', check: http },
  2: { kind: 'dicom', check: page(104) },
  3: { kind: 'dicom', check: page(110) },
  4: {
    kind: 'https',
    port: 443,
    check: https,
    note: 'Named -443 but listed on port 81: the VIP listens on 81 as the table says and forwards to the core servers\' HTTPS service on 443 as the name says, re-encrypting; the HTTPS (GET) check needs that TLS service.',
  },
  5: { kind: 'hl7', check: connect },
  6: { kind: 'hl7', check: connect },
  7: { kind: 'dicom', check: page(2762), note: '2762 is the DICOM-over-TLS port; the stand-in speaks plain DICOM there (the VIP is TCP mode and passes bytes through either way).' },
  8: { kind: 'tcp', check: page(4447) },
  9: { kind: 'tcp', check: connect },
  10: { kind: 'tcp', check: connect },
  11: { kind: 'tcp', check: connect },
  12: { kind: 'tcp', check: connect },
  13: { kind: 'http', check: http },
  14: { kind: 'https', check: https, note: 'The HTTPS (GET) check means the servers speak TLS on 8443, so the real servers re-encrypt.' },
  15: { kind: 'http', check: connect, note: 'The guide gives no health check: the appliance\'s default (connect to port) is kept, so a stopped server is still taken out of the pool.' },
  16: { kind: 'http', check: http },
  17: { kind: 'http', check: http },
  18: { kind: 'tcp', check: connect },
  19: { kind: 'tcp', check: connect },
  20: { kind: 'https', check: https, note: 'TCP mode on 443: TLS passes through to the web servers\' HTTPS service; own VIP address 127.0.50.101 beside the core VIPs.' },
  21: {
    kind: 'http',
    check: { type: 'https', port: 443, path: '/health/80', expectStatus: 200 },
    note: 'HTTP on 80 with an HTTPS (GET) check: the check goes to the web servers\' HTTPS port 443 and asks for /health/80, which reports the port-80 service, so stopping it fails the check; own VIP address 127.0.50.101.',
  },
};

function vipOf([ref, label, l7, port, persistence, check]: Row): VipPlan {
  const b = BACKENDS[ref]!;
  const hosts = label.startsWith('WebServer') ? web : core;
  const rsPort = b.port ?? port;
  return {
    ref: `VIP ${ref}`,
    label,
    ipAddress: hosts === web ? AGFA_VIP_ADDRESSES.web : AGFA_VIP_ADDRESSES.core,
    ports: [port],
    protocol: l7 === 'HTTP' ? 'http' : 'tcp',
    persistence: persistence === 'HTTP Cookie' ? 'http-cookie' : persistence === 'Source IP' ? 'source-ip' : 'none',
    healthCheck: b.check,
    // TCP mode passes TLS through; only HTTP mode in front of an HTTPS service re-encrypts.
    realServers: hosts.map((h) => ({ label: h.id, host: h.id, address: h.address, port: rsPort, kind: b.kind, reEncrypt: l7 === 'HTTP' && b.kind === 'https', backup: false })),
    guide: { mode: `Layer 7 Reverse Proxy (${l7})`, ports: String(port), persistence, healthCheck: check },
    ...(b.note ? { note: b.note } : {}),
  };
}

/** AGFA's 21 VIPs, the two core servers and the two web servers behind them. */
export const agfa: BackendProfile = {
  example: 'agfa',
  title: 'AGFA HealthCare Enterprise Imaging',
  guide: ['002_13781dc209246142.txt', '004_7065b3a9d18d0e3b.txt'],
  hosts: [...core, ...web],
  vips: TABLE.map(vipOf),
  healthPort: AGFA_HEALTH_PORT,
};
