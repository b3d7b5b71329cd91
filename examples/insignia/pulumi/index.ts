// Insignia / Intelerad InSight as a Pulumi program: the package's insignia profile, once
// per mode. Load-balanced VIPs spread connections over every server; failover VIPs send
// everything to the first server and to the others only while it is down. DICOM is a TCP
// VIP although the guide puts it on layer 4 direct routing (see ../README.md).
import * as pulumi from '@pulumi/pulumi';
import * as lb from 'lbappliance/pulumi';

const config = new pulumi.Config();
const servers = config.requireObject<lb.ImagingServer[]>('servers');
const ports = { dicomPort: config.getNumber('dicomPort') ?? 104, hl7Port: config.getNumber('hl7Port') ?? 2575 };

const loadBalanced = new lb.ImagingVirtualServices('insignia-lb', {
  profile: lb.insignia({ mode: 'load-balanced', ...ports }),
  address: config.require('loadBalancedVipAddress'),
  servers,
});

const failover = new lb.ImagingVirtualServices('insignia-failover', {
  profile: lb.insignia({ mode: 'failover', ...ports }),
  address: config.require('failoverVipAddress'),
  servers, // in this order: the first is the primary, the others its backups
});

/** The VIPs' ids, by mode and protocol. */
export const virtualServiceIds = {
  loadBalanced: { dicom: loadBalanced.virtualServices.dicom!.id, hl7: loadBalanced.virtualServices.hl7!.id },
  failover: { dicom: failover.virtualServices.dicom!.id, hl7: failover.virtualServices.hl7!.id },
};
