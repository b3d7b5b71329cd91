// Insignia / Intelerad InSight as its guide says (issue 14): the DICOM VIPs on layer 4
// direct routing, deployed each of four ways (Terraform, CDKTF, the SDK script, the Pulumi
// program through the real plugin) onto a real appliance that runs inside its own network
// namespace with the kernel plane, in front of two InSight stand-ins (DCMTK storescp) in
// theirs, set up for DR with `lbappliance realserver --apply` exactly as the README tells a
// site to (both VIPs on lo, arp_ignore/arp_announce). A modality in a client namespace of its
// own sends real studies with storescu: each arrives complete and byte-identical on one
// server, whose storescp logs the modality's own address (DR does not rewrite it); the
// load-balanced VIP uses both servers, the failover VIP only the first (and the second while
// the first is down, first way only). The HL7 VIPs are deployed as layer 7, as the guide
// says. The tools reach the appliance's API at its namespace address over this host's veth
// on the segment. Names start with `ins-`, addresses 198.18.70.0-198.18.72.255 (this
// helper's block); the namespaces go in afterAll.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApplianceClient } from '../../openapi/sdk/index.js';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';
import { LBAPPLIANCE_BIN } from '../helpers/paths.js';
import { needProgram } from '../helpers/programs.js';
import { buildNetwork, rulesetOf, type L4Network } from '../kernel/helpers/l4-topology.js';
import { configSnapshot, type ConfigSnapshot } from './helpers/config.js';
import { run } from './helpers/env.js';
import { namespacedStorescp, storeStudyFromNamespace, type NamespacedStorescp } from './helpers/netns-dicom.js';
import { waitForHealth } from './helpers/traffic.js';
import { WAYS, type DeployWay, type ExampleInputs } from './helpers/ways.js';

const DICOM = 104;
let net: L4Network;
let app: TestAppliance;
let client: ApplianceClient;
let inputs: ExampleInputs;
let workDir: string;
let storescps: NamespacedStorescp[] = [];
let first: ConfigSnapshot | undefined;
let LB: string;
let FAILOVER: string;
let modality: { ns: string; address: string };

beforeAll(async () => {
  needProgram('nft');
  needProgram('terraform');
  workDir = await mkdtemp(join(tmpdir(), 'lbappliance-insignia-dr-'));
  // The real servers' DR setup is left to `lbappliance realserver`, as on a real site.
  net = await buildNetwork('d', 70, { prefix: 'ins', clientNamespace: true, serverVips: false });
  LB = net.drVip(0);
  FAILOVER = net.drVip(1);
  modality = { ns: net.clientNs!, address: net.nsDrClient };
  // The appliance answers ARP for the VIPs (the HL7 VIPs listen there too).
  for (const vip of [LB, FAILOVER]) await net.addVip(vip);
  for (const [i, s] of net.servers.entries()) {
    const r = await run('ip', ['netns', 'exec', s.ns, LBAPPLIANCE_BIN, 'realserver', '--vip', LB, '--vip', FAILOVER, '--interface', net.appIface, '--apply']);
    if (r.code !== 0) throw new Error(`lbappliance realserver --apply on ${s.name} failed:\n${r.output}`);
    const label = `SERVER${i + 1}`;
    const scp = namespacedStorescp(label, s.ns, s.address, DICOM, `INSIGNIA${i + 1}`, join(workDir, label));
    await scp.start();
    storescps.push(scp);
  }
  app = await startTestAppliance({ engine: 'embedded', host: net.appAddress, wrap: ['ip', 'netns', 'exec', net.appNs] });
  client = app.client();
  const servers = net.servers.map((s, i) => ({ label: `SERVER${i + 1}`, address: s.address }));
  // The example's local plan files, moved onto this network and back to the guide's direct routing.
  inputs = {
    example: 'insignia',
    app,
    tfVars: {
      load_balanced_vip_address: LB,
      failover_vip_address: FAILOVER,
      servers: `[${servers.map((s) => `{ label = "${s.label}", address = "${s.address}" }`).join(', ')}]`,
      dicom_forwarding: 'direct-routing',
    },
    sdkSettings: { loadBalancedVipAddress: LB, failoverVipAddress: FAILOVER, servers, dicomForwarding: 'direct-routing' },
    pulumiConfig: { 'insignia:loadBalancedVipAddress': LB, 'insignia:failoverVipAddress': FAILOVER, 'insignia:servers': servers, 'insignia:dicomForwarding': 'direct-routing' },
  };
}, 180_000);

