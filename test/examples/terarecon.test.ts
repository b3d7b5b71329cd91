// TeraRecon Aquarius iNtuition, end to end, on its real address plan (127.0.40.x, ports 80,
// 443, 1200): the example deployed each of four ways (Terraform, CDKTF, the SDK script, the
// Pulumi program through the real plugin) onto one appliance with the embedded engine, in
// front of the TeraRecon backends. Each way: deploy; nothing left to change; the same
// configuration as the others and as the backend plan; traffic through every VIP as the
// guide's row says; a stopped server marked down with traffic moving on; destroy leaving
// the appliance empty. Then the HA pair the guide recommends: planned by every way, and
// formed for real by every way with a second appliance, carrying the traffic on the active
// node, and broken by destroy with both nodes left empty. And the guide's directory login
// (8.3) by every way, against a real directory (Debian's slapd on 127.0.248.80, started
// here): a directory operator logs in and drains a server, a directory administrator is one.
// This file alone uses the 127.0.40.x plan (the demo's test moves the demo to 127.0.140.x).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApplianceClient } from '../../openapi/sdk/index.js';
import { startBackends, teraRecon, type RunningBackends } from '../../examples/backends/index.js';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';
import { makeTestCert, type TestCert } from '../helpers/certs.js';
import { configSnapshot, planned, type ConfigSnapshot } from './helpers/config.js';
import { greeter, h2Session, httpGet, tcpGreeting, waitForHealth } from './helpers/traffic.js';
import { WAYS, type DeployWay, type ExampleInputs } from './helpers/ways.js';
import { clientOf, PRIMARY_PASSWORD, SECONDARY_PASSWORD, startNode, stateOf, until } from '../ha/helpers/pair.js';
import { snmpTool } from '../helpers/snmp-tools.js';
import { BIND_DN, BIND_PASSWORD, GROUPS, startTestDirectory, SUFFIX, userPassword, type TestDirectory } from '../helpers/slapd.js';

const VIP = '127.0.40.217';
const NAME = 'intuition.hospital.test';
const SERVERS = { SERVER1: 'terarecon-server1', SERVER2: 'terarecon-server2' } as const;
// SNMP as the guide configures it (UDP 161), on the plan's appliance address (the guide's 10.10.40.2).
const SNMP = { listenAddress: '127.0.40.2', community: 'terarecon-noc-community', authPassword: 'terarecon-auth-secret', privPassword: 'terarecon-priv-secret' };

/** snmpget of AVS's name, v2c (community noc) and v3 (nocv3, SHA, AES), until both answer. */
async function snmpAnswers(c: ApplianceClient): Promise<void> {
  const avs = (await c.listVirtualServices({ query: { label: 'AVS' } })).items[0]!;
  const oid = `LBAPPLIANCE-MIB::lbVsName."${avs.id}"`;
  await until('snmpget answers', async () => {
    const v2c = await snmpTool('snmpget', `udp:${SNMP.listenAddress}:161`, { community: SNMP.community }, [oid]);
    const v3 = await snmpTool('snmpget', `udp:${SNMP.listenAddress}:161`, { user: 'nocv3', authPassword: SNMP.authPassword, privPassword: SNMP.privPassword }, [oid]);
    return v2c.stdout.includes('STRING: AVS') && v3.stdout.includes('STRING: AVS');
  });
}

let app: TestAppliance;
let client: ApplianceClient;
let backends: RunningBackends;
let cert: TestCert;
let dir: string;
let inputs: ExampleInputs;
let first: ConfigSnapshot | undefined;
let directory: TestDirectory | undefined;

