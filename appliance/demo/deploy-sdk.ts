// The demo's deployment of TeraRecon's three VIPs through the typed SDK, as a user's script
// would write it. Kept apart so the examples can swap it for their Terraform deployment.
import type { ApplianceClient } from '../../openapi/sdk/index.js';

/** Ports of the demo (the guide's, or high ones when this user cannot bind below 1024). */
export interface DemoPorts {
  redirect: number;
  avs: number;
  aqi: number;
  /** The servers' HTTPS port. */
  serverHttps: number;
  serverAqi: number;
}

/** Addresses of the demo, after the guide's 10.10.40.x. */
export const DEMO_VIP = '127.0.40.217';
/** The two demo servers. */
export const DEMO_SERVERS = [
  { label: 'SERVER1', address: '127.0.40.6' },
  { label: 'SERVER2', address: '127.0.40.7' },
] as const;

/** Creates the certificate, the three VIPs and their real servers. */
export async function deployTeraRecon(client: ApplianceClient, ports: DemoPorts): Promise<void> {
  const cert = await client.createCertificate({ label: 'avs-demo', selfSigned: { commonName: 'intuition.demo.test', subjectAltNames: ['intuition.demo.test', DEMO_VIP] } });
  await client.createVirtualService({ label: 'AVS-Redirect', ipAddress: DEMO_VIP, ports: [ports.redirect], protocol: 'http', forceHttps: true, redirectCode: 301 });
  const avs = await client.createVirtualService({
    label: 'AVS',
    ipAddress: DEMO_VIP,
    ports: [ports.avs],
    protocol: 'http2',
    certificateId: cert.id,
    persistence: { mode: 'http-cookie' },
    healthCheck: { type: 'connect', interval: 2 },
  });
  const aqi = await client.createVirtualService({
    label: 'AVS-AQI',
    ipAddress: DEMO_VIP,
    ports: [ports.aqi],
    protocol: 'tcp',
    persistence: { mode: 'source-ip' },
    healthCheck: { type: 'connect', interval: 2 },
    timeouts: { client: 92, server: 93 },
  });
  for (const s of DEMO_SERVERS) {
    await client.createRealServer(avs.id, { label: s.label, address: s.address, port: ports.serverHttps, reEncrypt: true });
    await client.createRealServer(aqi.id, { label: s.label, address: s.address, port: ports.serverAqi });
  }
}
