// Insignia Medical Systems / Intelerad InSight (shared/seeds 003): a DICOM VIP and an HL7
// VIP, each load balanced over the servers or in failover mode (the second server a backup,
// used only while the first is down). The guide puts DICOM on layer 4 direct routing, and so
// does this profile by default (`dicomForwarding`): the kernel forwards each association by
// rewriting the destination MAC, the servers (holding the VIP on a loopback, ARP problem
// solved) answer the modality directly and see its own address, on the VIP's own port (DR
// allows no port translation). `dicomForwarding: 'proxy'` carries DICOM as a layer 7 TCP VIP
// where layer 4 cannot work (the examples' loopback plan). HL7 is layer 7 as the guide says. The guide names no ports, persistence or checks: the
// protocols' usual ports, no persistence (each DICOM association and each MLLP connection is
// complete in itself), and checks that speak each protocol: a DICOM C-ECHO (`dicom`) and an
// HL7 message over MLLP whose ACK must accept it (`hl7`), so a PACS that rejects
// associations, or an HL7 interface that refuses messages, is taken out although its port is open.
import type { VendorProfile } from '../vendor-profile.js';

/** Options of the Insignia profile. */
export interface InsigniaOptions {
  /** `load-balanced` spreads connections; `failover` uses the second server only when the first is down. */
  mode?: 'load-balanced' | 'failover';
  /** DICOM port (default 104, the well-known DICOM port). */
  dicomPort?: number;
  /** HL7 (MLLP) port (default 2575, the IANA port for HL7 over MLLP). */
  hl7Port?: number;
  /** How the DICOM VIP forwards (default `direct-routing`, the guide's layer 4 DR; `proxy` where layer 4 cannot work). */
  dicomForwarding?: 'direct-routing' | 'nat' | 'snat' | 'proxy';
}

/** The Insignia VIP table, labelled with its mode (`Insignia-DICOM-LB`, `Insignia-HL7-Failover`); in failover mode ImagingVirtualServices makes every server after the first a backup. */
export function insignia(options: InsigniaOptions = {}): VendorProfile & { failover: boolean } {
  const failover = options.mode === 'failover';
  const forwarding = options.dicomForwarding ?? 'direct-routing';
  const suffix = failover ? 'Failover' : 'LB';
  return {
    name: 'Insignia InSight PACS',
    failover,
    virtualServices: [
      {
        key: 'dicom',
        label: `Insignia-DICOM-${suffix}`,
        ports: [options.dicomPort ?? 104],
        protocol: 'tcp',
        // A layer 4 VIP forwards packets and must say forwardedFor false; a proxy VIP keeps the default.
        settings: { forwarding, forwardedFor: forwarding === 'proxy', healthCheck: { type: 'dicom' } },
        note: 'Layer 4 direct routing as the guide says (unless dicomForwarding says otherwise): the servers hold the VIP on a loopback without answering ARP for it (`lbappliance realserver`), answer the modality directly and see its own address, on the VIP\'s own port (DR allows no port translation). The guide names no check: a DICOM C-ECHO (`dicom`), so a server that rejects associations is down although its port is open.',
      },
      {
        key: 'hl7',
        label: `Insignia-HL7-${suffix}`,
        ports: [options.hl7Port ?? 2575],
        protocol: 'tcp',
        settings: { healthCheck: { type: 'hl7' } },
        note: 'The guide names no check: an HL7 message over MLLP (`hl7`) whose ACK must accept it (AA or CA).',
      },
    ],
  };
}