beforeAll(async () => {
  [app, backends] = await Promise.all([startTestAppliance({ engine: 'embedded' }), startBackends(teraRecon)]);
  client = app.client();
  dir = await mkdtemp(join(tmpdir(), 'lbappliance-terarecon-'));
  cert = makeTestCert(NAME, 'ec', [NAME, VIP]);
  const certificateFile = join(dir, 'intuition-cert.crt');
  const privateKeyFile = join(dir, 'intuition-cert.key');
  await writeFile(certificateFile, cert.certPem);
  await writeFile(privateKeyFile, cert.keyPem, { mode: 0o600 });
  // The SNMP secrets as each way takes them: terraform variables, the SDK script's environment, Pulumi config.
  process.env.LBAPPLIANCE_SNMP_COMMUNITY = SNMP.community;
  process.env.LBAPPLIANCE_SNMP_AUTH_PASSWORD = SNMP.authPassword;
  process.env.LBAPPLIANCE_SNMP_PRIV_PASSWORD = SNMP.privPassword;
  inputs = {
    example: 'terarecon',
    app,
    tfVars: { certificate_file: certificateFile, private_key_file: privateKeyFile, snmp_enabled: 'true', snmp_community: SNMP.community, snmp_auth_password: SNMP.authPassword, snmp_priv_password: SNMP.privPassword },
    sdkSettings: { certificateFile, privateKeyFile, snmp: { listenAddress: SNMP.listenAddress, contact: 'PACS team <pacs@hospital.test>', location: 'Imaging data centre, rack 4' } },
    pulumiConfig: { certificateFile, privateKeyFile, snmpListenAddress: SNMP.listenAddress, snmpContact: 'PACS team <pacs@hospital.test>', snmpLocation: 'Imaging data centre, rack 4', snmpCommunity: SNMP.community, snmpAuthPassword: SNMP.authPassword, snmpPrivPassword: SNMP.privPassword },
  };
});

afterAll(async () => {
  await directory?.dispose();
  await backends?.stop();
  await app?.dispose();
  if (dir) await rm(dir, { recursive: true, force: true });
});

for (const makeWay of WAYS) {
  describe(`TeraRecon through ${makeWay.name.replace(/Way$/, '')}`, { timeout: 180_000 }, () => {
    let way: DeployWay;

    it('deploys the three VIPs; a second plan shows no changes; the config is the plan and every other way\'s', async () => {
      way = await makeWay(inputs);
      await way.deploy();
      expect(await way.pendingChanges()).toEqual([]);
      const snapshot = await configSnapshot(client);
      expect(Object.keys(snapshot.virtualServices)).toEqual(['AVS', 'AVS-AQI', 'AVS-Redirect']);
      expect(snapshot).toMatchObject(planned(teraRecon, 'intuition-cert'));
      expect(Object.keys(snapshot.realServers)).toHaveLength(4);
      expect(snapshot.certificates['intuition-cert']?.fingerprintSha256).toBe(new X509Certificate(cert.certPem).fingerprint256);
      if (first) expect(snapshot).toEqual(first);
      else first = snapshot;
    });

    it('answers snmpget with the guide\'s SNMP settings (community noc, v3 user nocv3)', async () => {
      expect(await client.getSnmpSettings()).toMatchObject({ enabled: true, listenAddress: SNMP.listenAddress, port: 161, location: 'Imaging data centre, rack 4', communities: [{ name: 'noc' }], users: [{ name: 'nocv3', authProtocol: 'sha', privProtocol: 'aes' }] });
      await snmpAnswers(client);
    });

    it('AVS-Redirect answers 301 with the same host and path on https', async () => {
      const r = await httpGet(VIP, 80, '/aqnet/viewer?study=1.2.3&series=4', { host: NAME });
      expect(r.status).toBe(301);
      expect(r.headers.location).toBe(`https://${NAME}/aqnet/viewer?study=1.2.3&series=4`);
    });

    it('AVS speaks HTTP/2 by ALPN with the example\'s certificate, re-encrypts to the servers, and keeps a client on its server by cookie', async () => {
      const s = await h2Session(VIP, 443, { ca: cert.certPem, servername: NAME });
      try {
        expect(s.alpn).toBe('h2');
        expect(s.peer.fingerprint256).toBe(new X509Certificate(cert.certPem).fingerprint256);
        const firstAnswer = await s.get('/study/1');
        expect(firstAnswer.status).toBe(200);
        expect(firstAnswer.cookie).toMatch(/^SERVERID=/);
        expect(firstAnswer.viewer).toMatchObject({ tls: true, forwardedProto: 'https' });
        for (let i = 0; i < 4; i++) expect((await s.get(`/study/1/frame/${i}`, firstAnswer.cookie)).viewer.server).toBe(firstAnswer.viewer.server);
        // Without the cookie, new sessions are spread over both servers.
        const fresh = new Set<string>();
        for (let i = 0; i < 4; i++) fresh.add((await s.get(`/study/2/${i}`)).viewer.server);
        expect([...fresh].sort()).toEqual(Object.values(SERVERS));
      } finally {
        s.close();
      }
    });

    it('AVS-AQI keeps each client address on one server, with the guide\'s 92 s / 93 s timeouts', async () => {
      // Sixteen clients: each stays on one server, and together they use both. (With the
      // engine's workers a new client's server is a hash of its address, the same in every
      // worker; two clients could share a server, sixteen all on one would be a 1 in 32768 chance.)
      const seen = new Set<string>();
      for (let n = 2; n < 18; n++) {
        const source = `127.0.0.${n}`;
        const servers = new Set<string>();
        for (let i = 0; i < 3; i++) servers.add(greeter(await tcpGreeting(VIP, 1200, source)));
        expect(servers.size, `client ${source}`).toBe(1);
        for (const s of servers) seen.add(s);
      }
      expect([...seen].sort()).toEqual(Object.values(SERVERS));
      const aqi = (await client.listVirtualServices({ query: { label: 'AVS-AQI' } })).items[0]!;
      expect(aqi.timeouts).toMatchObject({ client: 92, server: 93 });
    });

    it('marks a stopped server down and moves its clients to the other one, then takes it back', async () => {
      const s = await h2Session(VIP, 443, { ca: cert.certPem, servername: NAME });
      try {
        // A cookie that names SERVER1.
        let cookie: string | undefined;
        for (let i = 0; i < 4 && !cookie; i++) {
          const a = await s.get(`/find/${i}`);
          if (a.viewer.server === SERVERS.SERVER1) cookie = a.cookie;
        }
        expect(cookie).toBeDefined();
        await backends.host('SERVER1').stop();
        await waitForHealth(client, { AVS: { SERVER1: 'down', SERVER2: 'up' }, 'AVS-AQI': { SERVER1: 'down', SERVER2: 'up' } });
        expect((await s.get('/after-crash', cookie)).viewer.server).toBe(SERVERS.SERVER2);
        for (const source of ['127.0.0.2', '127.0.0.3']) expect(greeter(await tcpGreeting(VIP, 1200, source))).toBe(SERVERS.SERVER2);
      } finally {
        s.close();
        await backends.host('SERVER1').start();
      }
      await waitForHealth(client, { AVS: { SERVER1: 'up' }, 'AVS-AQI': { SERVER1: 'up' } });
    });

    it('destroy leaves the appliance empty', async () => {
      await way.destroy();
      await way.dispose();
      const config = await client.getConfig();
      expect([config.virtualServices, config.realServers, config.certificates]).toEqual([{}, {}, {}]);
      expect(await client.getSnmpSettings()).toMatchObject({ enabled: false, communities: [], users: [] });
    });
  });
}

