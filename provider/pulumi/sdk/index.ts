// lbappliance/pulumi: the Pulumi SDK of the lbappliance package. The resource classes and
// their types are generated from the package schema (./generated); the component and the
// vendor profiles beside this file are written by hand on top of them.
export * from './generated/index.js';
export { ImagingVirtualServices, type ImagingServer, type ImagingVirtualServicesArgs } from './imaging-virtual-services.js';
export type { VendorProfile, VipProfile } from './vendor-profile.js';
export { teraRecon } from './profiles/terarecon.js';
export { agfaEnterpriseImaging, AGFA_HEALTH_PAGE_PORT } from './profiles/agfa.js';
export { insignia, type InsigniaOptions } from './profiles/insignia.js';
