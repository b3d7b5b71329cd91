// TeraRecon Aquarius iNtuition (seeds 000 and 001): VIP 10.10.40.217 and servers
// 10.10.40.6 / 10.10.40.7 become 127.0.40.217 and 127.0.40.6 / 127.0.40.7. The VIP settings
// are the package's teraRecon vendor profile; this plan places them and says what runs.
import { teraRecon as table } from '../../../provider/pulumi/sdk/profiles/terarecon.js';
import type { BackendKind } from '../service.js';
import { vipFromVendorRow } from './from-vendor.js';
import type { BackendProfile, GuideRow, HostPlan } from './types.js';

const hosts: HostPlan[] = [
  { id: 'SERVER1', name: 'terarecon-server1', address: '127.0.40.6', guideAddress: '10.10.40.6' },
  { id: 'SERVER2', name: 'terarecon-server2', address: '127.0.40.7', guideAddress: '10.10.40.7' },
];

/** The guide's VIP address here. */
const VIP = '127.0.40.217';

// Per row of the vendor table: the guide's reference and row, and what the servers run.
const PLACEMENT: Record<string, { ref: string; kind: BackendKind; guide: GuideRow }> = {
  avsRedirect: { ref: 'VIP 1', kind: 'http', guide: { mode: 'L7 SNAT (HTTP)', ports: '80', persistence: '-', healthCheck: '-' } },
  avs: { ref: 'VIP 2', kind: 'https', guide: { mode: 'L7 SNAT (HTTP/2)', ports: '443', persistence: 'HTTP Cookie', healthCheck: 'Connect to Port' } },
  avsAqi: { ref: 'VIP 3', kind: 'tcp', guide: { mode: 'L7 SNAT (TCP)', ports: '1200', persistence: 'Source IP', healthCheck: 'Connect to Port' } },
};

/** TeraRecon's three VIPs on 127.0.40.217 and the two iNtuition servers behind them. */
export const teraRecon: BackendProfile = {
  example: 'terarecon',
  title: 'TeraRecon Aquarius iNtuition',
  guide: ['000_aaa4aed9acaadf61.txt', '001_803a2bc0ff6dc647.txt'],
  hosts,
  vips: table.virtualServices.map((row) => vipFromVendorRow(row, { ...PLACEMENT[row.key]!, ipAddress: VIP, hosts })),
};