describe('TeraRecon as an HA pair: planning (the guide recommends one)', { timeout: 180_000 }, () => {
  // Nothing is written by planning: every way plans the pair when a secondary is named.
  const secondary = 'https://127.0.40.2:9443';

  it('every way plans lbappliance_ha_pair / HAPair when a secondary is named', async () => {
    const withPair: ExampleInputs = {
      ...inputs,
      tfVars: { ...inputs.tfVars, secondary_endpoint: secondary, secondary_password: 'secondary-password-1' },
      sdkSettings: { ...inputs.sdkSettings, secondaryEndpoint: secondary },
      pulumiConfig: { ...inputs.pulumiConfig, secondaryEndpoint: secondary, secondaryPassword: 'secondary-password-1' },
    };
    process.env.LBAPPLIANCE_SECONDARY_PASSWORD = 'secondary-password-1';
    try {
      const plans: Record<string, string[]> = {};
      for (const makeWay of WAYS) {
        const way = await makeWay(withPair);
        try {
          plans[way.name] = await way.pendingChanges();
        } finally {
          await way.dispose();
        }
      }
      expect(plans.terraform).toContain('lbappliance_ha_pair.pair[0]: created');
      expect(plans.cdktf).toContain('lbappliance_ha_pair.pair[0]: created');
      expect(plans.sdk).toContain('would create HA pair ha-pair');
      expect(plans.pulumi).toContain('pair: create');
      expect(plans.terraform).toContain('lbappliance_snmp.noc[0]: created');
      expect(plans.sdk).toContain('would update SNMP settings snmp');
      expect(plans.pulumi).toContain('noc: create');
      for (const [name, plan] of Object.entries(plans)) expect(plan, name).toHaveLength(10);
    } finally {
      delete process.env.LBAPPLIANCE_SECONDARY_PASSWORD;
    }
    const config = await client.getConfig();
    expect(config.virtualServices).toEqual({});
    expect((await client.getHaPair()).state).toBe('standalone');
  });
});

