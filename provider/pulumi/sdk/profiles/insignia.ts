// Insignia Medical Systems / Intelerad InSight (shared/seeds 003): a DICOM VIP and an HL7
// VIP, each load balanced over the servers or in failover mode (the second server a backup,
// used only while the first is down). The guide puts DICOM on layer 4 direct routing, which
// a user-space proxy cannot do: it is carried as a TCP VIP. The guide names no ports; the
// protocols' usual ones are the defaults.
import type { VendorProfile } from '../vendor-profile.js';

/** Options of the Insignia profile. */
export interface InsigniaOptions {
  /** `load-balanced` spreads connections; `failover` uses the second server only when the first is down. */
  mode?: 'load-balanced' | 'failover';
  /** DICOM port (default 104). */
  dicomPort?: number;
  /** HL7 (MLLP) port (default 2575). */
  hl7Port?: number;
}

/** The Insignia VIP table; in failover mode ImagingVirtualServices makes every server after the first a backup. */
export function insignia(options: InsigniaOptions = {}): VendorProfile & { failover: boolean } {
  return {
    name: 'Insignia InSight PACS',
    failover: options.mode === 'failover',
    virtualServices: [
      {
        key: 'dicom',
        label: 'Insignia-DICOM',
        ports: [options.dicomPort ?? 104],
        protocol: 'tcp',
        settings: { persistence: { mode: 'source-ip' }, healthCheck: { type: 'connect' } },
        note: 'Layer 4 DR in the guide; a TCP VIP here (the appliance proxies in user space).',
      },
      { key: 'hl7', label: 'Insignia-HL7', ports: [options.hl7Port ?? 2575], protocol: 'tcp', settings: { healthCheck: { type: 'connect' } } },
    ],
  };
}
