// TeraRecon Aquarius iNtuition through the SDK: the guide's three VIPs (AVS-Redirect, AVS,
// AVS-AQI), when a secondary is given, the HA pair the guide recommends, and when a directory
// is given, the directory logins of its section 8.3. Run it again at
// any time: it converges the appliance to this description (see ../converge/).
//
//   LBAPPLIANCE_ENDPOINT=https://10.10.40.2:9443 LBAPPLIANCE_PASSWORD=... \
//     node dist/examples/terarecon/sdk.js examples/terarecon/sdk.settings.json [--plan|--destroy]
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DirectoryInput, RealServerInput, SnmpSettingsInput } from '../converge/desired.js';
import { readCertificatePem, runDeployment, type Deployment } from '../converge/run.js';

/** An iNtuition server. */
export interface Server {
  label: string;
  address: string;
}

/** The settings of a TeraRecon deployment (the terraform variables, in camelCase). */
export interface TeraReconSettings {
  /** The address of the three VIPs (the guide's 10.10.40.217). */
  vipAddress: string;
  /** The iNtuition servers (the guide's SERVER1 10.10.40.6 and SERVER2 10.10.40.7). */
  servers: Server[];
  /** The label of the uploaded certificate (the guide's intuition-cert). */
  certificateLabel: string;
  /** The certificate, its chain and its private key, as PEM. */
  certificatePem: string;
  /** The secondary appliance of the HA pair; left out, the appliance stays on its own. */
  secondary?: { endpoint: string; password: string };
  /** SNMP (the guide's "SNMP Configuration", UDP 161; see terraform/snmp.tf); left out, SNMP is not touched. */
  snmp?: SnmpSettingsInput;
  /** 8.3: directory logins (LDAPS or StartTLS); left out, only local users log in. */
  directory?: DirectoryInput;
}

/** TeraRecon's deployment: its VIPs, their servers, the certificate, the pair. */
export const teraRecon: Deployment<TeraReconSettings> = {
  name: 'TeraRecon Aquarius iNtuition',
  desired(s) {
    const servers = (port: number, extra: Partial<RealServerInput> = {}): RealServerInput[] => s.servers.map(({ label, address }) => ({ label, address, port, ...extra }));
    return {
      certificates: [{ label: s.certificateLabel, pem: s.certificatePem }],
      virtualServices: [
        {
          // VIP 1: plain HTTP answered with a 301 to the same URL on https (VIP 2).
          spec: { label: 'AVS-Redirect', ipAddress: s.vipAddress, ports: [80], protocol: 'http', forceHttps: true, redirectCode: 301, healthCheck: { type: 'none' } },
          realServers: [],
        },
        {
          // VIP 2: HTTP/2 with TLS terminated here; the servers serve HTTPS themselves, so re-encrypt.
          spec: { label: 'AVS', ipAddress: s.vipAddress, ports: [443], protocol: 'http2', certificate: s.certificateLabel, persistence: { mode: 'http-cookie' }, healthCheck: { type: 'connect' } },
          realServers: servers(443, { reEncrypt: true }),
        },
        {
          // VIP 3: the AQI protocol as TCP, one client to one server, idle limits from the guide.
          spec: { label: 'AVS-AQI', ipAddress: s.vipAddress, ports: [1200], protocol: 'tcp', persistence: { mode: 'source-ip' }, healthCheck: { type: 'connect' }, timeouts: { client: 92, server: 93 } },
          realServers: servers(1200),
        },
      ],
      ...(s.secondary ? { haPair: { peerEndpoint: s.secondary.endpoint, peerPassword: s.secondary.password } } : {}),
      ...(s.snmp ? { snmp: s.snmp } : {}),
      ...(s.directory ? { directory: s.directory } : {}),
    };
  },
  // The three VIPs share one address, which is this deployment's alone.
  ownership: (s) => ({ addresses: [s.vipAddress] }),
};