// The pair for real: two more appliances (primary 127.0.40.3, secondary 127.0.40.4, each
// its own API, heartbeat and replication address, as test/ha starts them), fresh for each
// way, with the example deployed onto the primary and the secondary named.
for (const makeWay of WAYS) {
  describe(`TeraRecon as an HA pair through ${makeWay.name.replace(/Way$/, '')}`, { timeout: 180_000 }, () => {
    let primary: TestAppliance;
    let secondary: TestAppliance;
    let way: DeployWay;

    beforeAll(async () => {
      [primary, secondary] = await Promise.all([startNode('127.0.40.3', PRIMARY_PASSWORD), startNode('127.0.40.4', SECONDARY_PASSWORD)]);
      process.env.LBAPPLIANCE_SECONDARY_PASSWORD = SECONDARY_PASSWORD; // the SDK script's
      way = await makeWay({
        ...inputs,
        app: primary,
        tfVars: { ...inputs.tfVars, secondary_endpoint: secondary.endpoint, secondary_password: SECONDARY_PASSWORD },
        sdkSettings: { ...inputs.sdkSettings, secondaryEndpoint: secondary.endpoint },
        pulumiConfig: { ...inputs.pulumiConfig, secondaryEndpoint: secondary.endpoint, secondaryPassword: SECONDARY_PASSWORD },
      });
    });

    afterAll(async () => {
      delete process.env.LBAPPLIANCE_SECONDARY_PASSWORD;
      await way?.dispose();
      await Promise.all([primary?.dispose(), secondary?.dispose()]);
    });

    it('deploys onto the primary and pairs: the secondary holds the same virtual services, passive; a second plan shows no changes', async () => {
      await way.deploy();
      expect(await way.pendingChanges()).toEqual([]);
      expect(await clientOf(primary).getHaPair()).toMatchObject({ state: 'paired', role: 'primary', peerEndpoint: secondary.endpoint });
      // The primary's password now logs in on the secondary too.
      expect(await clientOf(secondary).getHaPair()).toMatchObject({ state: 'paired', role: 'secondary', peerEndpoint: primary.endpoint });
      const [onPrimary, onSecondary] = await Promise.all([configSnapshot(clientOf(primary)), configSnapshot(clientOf(secondary))]);
      expect(Object.keys(onPrimary.virtualServices)).toEqual(['AVS', 'AVS-AQI', 'AVS-Redirect']);
      expect(onPrimary).toMatchObject(planned(teraRecon, 'intuition-cert'));
      expect(onSecondary).toEqual(onPrimary);
      expect((await clientOf(secondary).getConfig()).revision).toBe((await clientOf(primary).getConfig()).revision);
      // The SNMP settings (secrets included) reached the secondary with the revision.
      expect(await clientOf(secondary).getSnmpSettings()).toEqual(await clientOf(primary).getSnmpSettings());
      await until('the primary active and the secondary passive', async () => (await stateOf(primary)) === 'active' && (await stateOf(secondary)) === 'passive');
    });

    it('carries traffic through the VIP on the active node; the passive node holds the VIPs released', async () => {
      const active = await clientOf(primary).getOverview();
      expect(active.node).toMatchObject({ haRole: 'primary', haState: 'active' });
      expect(active.virtualServices.every((v) => v.listening)).toBe(true);
      const passive = await clientOf(secondary).getOverview();
      expect(passive.node).toMatchObject({ haRole: 'secondary', haState: 'passive' });
      expect(passive.virtualServices.map((v) => v.listening)).toEqual([false, false, false]);
      await waitForHealth(clientOf(primary), { AVS: { SERVER1: 'up', SERVER2: 'up' }, 'AVS-AQI': { SERVER1: 'up', SERVER2: 'up' } });
      expect((await httpGet(VIP, 80, '/aqnet/viewer', { host: NAME })).headers.location).toBe(`https://${NAME}/aqnet/viewer`);
      const s = await h2Session(VIP, 443, { ca: cert.certPem, servername: NAME });
      try {
        expect(s.alpn).toBe('h2');
        const answer = await s.get('/study/ha');
        expect(answer.status).toBe(200);
        expect(Object.values(SERVERS)).toContain(answer.viewer.server);
      } finally {
        s.close();
      }
      expect(Object.values(SERVERS)).toContain(greeter(await tcpGreeting(VIP, 1200, '127.0.0.2')));
    });

    it('destroy deletes everything on both nodes and breaks the pair: both appliances standalone and empty', async () => {
      await way.destroy();
      for (const node of [primary, secondary]) {
        const c = clientOf(node);
        await until('standalone', async () => (await c.getHaPair()).state === 'standalone');
        const config = await c.getConfig();
        expect([config.virtualServices, config.realServers, config.certificates], node.endpoint).toEqual([{}, {}, {}]);
      }
      for (const node of [primary, secondary]) expect((await clientOf(node).getSnmpSettings()).enabled, node.endpoint).toBe(false);
      // Everything, the pair and the SNMP settings included, would be created again.
      expect(await way.pendingChanges()).toHaveLength(10);
    });
  });
}

