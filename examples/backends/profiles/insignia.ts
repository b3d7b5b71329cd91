// Insignia Medical Systems / Intelerad InSight (seed 003): the DICOM VIP and the HL7 VIP,
// each in load-balanced mode (127.0.60.100) and in failover mode (127.0.60.101, SERVER2 a
// backup), in front of the same two servers 127.0.60.11 / 127.0.60.12. The VIP settings are
// the package's insignia vendor profile in each mode; this plan places them.
import { insignia as table } from '../../../provider/pulumi/sdk/profiles/insignia.js';
import { vipFromVendorRow } from './from-vendor.js';
import type { BackendProfile, HostPlan, VipPlan } from './types.js';

const hosts: HostPlan[] = [
  { id: 'SERVER1', name: 'insignia-server1', address: '127.0.60.11', aeTitle: 'INSIGNIA1' },
  { id: 'SERVER2', name: 'insignia-server2', address: '127.0.60.12', aeTitle: 'INSIGNIA2' },
];

/** The ports the guide leaves open: DICOM 104, HL7 over MLLP 2575. */
export const INSIGNIA_PORTS = { dicom: 104, hl7: 2575 } as const;

/** The VIP address of each mode. */
export const INSIGNIA_VIP_ADDRESSES = { 'load-balanced': '127.0.60.100', failover: '127.0.60.101' } as const;

function vips(mode: 'load-balanced' | 'failover'): VipPlan[] {
  const ipAddress = INSIGNIA_VIP_ADDRESSES[mode];
  const failover = mode === 'failover';
  return table({ mode, dicomPort: INSIGNIA_PORTS.dicom, hl7Port: INSIGNIA_PORTS.hl7 }).virtualServices.map((row) =>
    row.key === 'dicom'
      ? vipFromVendorRow(row, { ref: `DICOM (${mode})`, ipAddress, hosts, kind: 'dicom', failover, mode, guide: { mode: 'Layer 4 DR', ports: '(not given)', persistence: '(not given)', healthCheck: '(not given)' } })
      : vipFromVendorRow(row, { ref: `HL7 (${mode})`, ipAddress, hosts, kind: 'hl7', failover, mode, guide: { mode: 'Layer 7 Reverse Proxy', ports: '(not given)', persistence: '(not given)', healthCheck: '(not given)' } }),
  );
}

/** Insignia's DICOM and HL7 VIPs in load-balanced mode (127.0.60.100) and failover mode (127.0.60.101). */
export const insignia: BackendProfile = {
  example: 'insignia',
  title: 'Insignia Medical Systems (Intelerad InSight PACS)',
  guide: ['003_f69c0bd645cc2868.txt'],
  hosts,
  vips: [...vips('load-balanced'), ...vips('failover')],
};
