// Insignia Medical Systems / Intelerad InSight (seed 003): the DICOM VIP and the HL7 VIP,
// each in load-balanced mode (127.0.60.100) and in failover mode (127.0.60.101, SERVER2 a
// backup), in front of the same two servers 127.0.60.11 / 127.0.60.12. The guide gives no
// ports: DICOM uses 104 (the well-known DICOM port) and HL7 2575 (the IANA MLLP port).
import type { BackendProfile, HealthCheckPlan, HostPlan, RealServerPlan, VipPlan } from './types.js';

const hosts: HostPlan[] = [
  { id: 'SERVER1', name: 'insignia-server1', address: '127.0.60.11', aeTitle: 'INSIGNIA1' },
  { id: 'SERVER2', name: 'insignia-server2', address: '127.0.60.12', aeTitle: 'INSIGNIA2' },
];

/** The ports the guide leaves open: DICOM 104, HL7 over MLLP 2575. */
export const INSIGNIA_PORTS = { dicom: 104, hl7: 2575 } as const;

const connect: HealthCheckPlan = { type: 'connect', port: null };

function on(port: number, kind: RealServerPlan['kind'], failover: boolean): RealServerPlan[] {
  return hosts.map((h, i) => ({ label: h.id, host: h.id, address: h.address, port, kind, reEncrypt: false, backup: failover && i > 0 }));
}

function pair(mode: 'load-balanced' | 'failover', ipAddress: string): VipPlan[] {
  const failover = mode === 'failover';
  const suffix = failover ? 'Failover' : 'LB';
  return [
    {
      ref: `DICOM (${mode})`,
      label: `Insignia-DICOM-${suffix}`,
      ipAddress,
      ports: [INSIGNIA_PORTS.dicom],
      protocol: 'tcp',
      persistence: 'none',
      healthCheck: connect,
      realServers: on(INSIGNIA_PORTS.dicom, 'dicom', failover),
      mode,
      guide: { mode: 'Layer 4 DR', ports: '(not given)', persistence: '(not given)', healthCheck: '(not given)' },
      note: 'Layer 4 direct routing cannot be done by a user-space proxy: carried as a TCP VIP on the same port as the servers (DR allows no port translation either).',
    },
    {
      ref: `HL7 (${mode})`,
      label: `Insignia-HL7-${suffix}`,
      ipAddress,
      ports: [INSIGNIA_PORTS.hl7],
      protocol: 'tcp',
      persistence: 'none',
      healthCheck: connect,
      realServers: on(INSIGNIA_PORTS.hl7, 'hl7', failover),
      mode,
      guide: { mode: 'Layer 7 Reverse Proxy', ports: '(not given)', persistence: '(not given)', healthCheck: '(not given)' },
    },
  ];
}

/** Insignia's DICOM and HL7 VIPs in load-balanced mode (127.0.60.100) and failover mode (127.0.60.101). */
export const insignia: BackendProfile = {
  example: 'insignia',
  title: 'Insignia Medical Systems (Intelerad InSight PACS)',
  guide: ['003_f69c0bd645cc2868.txt'],
  hosts,
  vips: [...pair('load-balanced', '127.0.60.100'), ...pair('failover', '127.0.60.101')],
};
