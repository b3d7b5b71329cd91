// TeraRecon Aquarius iNtuition (shared/seeds 000 and 001, section 5.2 and chapter 9): three
// VIPs on one address. AVS-Redirect sends plain HTTP to AVS with a 301; AVS terminates TLS
// with HTTP/2 and sticks clients with a cookie; AVS-AQI is TCP with source-IP persistence
// and the 92 s / 93 s client / server timeouts the guide sets.
import type { VendorProfile } from '../vendor-profile.js';

/** The TeraRecon iNtuition VIP table. */
export const teraRecon: VendorProfile = {
  name: 'TeraRecon Aquarius iNtuition',
  virtualServices: [
    {
      key: 'avsRedirect',
      label: 'AVS-Redirect',
      ports: [80],
      protocol: 'http',
      settings: { forceHttps: true, redirectCode: 301, healthCheck: { type: 'none' } },
      noServers: true,
    },
    {
      key: 'avs',
      label: 'AVS',
      ports: [443],
      protocol: 'http2',
      tls: true,
      settings: { persistence: { mode: 'http-cookie' }, healthCheck: { type: 'connect' } },
    },
    {
      key: 'avsAqi',
      label: 'AVS-AQI',
      ports: [1200],
      protocol: 'tcp',
      settings: { persistence: { mode: 'source-ip' }, healthCheck: { type: 'connect' }, timeouts: { client: 92, server: 93 } },
    },
  ],
};
