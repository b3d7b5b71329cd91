// Insignia / Intelerad InSight as a Pulumi program: the package's insignia profile, once
// per mode. Load-balanced VIPs spread connections over every server; failover VIPs send
// everything to the first server and to the others only while it is down. DICOM is layer 4
// direct routing as the guide says, unless `dicomForwarding` says otherwise (the loopback
// plan, Pulumi.local.yaml, chooses proxy; see ../README.md).
import * as pulumi from '@pulumi/pulumi';
import * as lb from 'lbappliance/pulumi';

const config = new pulumi.Config();
const servers = config.requireObject<lb.ImagingServer[]>('servers');
const ports = { dicomPort: config.getNumber('dicomPort') ?? 104, hl7Port: config.getNumber('hl7Port') ?? 2575 };
const dicomForwarding = config.get('dicomForwarding', { allowedValues: ['direct-routing', 'nat', 'snat', 'proxy'] as const }) ?? 'direct-routing';

const loadBalanced = new lb.ImagingVirtualServices('insignia-lb', {
  profile: lb.insignia({ mode: 'load-balanced', ...ports, dicomForwarding }),
  address: config.require('loadBalancedVipAddress'),
  servers,
});

const failover = new lb.ImagingVirtualServices('insignia-failover', {
  profile: lb.insignia({ mode: 'failover', ...ports, dicomForwarding }),
  address: config.require('failoverVipAddress'),
  servers, // in this order: the first is the primary, the others its backups
});

/** The VIPs' ids, by mode and protocol. */
export const virtualServiceIds = {
  loadBalanced: { dicom: loadBalanced.virtualServices.dicom!.id, hl7: loadBalanced.virtualServices.hl7!.id },
  failover: { dicom: failover.virtualServices.dicom!.id, hl7: failover.virtualServices.hl7!.id },
};