afterAll(async () => {
  await app?.dispose();
  for (const s of storescps) await s.stop().catch(() => undefined);
  await net?.teardown();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

const dicomVips = ['Insignia-DICOM-LB', 'Insignia-DICOM-Failover'];
const bothUp = (labels: string[]) => Object.fromEntries(labels.map((l) => [l, { SERVER1: 'up', SERVER2: 'up' }]));

/** Waits for the DICOM VIPs to be programmed into the kernel with these server verdicts. */
async function dicomProgrammed(health: Record<string, Record<string, string>>): Promise<void> {
  try {
    await waitForHealth(client, health, 60_000);
  } catch (e) {
    const o = await client.getOverview().catch(() => null);
    throw new Error(`${(e as Error).message}\n${JSON.stringify(o?.virtualServices.map((v) => ({ label: v.label, listening: v.listening, error: v.error, servers: v.realServers.map((r) => [r.label, r.health, r.lastCheck?.detail]) })), null, 1)}\n${await rulesetOf(net.appNs)}`);
  }
  const o = await client.getOverview();
  for (const label of Object.keys(health)) expect(o.virtualServices.find((v) => v.label === label)?.listening, label).toBe(true);
}

for (const makeWay of WAYS) {
  const way$ = makeWay.name.replace(/Way$/, '');
  describe(`Insignia DICOM on direct routing through ${way$}`, { timeout: 300_000 }, () => {
    let way: DeployWay;

    it("deploys DICOM as direct routing and HL7 as layer 7 in both modes; a second plan shows no changes; the config is every other way's", async () => {
      way = await makeWay(inputs);
      await way.deploy();
      expect(await way.pendingChanges()).toEqual([]);
      const snapshot = await configSnapshot(client);
      expect(Object.keys(snapshot.virtualServices)).toEqual(['Insignia-DICOM-Failover', 'Insignia-DICOM-LB', 'Insignia-HL7-Failover', 'Insignia-HL7-LB']);
      for (const [label, vs] of Object.entries(snapshot.virtualServices)) {
        const dicom = label.includes('DICOM');
        expect(vs, label).toMatchObject({ protocol: 'tcp', forwarding: dicom ? 'direct-routing' : 'proxy', forwardedFor: !dicom, ports: [dicom ? DICOM : 2575], healthCheck: { type: dicom ? 'dicom' : 'hl7' } });
      }
      expect(snapshot.realServers['Insignia-DICOM-Failover/SERVER2']).toMatchObject({ address: net.servers[1]!.address, port: DICOM, backup: true });
      if (first) expect(snapshot).toEqual(first);
      else first = snapshot;
    });

    it("load-balanced: the modality's studies arrive complete on both servers, each logging the modality's own address", async () => {
      await dicomProgrammed(bothUp(dicomVips));
      const seen = new Set<string>();
      for (let i = 0; i < 16 && seen.size < 2; i++) {
        const outcome = await storeStudyFromNamespace(modality.ns, LB, DICOM, storescps);
        // The study's one association came from the modality's own address (the appliance's are its checks).
        expect(outcome.peers.filter((p) => p !== net.appAddress), `the peers ${outcome.label} logged during the study`).toEqual([modality.address]);
        if (i === 0) console.log(`Insignia ${way$}: ${outcome.files} files through direct routing to ${outcome.label}, which saw ${modality.address}`);
        seen.add(outcome.label);
      }
      expect([...seen].sort()).toEqual(['SERVER1', 'SERVER2']);
    });

    it('failover: every study goes to the primary while it is up', async () => {
      for (let i = 0; i < 3; i++) {
        const outcome = await storeStudyFromNamespace(modality.ns, FAILOVER, DICOM, storescps);
        expect(outcome.label).toBe('SERVER1');
        expect(outcome.peers.filter((p) => p !== net.appAddress)).toEqual([modality.address]);
      }
    });

    it.runIf(makeWay === WAYS[0])('failover: the backup takes the studies while the primary is down, and the primary takes them back', async () => {
      const [primary] = storescps;
      await primary!.stop();
      try {
        await dicomProgrammed(Object.fromEntries(dicomVips.map((l) => [l, { SERVER1: 'down', SERVER2: 'up' }])));
        for (const vip of [FAILOVER, LB]) expect((await storeStudyFromNamespace(modality.ns, vip, DICOM, storescps)).label, vip).toBe('SERVER2');
      } finally {
        await primary!.start();
      }
      await dicomProgrammed(bothUp(dicomVips));
      expect((await storeStudyFromNamespace(modality.ns, FAILOVER, DICOM, storescps)).label).toBe('SERVER1');
    });

    it('destroy leaves the appliance empty', async () => {
      await way.destroy();
      await way.dispose();
      const config = await client.getConfig();
      expect([config.virtualServices, config.realServers, config.certificates]).toEqual([{}, {}, {}]);
    });
  });
}
