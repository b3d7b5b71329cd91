// AGFA HealthCare Enterprise Imaging as a Pulumi program: the package's
// agfaEnterpriseImaging profile (the guide's 21 VIPs) deployed with ImagingVirtualServices,
// the core servers behind VIPs 1-19 and the web servers behind VIPs 20 and 21.
import * as pulumi from '@pulumi/pulumi';
import * as lb from 'lbappliance/pulumi';

const config = new pulumi.Config();
const webVipAddress = config.require('webVipAddress');

const agfa = new lb.ImagingVirtualServices('agfa', {
  profile: lb.agfaEnterpriseImaging,
  address: config.require('coreVipAddress'),
  // VIPs 20 and 21 reuse ports 443 and 80: they share an address of their own.
  addresses: { vip20: webVipAddress, vip21: webVipAddress },
  servers: config.requireObject<lb.ImagingServer[]>('coreServers'),
  serverGroups: { web: config.requireObject<lb.ImagingServer[]>('webServers') },
});

/** The VIPs' ids, by the guide's names. */
export const virtualServiceIds = Object.fromEntries(lb.agfaEnterpriseImaging.virtualServices.map((row) => [row.label, agfa.virtualServices[row.key]!.id]));