describe("TeraRecon with the guide's directory login (8.3), every way", { timeout: 240_000 }, () => {
  let withDirectory: ExampleInputs;

  beforeAll(async () => {
    directory = await startTestDirectory('127.0.248.80', 16360, 16389);
    const caFile = join(dir, 'directory-ca.pem');
    await writeFile(caFile, directory.caPem);
    const groups = { admin: GROUPS.admins, operator: GROUPS.operators, 'read-only': GROUPS.readers };
    const settings = { url: directory.ldapsUrl, caFile, bindDn: BIND_DN, userBaseDn: `ou=people,${SUFFIX}`, userFilter: '(uid={username})', roleGroups: groups };
    withDirectory = {
      ...inputs,
      tfVars: {
        ...inputs.tfVars,
        directory_url: settings.url,
        directory_ca_file: caFile,
        directory_bind_dn: BIND_DN,
        directory_bind_password: BIND_PASSWORD,
        directory_user_base_dn: settings.userBaseDn,
        directory_user_filter: settings.userFilter,
        directory_role_groups: `{${Object.entries(groups).map(([role, group]) => `"${role}"="${group}"`).join(',')}}`,
      },
      sdkSettings: { ...inputs.sdkSettings, directory: settings },
      pulumiConfig: { ...inputs.pulumiConfig, directory: settings, directoryBindPassword: BIND_PASSWORD },
    };
    process.env.LBAPPLIANCE_DIRECTORY_BIND_PASSWORD = BIND_PASSWORD;
  }, 120_000);

  afterAll(() => {
    delete process.env.LBAPPLIANCE_DIRECTORY_BIND_PASSWORD;
  });

  for (const makeWay of WAYS) {
    it(`${makeWay.name.replace(/Way$/, '')}: a directory operator logs in and drains a server; destroy stops directory logins`, async () => {
      const way = await makeWay(withDirectory);
      try {
        await way.deploy();
        expect(await way.pendingChanges()).toEqual([]);
        expect(await client.getDirectory()).toMatchObject({ url: directory!.ldapsUrl, groupSearch: 'memberOf', roleMappings: [{ role: 'admin' }, { role: 'operator' }, { role: 'read-only' }] });
        const oscar = app.client({ username: 'oscar', password: userPassword('oscar') });
        expect(await oscar.getCurrentUser()).toMatchObject({ username: 'oscar', role: 'operator', source: 'directory' });
        const avs = (await oscar.listVirtualServices({ query: { label: 'AVS' } })).items[0]!;
        const server1 = (await oscar.listRealServers(avs.id)).items.find((r) => r.label === 'SERVER1')!;
        expect((await oscar.setRealServerAdminState(avs.id, server1.id, { adminState: 'drain' })).adminState).toBe('drain');
        await expect(oscar.deleteVirtualService(avs.id)).rejects.toMatchObject({ status: 403 });
        expect((await oscar.setRealServerAdminState(avs.id, server1.id, { adminState: 'online' })).adminState).toBe('online');
        expect(await app.client({ username: 'ada', password: userPassword('ada') }).getCurrentUser()).toMatchObject({ role: 'admin' });
        await way.destroy();
        await expect(client.getDirectory()).rejects.toMatchObject({ status: 404 });
        const config = await client.getConfig();
        expect([config.virtualServices, config.realServers, config.certificates]).toEqual([{}, {}, {}]);
      } finally {
        await way.dispose();
      }
    });
  }
});
