// A vendor profile: the VIP table of an imaging vendor's deployment guide as data, one row
// per virtual service, in the terms of the VirtualService resource. ImagingVirtualServices
// turns a profile, addresses and servers into resources. The examples' backend plans
// (examples/backends/profiles) take their VIP settings from these rows, so each vendor's
// table is written down once.
import type { VirtualServiceArgs } from './generated/index.js';

/** One row of a vendor's VIP table. */
export interface VipProfile {
  /** A stable key for the row (`avs`, `vip4`): names the resources and picks per-VIP addresses. */
  key: string;
  /** The VIP's label on the appliance (the guide's VIP name). */
  label: string;
  ports: number[];
  protocol: 'http' | 'http2' | 'tcp';
  /** Terminates TLS with the deployment's certificate (`certificateId` of the component). */
  tls?: boolean;
  /** Settings beyond address, ports and protocol, exactly as the VirtualService takes them. */
  settings?: Omit<VirtualServiceArgs, 'label' | 'ipAddress' | 'ports' | 'protocol' | 'certificateId'>;
  /** A redirect-only VIP (forceHttps) serves no real servers. */
  noServers?: boolean;
  /** The VIP's ports clash with another row's, so it needs an address of its own. */
  ownAddress?: boolean;
  /** The real servers' port when it is not the VIP's (port translation); default: the VIP's port. */
  serverPort?: number;
  /** The real servers serve TLS on their port, so the appliance re-encrypts to them. */
  reEncrypt?: boolean;
  /** The group of servers behind this row when it is not the deployment's main servers (AGFA's `web` servers). */
  serverGroup?: string;
  /** Where the guide is ambiguous, the choice this row makes and why. */
  note?: string;
}

/** A vendor's whole VIP table. */
export interface VendorProfile {
  /** The product, as the guide names it. */
  name: string;
  virtualServices: VipProfile[];
}
