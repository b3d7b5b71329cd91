// The typed plan of an example's backends: which servers exist, which VIPs of the vendor's
// guide they stand behind, on which loopback address and port each real server listens and
// what it speaks. The examples derive their VIPs and real servers from these objects; the
// supervisor derives the services it starts from them (services.ts).
import type { BackendKind } from '../service.js';

/** The examples that have backends. */
export type ExampleName = 'terarecon' | 'agfa' | 'insignia';

/** One real server machine. */
export interface HostPlan {
  /** Its label in the guide's terms, used as the real server label (SERVER1, CORE1, ...). */
  id: string;
  /** The name it answers with: in HTTP answers, HL7 ACKs (MSH-3), TCP banners, certificates. */
  name: string;
  /** Its loopback address here. */
  address: string;
  /** The address the guide gives it, where the guide gives one. */
  guideAddress?: string;
  /** Its DICOM AE title, when it runs DICOM services. */
  aeTitle?: string;
}

/** A health check, in the appliance contract's terms (openapi/appliance.yaml HealthCheck). */
export interface HealthCheckPlan {
  type: 'none' | 'connect' | 'http' | 'https' | 'dicom' | 'hl7';
  /** The port checked; null checks each real server's own port. */
  port: number | null;
  /** Request path of http/https checks. */
  path?: string;
  /** Status a healthy server answers http/https checks with. */
  expectStatus?: number;
}

/** One real server of a VIP: where the appliance forwards to, and what listens there. */
export interface RealServerPlan {
  /** The real server's label (the host's id). */
  label: string;
  /** The host id. */
  host: string;
  address: string;
  port: number;
  /** What listens on address:port. */
  kind: BackendKind;
  /** The appliance must speak TLS to it (the backend serves HTTPS there). */
  reEncrypt: boolean;
  /** Failover mode: used only when every non-backup server is down. */
  backup: boolean;
}

/** The guide's table row, verbatim, for READMEs and traceability. */
export interface GuideRow {
  mode: string;
  ports: string;
  persistence: string;
  healthCheck: string;
}

/** One VIP of the guide and the backends behind it. */
export interface VipPlan {
  /** The guide's reference, e.g. "VIP 3" (Insignia: "DICOM (load-balanced)"). */
  ref: string;
  /** The guide's VIP name, used as the VirtualService label. */
  label: string;
  /** The VIP's loopback address here. */
  ipAddress: string;
  ports: number[];
  /** The contract's protocol for the guide's "Layer 7 Protocol". */
  protocol: 'http' | 'http2' | 'tcp';
  persistence: 'none' | 'http-cookie' | 'source-ip';
  healthCheck: HealthCheckPlan;
  realServers: RealServerPlan[];
  guide: GuideRow;
  /** The VIP terminates TLS with the example's certificate. */
  terminatesTls?: boolean;
  /** Redirect every request to HTTPS with this code (TeraRecon AVS-Redirect). */
  forceHttps?: 301 | 302 | 307 | 308;
  /** Client and server timeouts in seconds (TeraRecon AVS-AQI: 92 / 93). */
  timeouts?: { client?: number; server?: number };
  /** Insignia: the mode this VIP demonstrates. */
  mode?: 'load-balanced' | 'failover';
  /** Where the guide is ambiguous: the choice made, in one sentence. */
  note?: string;
}

/** Everything about one example's backends. */
export interface BackendProfile {
  example: ExampleName;
  /** Human title, e.g. "TeraRecon Aquarius iNtuition". */
  title: string;
  /** The seed files (in shared/seeds/) the plan follows. */
  guide: string[];
  hosts: HostPlan[];
  vips: VipPlan[];
  /**
   * The port of each host's dedicated health page, where TCP services are checked with an
   * HTTP GET (AGFA VIPs 2, 3, 7, 8): GET /health/<service port> answers 200 while that
   * service runs and 503 when it is stopped. Undefined when no check needs one.
   */
  healthPort?: number;
}

/** One service to run: what listens on one host's address and port. */
export interface ServicePlan {
  host: HostPlan;
  port: number;
  kind: BackendKind;
  /** The VIP refs this service answers for (as a real server or as a health check target). */
  serves: string[];
}
