// TeraRecon Aquarius iNtuition (seeds 000 and 001): VIP 10.10.40.217 and servers
// 10.10.40.6 / 10.10.40.7 become 127.0.40.217 and 127.0.40.6 / 127.0.40.7.
import type { BackendProfile, HostPlan, RealServerPlan } from './types.js';

const hosts: HostPlan[] = [
  { id: 'SERVER1', name: 'terarecon-server1', address: '127.0.40.6', guideAddress: '10.10.40.6' },
  { id: 'SERVER2', name: 'terarecon-server2', address: '127.0.40.7', guideAddress: '10.10.40.7' },
];

function on(port: number, kind: RealServerPlan['kind'], reEncrypt = false): RealServerPlan[] {
  return hosts.map((h) => ({ label: h.id, host: h.id, address: h.address, port, kind, reEncrypt, backup: false }));
}

/** TeraRecon's three VIPs on 127.0.40.217 and the two iNtuition servers behind them. */
export const teraRecon: BackendProfile = {
  example: 'terarecon',
  title: 'TeraRecon Aquarius iNtuition',
  guide: ['000_aaa4aed9acaadf61.txt', '001_803a2bc0ff6dc647.txt'],
  hosts,
  vips: [
    {
      ref: 'VIP 1',
      label: 'AVS-Redirect',
      ipAddress: '127.0.40.217',
      ports: [80],
      protocol: 'http',
      persistence: 'none',
      healthCheck: { type: 'none', port: null },
      realServers: [],
      forceHttps: 301,
      guide: { mode: 'L7 SNAT (HTTP)', ports: '80', persistence: '-', healthCheck: '-' },
      note: 'Only redirects to HTTPS (301), so the guide gives it no real servers and no backend runs for it.',
    },
    {
      ref: 'VIP 2',
      label: 'AVS',
      ipAddress: '127.0.40.217',
      ports: [443],
      protocol: 'http2',
      persistence: 'http-cookie',
      healthCheck: { type: 'connect', port: null },
      realServers: on(443, 'https', true),
      terminatesTls: true,
      guide: { mode: 'L7 SNAT (HTTP/2)', ports: '443', persistence: 'HTTP Cookie', healthCheck: 'Connect to Port' },
      note: 'The servers serve HTTPS on 443 (the guide asks for the certificate on the real servers), so the real servers re-encrypt although the guide\'s screenshot leaves "Re-Encrypt to Backend" unticked.',
    },
    {
      ref: 'VIP 3',
      label: 'AVS-AQI',
      ipAddress: '127.0.40.217',
      ports: [1200],
      protocol: 'tcp',
      persistence: 'source-ip',
      healthCheck: { type: 'connect', port: null },
      realServers: on(1200, 'tcp'),
      timeouts: { client: 92, server: 93 },
      guide: { mode: 'L7 SNAT (TCP)', ports: '1200', persistence: 'Source IP', healthCheck: 'Connect to Port' },
    },
  ],
};
