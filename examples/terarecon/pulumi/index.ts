// TeraRecon Aquarius iNtuition as a Pulumi program: the package's teraRecon profile (the
// guide's three VIPs) deployed with ImagingVirtualServices, the certificate AVS presents,
// the HA pair the guide recommends when the stack names a secondary, and the directory logins
// of the guide's section 8.3 when the stack names a directory.
import { readFileSync } from 'node:fs';
import * as pulumi from '@pulumi/pulumi';
import * as lb from 'lbappliance/pulumi';

const config = new pulumi.Config();

// Appendix 13.1: the HA pair when the stack names a secondary. The certificate and the VIPs
// depend on it: the pair forms first and every VIP reaches both nodes as it is created;
// `pulumi destroy` deletes them on both nodes and breaks the pair last.
const secondaryEndpoint = config.get('secondaryEndpoint');
const pair = secondaryEndpoint ? [new lb.HAPair('pair', { peerEndpoint: secondaryEndpoint, peerPassword: config.requireSecret('secondaryPassword') })] : [];

// 9.1: the certificate, with its key kept a secret from the program to the appliance.
const intuition = new lb.Certificate('intuition-cert', {
  label: config.get('certificateLabel') ?? 'intuition-cert',
  certificatePem: readFileSync(config.require('certificateFile'), 'utf8'),
  privateKeyPem: pulumi.secret(readFileSync(config.require('privateKeyFile'), 'utf8')),
  privateKeyVersion: 1, // change it to send the key again with an unchanged certificate
}, { dependsOn: pair });

// VIP 1 AVS-Redirect (80, 301 to https), VIP 2 AVS (443, HTTP/2, cookie, re-encrypting to
// the servers' HTTPS on 443), VIP 3 AVS-AQI (1200, TCP, source IP, 92 s / 93 s).
const terarecon = new lb.ImagingVirtualServices('terarecon', {
  profile: lb.teraRecon,
  address: config.require('vipAddress'),
  certificateId: intuition.id,
  servers: config.requireObject<lb.ImagingServer[]>('servers'),
}, { dependsOn: pair });

// 8.3: directory logins (LDAPS, or LDAP with StartTLS), groups mapped to roles; the
// `loadbalancer` account stays the break-glass login. The bind password is a secret.
interface DirectoryConfig {
  url: string;
  startTls?: boolean;
  caFile: string;
  bindDn: string;
  userBaseDn: string;
  userFilter?: string;
  roleGroups: Record<string, string>;
}
const directory = config.getObject<DirectoryConfig>('directory');
if (directory) {
  new lb.Directory('ad', {
    url: directory.url,
    startTls: directory.startTls ?? false,
    caPem: readFileSync(directory.caFile, 'utf8'),
    bindDn: directory.bindDn,
    bindPassword: config.requireSecret('directoryBindPassword'),
    userBaseDn: directory.userBaseDn,
    userFilter: directory.userFilter ?? '(sAMAccountName={username})',
    groupSearch: 'memberOf',
    // Sorted by role, as the Terraform for-expression over the map gives them.
    roleMappings: Object.entries(directory.roleGroups)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([role, group]) => ({ group, role: role as lb.enums.DirectoryRoleMappingsItemRole })),
  });
}

/** The VIPs' ids, by the guide's names. */
export const virtualServiceIds = Object.fromEntries(lb.teraRecon.virtualServices.map((row) => [row.label, terarecon.virtualServices[row.key]!.id]));
/** SHA-256 fingerprint of the certificate AVS presents. */
export const certificateFingerprint = intuition.fingerprintSha256;

// SNMP (the guide's "SNMP Configuration", UDP 161; see ../terraform/snmp.tf): when the stack
// sets snmpListenAddress, the community `noc` and the v3 user `nocv3` (SHA, AES) read the
// VIPs and servers (LBAPPLIANCE-MIB); snmpTrapAddress, when set, receives v3 informs. The
// secrets are stack secrets (`pulumi config set --secret snmpCommunity ...`).
const snmpListenAddress = config.get('snmpListenAddress');
const snmpTrapAddress = config.get('snmpTrapAddress');
export const snmpSettings = snmpListenAddress
  ? new lb.Snmp('noc', {
      enabled: true,
      listenAddress: snmpListenAddress,
      port: 161,
      contact: config.get('snmpContact') ?? '',
      location: config.get('snmpLocation') ?? '',
      communities: ['noc'],
      communityStrings: { noc: config.requireSecret('snmpCommunity') },
      users: [{ name: 'nocv3', authProtocol: 'sha', privProtocol: 'aes' }],
      userAuthPasswords: { nocv3: config.requireSecret('snmpAuthPassword') },
      userPrivPasswords: { nocv3: config.requireSecret('snmpPrivPassword') },
      trapDestinations: snmpTrapAddress ? [{ name: 'nms', address: snmpTrapAddress, port: 162, version: 'v3', user: 'nocv3' }] : [],
    }, { dependsOn: pair }).id
  : undefined;
