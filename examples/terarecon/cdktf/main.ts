// TeraRecon Aquarius iNtuition as a CDKTF stack on the lbappliance bindings: the same
// resources and the same variables as ../terraform, so one terraform.tfvars serves both.
//
//   node dist/examples/terarecon/cdktf/main.js            # writes cdktf.out/stacks/terarecon
//   cd cdktf.out/stacks/terarecon && terraform init && terraform apply -var-file=...
import { App, Fn, Op, TerraformIterator, TerraformOutput, TerraformStack, TerraformVariable, Token } from 'cdktf';
import type { Construct } from 'constructs';
import { certificate, directory, haPair, provider, realServer, snmp, virtualService } from 'lbappliance/cdktf';
import { pathToFileURL } from 'node:url';

/** The guide's three VIPs, their servers, the certificate, the optional HA pair and directory logins. */
export class TeraReconStack extends TerraformStack {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    // The appliance and its credentials come from LBAPPLIANCE_* in the environment.
    new provider.LbapplianceProvider(this, 'lbappliance', {});

    const vipAddress = new TerraformVariable(this, 'vip_address', { type: 'string', description: "The address of the three VIPs (the guide's 10.10.40.217)." });
    const servers = new TerraformVariable(this, 'servers', {
      type: 'list(object({ label = string, address = string }))',
      description: 'The iNtuition servers, each behind AVS (HTTPS, 443) and AVS-AQI (TCP, 1200).',
    });
    const certificateLabel = new TerraformVariable(this, 'certificate_label', { type: 'string', default: 'intuition-cert', description: 'The label of the certificate AVS terminates TLS with.' });
    const certificateFile = new TerraformVariable(this, 'certificate_file', { type: 'string', description: 'PEM file with the certificate and its chain, leaf first.' });
    const privateKeyFile = new TerraformVariable(this, 'private_key_file', { type: 'string', description: "PEM file with the certificate's private key (never stored in the state)." });
    const secondaryEndpoint = new TerraformVariable(this, 'secondary_endpoint', { type: 'string', default: Token.nullValue(), description: 'API endpoint of the secondary appliance of the HA pair; null leaves the appliance on its own.' });
    const secondaryPassword = new TerraformVariable(this, 'secondary_password', { type: 'string', default: Token.nullValue(), sensitive: true, description: "The secondary's loadbalancer password, used once to pair." });

    // Appendix 13.1: the HA pair when a secondary is named. The certificate and the VIPs
    // depend on it: the pair forms first and every VIP reaches both nodes as it is created;
    // destroy deletes them on both nodes and breaks the pair last (see ../terraform/ha-pair.tf).
    const pair = new haPair.HaPair(this, 'pair', {
      count: Token.asNumber(Fn.conditional(Op.eq(secondaryEndpoint.value, Token.nullValue()), 0, 1)),
      peerEndpoint: secondaryEndpoint.stringValue,
      peerPassword: secondaryPassword.stringValue,
    });

    // 9.1: the certificate AVS presents; the key is write-only and never reaches the state.
    const intuition = new certificate.Certificate(this, 'intuition', {
      label: certificateLabel.stringValue,
      certificatePem: Fn.file(certificateFile.stringValue),
      privateKeyPem: Fn.file(privateKeyFile.stringValue),
      privateKeyVersion: 1,
      dependsOn: [pair],
    });

    // VIP 1, AVS-Redirect: a 301 to the same URL on https, so no servers and no check.
    new virtualService.VirtualService(this, 'avs_redirect', {
      label: 'AVS-Redirect',
      ipAddress: vipAddress.stringValue,
      ports: [80],
      protocol: 'http',
      forceHttps: true,
      redirectCode: 301,
      healthCheck: { type: 'none' },
      dependsOn: [pair],
    });

    // VIP 2, AVS: HTTP/2 terminated here with a cookie per client; the servers serve HTTPS
    // on 443 themselves, so the appliance re-encrypts.
    const avs = new virtualService.VirtualService(this, 'avs', {
      label: 'AVS',
      ipAddress: vipAddress.stringValue,
      ports: [443],
      protocol: 'http2',
      certificateId: intuition.id,
      persistence: { mode: 'http-cookie' },
      healthCheck: { type: 'connect' },
      dependsOn: [pair],
    });
    const avsServers = TerraformIterator.fromComplexList(servers.value, 'label');
    new realServer.RealServer(this, 'avs_servers', {
      forEach: avsServers,
      virtualServiceId: avs.id,
      label: avsServers.getString('label'),
      address: avsServers.getString('address'),
      port: 443,
      reEncrypt: true,
    });

    // VIP 3, AVS-AQI: TCP kept on one server per client address, with the guide's idle
    // limits of 92 s (client side) and 93 s (server side).
    const avsAqi = new virtualService.VirtualService(this, 'avs_aqi', {
      label: 'AVS-AQI',
      ipAddress: vipAddress.stringValue,
      ports: [1200],
      protocol: 'tcp',
      persistence: { mode: 'source-ip' },
      healthCheck: { type: 'connect' },
      timeouts: { client: 92, server: 93 },
      dependsOn: [pair],
    });
    const aqiServers = TerraformIterator.fromComplexList(servers.value, 'label');
    new realServer.RealServer(this, 'avs_aqi_servers', {
      forEach: aqiServers,
      virtualServiceId: avsAqi.id,
      label: aqiServers.getString('label'),
      address: aqiServers.getString('address'),
      port: 1200,
    });

