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
      note: 'Only redirects to HTTPS (301), so the guide gives it no real servers and no health check.',
    },
    {
      key: 'avs',
      label: 'AVS',
      ports: [443],
      protocol: 'http2',
      tls: true,
      reEncrypt: true,
      settings: { persistence: { mode: 'http-cookie' }, healthCheck: { type: 'connect' } },
      note: 'The servers serve HTTPS on 443 (the guide asks for the certificate on the real servers), so the real servers re-encrypt although the guide\'s screenshot leaves "Re-Encrypt to Backend" unticked.',
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