/** The settings file as written (sdk.settings.example.json): files instead of PEM text, the secondary's password from LBAPPLIANCE_SECONDARY_PASSWORD. */
interface SettingsFile {
  vipAddress: string;
  servers: Server[];
  certificateLabel?: string;
  certificateFile: string;
  privateKeyFile: string;
  secondaryEndpoint?: string;
  /** SNMP, with its secrets from LBAPPLIANCE_SNMP_COMMUNITY, LBAPPLIANCE_SNMP_AUTH_PASSWORD and LBAPPLIANCE_SNMP_PRIV_PASSWORD. */
  snmp?: { listenAddress: string; contact?: string; location?: string; trapAddress?: string };
  /** Directory logins (the bind password from LBAPPLIANCE_DIRECTORY_BIND_PASSWORD, the CA from a file). */
  directory?: {
    url: string;
    startTls?: boolean;
    caFile: string;
    bindDn: string;
    userBaseDn: string;
    userFilter?: string;
    /** The directory group (DN) whose members get each role. */
    roleGroups: Partial<Record<'admin' | 'operator' | 'read-only', string>>;
  };
}

/** The guide's SNMP settings: the community `noc`, the v3 user `nocv3` (SHA, AES), v3 informs to the NMS when given. */
function snmpSettings(f: NonNullable<SettingsFile['snmp']>, env: NodeJS.ProcessEnv): SnmpSettingsInput {
  const community = env.LBAPPLIANCE_SNMP_COMMUNITY;
  const authPassword = env.LBAPPLIANCE_SNMP_AUTH_PASSWORD;
  const privPassword = env.LBAPPLIANCE_SNMP_PRIV_PASSWORD;
  if (!community || !authPassword || !privPassword) throw new Error('snmp is set: give LBAPPLIANCE_SNMP_COMMUNITY, LBAPPLIANCE_SNMP_AUTH_PASSWORD and LBAPPLIANCE_SNMP_PRIV_PASSWORD');
  return {
    enabled: true,
    listenAddress: f.listenAddress,
    port: 161,
    contact: f.contact ?? '',
    location: f.location ?? '',
    communities: [{ name: 'noc', community }],
    users: [{ name: 'nocv3', authProtocol: 'sha', authPassword, privProtocol: 'aes', privPassword }],
    trapDestinations: f.trapAddress ? [{ name: 'nms', address: f.trapAddress, port: 162, version: 'v3', user: 'nocv3' }] : [],
  };
}

/** The directory settings as the API takes them, with the guide's Active Directory defaults. */
async function directoryInput(d: NonNullable<SettingsFile['directory']>, dir: string, bindPassword: string): Promise<DirectoryInput> {
  return {
    url: d.url,
    startTls: d.startTls ?? false,
    caPem: await readFile(resolve(dir, d.caFile), 'utf8'),
    bindDn: d.bindDn,
    bindPassword,
    userBaseDn: d.userBaseDn,
    userFilter: d.userFilter ?? '(sAMAccountName={username})',
    groupSearch: 'memberOf',
    // Sorted by role, as the Terraform for-expression over the map gives them.
    roleMappings: Object.entries(d.roleGroups)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([role, group]) => ({ group: group as string, role: role as DirectoryInput['roleMappings'][number]['role'] })),
  };
}

/** Reads a settings file; certificate paths are relative to it. */
export async function loadSettings(file: string, dir: string): Promise<TeraReconSettings> {
  const f = JSON.parse(await readFile(file, 'utf8')) as SettingsFile;
  const password = process.env.LBAPPLIANCE_SECONDARY_PASSWORD;
  if (f.secondaryEndpoint && !password) throw new Error('secondaryEndpoint is set: give the secondary\'s password in LBAPPLIANCE_SECONDARY_PASSWORD');
  const bindPassword = process.env.LBAPPLIANCE_DIRECTORY_BIND_PASSWORD;
  if (f.directory && !bindPassword) throw new Error('directory is set: give its bind password in LBAPPLIANCE_DIRECTORY_BIND_PASSWORD');
  return {
    vipAddress: f.vipAddress,
    servers: f.servers,
    certificateLabel: f.certificateLabel ?? 'intuition-cert',
    certificatePem: await readCertificatePem(resolve(dir, f.certificateFile), resolve(dir, f.privateKeyFile)),
    ...(f.secondaryEndpoint && password ? { secondary: { endpoint: f.secondaryEndpoint, password } } : {}),
    ...(f.snmp ? { snmp: snmpSettings(f.snmp, process.env) } : {}),
    ...(f.directory && bindPassword ? { directory: await directoryInput(f.directory, dir, bindPassword) } : {}),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runDeployment(teraRecon, loadSettings).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });
}