    // SNMP (the guide's "SNMP Configuration", UDP 161): see ../terraform/snmp.tf.
    const snmpEnabled = new TerraformVariable(this, 'snmp_enabled', { type: 'bool', default: false, description: 'Whether the appliance answers SNMP; the secrets below are then required.' });
    const snmpListenAddress = new TerraformVariable(this, 'snmp_listen_address', { type: 'string', default: '0.0.0.0', description: 'The address the SNMP agent listens on (UDP 161).' });
    const snmpContact = new TerraformVariable(this, 'snmp_contact', { type: 'string', default: '', description: 'sysContact: who looks after the appliance.' });
    const snmpLocation = new TerraformVariable(this, 'snmp_location', { type: 'string', default: '', description: 'sysLocation: where the appliance is.' });
    const snmpSecret = (name: string, description: string) => new TerraformVariable(this, name, { type: 'string', default: Token.nullValue(), sensitive: true, description });
    const snmpCommunity = snmpSecret('snmp_community', 'The read-only SNMPv2c community `noc` (write-only: never in the state).');
    const snmpAuthPassword = snmpSecret('snmp_auth_password', "The SNMPv3 user nocv3's authentication (SHA) password (write-only).");
    const snmpPrivPassword = snmpSecret('snmp_priv_password', "The SNMPv3 user nocv3's privacy (AES) password (write-only).");
    const snmpTrapAddress = new TerraformVariable(this, 'snmp_trap_address', { type: 'string', default: Token.nullValue(), description: 'The NMS that receives v3 informs (UDP 162); null sends none.' });
    const snmpSecretsVersion = new TerraformVariable(this, 'snmp_secrets_version', { type: 'number', default: 1, description: 'Change it to send changed SNMP secrets (the state never holds them).' });
    new snmp.Snmp(this, 'noc', {
      count: Token.asNumber(Fn.conditional(snmpEnabled.booleanValue, 1, 0)),
      enabled: true,
      listenAddress: snmpListenAddress.stringValue,
      port: 161,
      contact: snmpContact.stringValue,
      location: snmpLocation.stringValue,
      communities: ['noc'],
      communityStrings: { noc: snmpCommunity.stringValue },
      users: [{ name: 'nocv3', authProtocol: 'sha', privProtocol: 'aes' }],
      userAuthPasswords: { nocv3: snmpAuthPassword.stringValue },
      userPrivPasswords: { nocv3: snmpPrivPassword.stringValue },
      trapDestinations: Token.asAny(Fn.conditional(Op.eq(snmpTrapAddress.value, Token.nullValue()), [], [{ name: 'nms', address: snmpTrapAddress.stringValue, port: 162, version: 'v3', user: 'nocv3' }])),
      secretsVersion: snmpSecretsVersion.numberValue,
      dependsOn: [pair],
    });

    // 8.3: directory logins (LDAPS, or LDAP with StartTLS) when a directory is named; the
    // groups map to roles; `loadbalancer` stays the break-glass login (see ../terraform/directory.tf).
    const v = (name: string, type: string, description: string, extra: { default?: unknown; sensitive?: boolean } = {}) =>
      new TerraformVariable(this, `directory_${name}`, { type, description, default: Token.nullValue(), ...extra });
    const url = v('url', 'string', 'The directory WebUI and API users log in with (ldaps://dc01.hospital.example:636); null: local users only.');
    const startTls = v('start_tls', 'bool', 'Whether an ldap:// directory_url is upgraded with StartTLS (ldaps:// needs none).', { default: false });
    const caFile = v('ca_file', 'string', "PEM file with the CA certificate that signed the directory's certificate.");
    const bindDn = v('bind_dn', 'string', 'The service account the appliance searches the directory with.');
    const bindPassword = v('bind_password', 'string', "The service account's password (write-only: never in the state).", { sensitive: true });
    const userBaseDn = v('user_base_dn', 'string', "Where the directory's users are searched.");
    const userFilter = v('user_filter', 'string', 'The filter that finds a user by login name (Active Directory: sAMAccountName).', { default: '(sAMAccountName={username})' });
    v('role_groups', 'map(string)', 'The directory group (DN) whose members get each role: admin, operator, read-only.', { default: {} });
    new directory.Directory(this, 'ad', {
      count: Token.asNumber(Fn.conditional(Op.eq(url.value, Token.nullValue()), 0, 1)),
      url: url.stringValue,
      startTls: startTls.booleanValue,
      caPem: Fn.file(caFile.stringValue),
      bindDn: bindDn.stringValue,
      bindPassword: bindPassword.stringValue,
      userBaseDn: userBaseDn.stringValue,
      userFilter: userFilter.stringValue,
      groupSearch: 'memberOf',
      // The same for-expression as ../terraform/directory.tf, as a raw expression.
      roleMappings: Token.asAny('${[for role, group in var.directory_role_groups : { group = group, role = role }]}'),
    });

    new TerraformOutput(this, 'certificate_fingerprint', { value: intuition.fingerprintSha256, description: 'SHA-256 fingerprint of the certificate AVS presents.' });
  }
}

// Run as a program (not imported): synthesise into ./cdktf.out, or $CDKTF_OUTDIR.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const app = new App();
  new TeraReconStack(app, 'terarecon');
  app.synth();
}
