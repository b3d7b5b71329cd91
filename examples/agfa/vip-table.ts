// The AGFA guide's VIP table (shared/seeds 002), row for row, in the API's terms: the one
// table the CDKTF stack and the SDK script both deploy. ../terraform/main.tf holds the same
// rows in HCL, and the package's agfaEnterpriseImaging profile (Pulumi) the same again; the
// tests check that all four deploy the same configuration.

/** The port of each server's health page: GET /health/<port> follows the service on <port>. */
export const HEALTH_PAGE_PORT = 8099;

/** One VIP of the guide. */
export interface AgfaVip {
  /** The guide's reference (VIP 1 ... VIP 21). */
  ref: number;
  /** The guide's name, the VIP's label. */
  label: string;
  port: number;
  /** The guide's layer 7 mode: HTTP or TCP. */
  protocol: 'http' | 'tcp';
  persistence: 'none' | 'http-cookie' | 'source-ip';
  /** The check; port and path only where they are not the server's own port and `/`. */
  healthCheck: { type: 'connect' | 'http' | 'https'; port?: number; path?: string };
  /** The servers' port when it is not the VIP's. */
  serverPort?: number;
  /** The servers speak TLS on their port. */
  reEncrypt?: boolean;
  /** A WebServer VIP: the web servers, on the web VIP address. */
  web?: boolean;
}

const http = { type: 'http' } as const;
const https = { type: 'https' } as const;
const connect = { type: 'connect' } as const;
// A DICOM or plain TCP service cannot answer HTTP (GET): ask its server's health page.
const page = (port: number) => ({ type: 'http', port: HEALTH_PAGE_PORT, path: `/health/${port}` }) as const;

/** The 21 VIPs. */
export const AGFA_VIPS: readonly AgfaVip[] = [
  { ref: 1, label: 'CoreServerClient-80', port: 80, protocol: 'http', persistence: 'http-cookie', healthCheck: http },
  { ref: 2, label: 'CoreServerDICOM-104', port: 104, protocol: 'tcp', persistence: 'none', healthCheck: page(104) },
  { ref: 3, label: 'CoreServerDICOM-110', port: 110, protocol: 'tcp', persistence: 'none', healthCheck: page(110) },
  // Named -443 but listed on 81: listen on 81, re-encrypt to the servers' HTTPS on 443.
  { ref: 4, label: 'CoreServer-443', port: 81, protocol: 'http', persistence: 'http-cookie', healthCheck: https, serverPort: 443, reEncrypt: true },
  { ref: 5, label: 'CoreServerHL7-2310', port: 2310, protocol: 'tcp', persistence: 'none', healthCheck: connect },
  { ref: 6, label: 'CoreServerHL7-2311', port: 2311, protocol: 'tcp', persistence: 'none', healthCheck: connect },
  { ref: 7, label: 'CoreServerDICOM-2762', port: 2762, protocol: 'tcp', persistence: 'none', healthCheck: page(2762) },
  { ref: 8, label: 'CoreServerClient-4447', port: 4447, protocol: 'tcp', persistence: 'none', healthCheck: page(4447) },
  { ref: 9, label: 'CoreServerClient-5222', port: 5222, protocol: 'tcp', persistence: 'none', healthCheck: connect },
  { ref: 10, label: 'CoreServerClient-5223', port: 5223, protocol: 'tcp', persistence: 'none', healthCheck: connect },
  { ref: 11, label: 'CoreServerClient-7443', port: 7443, protocol: 'tcp', persistence: 'none', healthCheck: connect },
  { ref: 12, label: 'CoreServerARR-6514', port: 6514, protocol: 'tcp', persistence: 'none', healthCheck: connect },
  { ref: 13, label: 'CoreServerClient-8080', port: 8080, protocol: 'http', persistence: 'http-cookie', healthCheck: http },
  // An HTTPS (GET) check of an HTTP VIP: the servers speak TLS on 8443.
  { ref: 14, label: 'CoreServerClient-8443', port: 8443, protocol: 'http', persistence: 'source-ip', healthCheck: https, reEncrypt: true },
  // No check in the guide: the default connect check still takes a stopped server out.
  { ref: 15, label: 'CoreServerClient-9080', port: 9080, protocol: 'http', persistence: 'source-ip', healthCheck: connect },
  { ref: 16, label: 'CoreServerClient-9081', port: 9081, protocol: 'http', persistence: 'source-ip', healthCheck: http },
  { ref: 17, label: 'CoreServerClient-10080', port: 10080, protocol: 'http', persistence: 'source-ip', healthCheck: http },
  { ref: 18, label: 'CoreServerClient-10123', port: 10123, protocol: 'tcp', persistence: 'source-ip', healthCheck: connect },
  { ref: 19, label: 'CoreServerClient-10124', port: 10124, protocol: 'tcp', persistence: 'source-ip', healthCheck: connect },
  // TCP on 443 again, on the web address: TLS passes through to the web servers.
  { ref: 20, label: 'WebServer-withXero', port: 443, protocol: 'tcp', persistence: 'none', healthCheck: https, web: true },
  // HTTP on 80 again, checked with HTTPS (GET): the web servers' 443 reports port 80.
  { ref: 21, label: 'WebServer-withoutXero', port: 80, protocol: 'http', persistence: 'http-cookie', healthCheck: { type: 'https', port: 443, path: '/health/80' }, web: true },
];
