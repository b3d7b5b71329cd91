// Insignia / Intelerad InSight as its guide says (issue 14): the DICOM VIPs on layer 4
// direct routing, deployed each of four ways (Terraform, CDKTF, the SDK script, the Pulumi
// program through the real plugin) onto a real appliance that runs inside its own network
// namespace with the kernel plane, in front of two InSight stand-ins (DCMTK storescp) in
// theirs, set up for DR with `lbappliance realserver --apply` exactly as the README tells a
// site to (both VIPs on lo, arp_ignore/arp_announce). A modality in a client namespace of its
// own sends real studies with storescu: each arrives complete and byte-identical on one
// server, whose storescp logs the modality's own address (DR does not rewrite it); the
// load-balanced VIP uses both servers, the failover VIP only the first (and the second while
// the first is down, first way only). The HL7 VIPs stay layer 7, as the guide says, on the
// same addresses: each server runs the examples' MLLP stand-in too, and an HL7 message
// through the load-balanced VIP is acknowledged by a server. The tools reach the appliance's API at its namespace address over this host's veth
// on the segment. Names start with `ins-`, addresses 198.18.70.0-198.18.72.255 (this
// helper's block); the namespaces go in afterAll.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApplianceClient } from '../../openapi/sdk/index.js';
import { buildTestMessage, sendHl7 } from '../../examples/backends/index.js';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';
import { LBAPPLIANCE_BIN, ROOT } from '../helpers/paths.js';
import { needProgram } from '../helpers/programs.js';
import { buildNetwork, rulesetOf, type L4Network } from '../kernel/helpers/l4-topology.js';
import { configSnapshot, type ConfigSnapshot } from './helpers/config.js';
import { run } from './helpers/env.js';
import { namespacedStorescp, storeStudyFromNamespace, type NamespacedStorescp } from './helpers/netns-dicom.js';
import { waitForHealth } from './helpers/traffic.js';
import { WAYS, type DeployWay, type ExampleInputs } from './helpers/ways.js';

const DICOM = 104;
const HL7 = 2575;
let net: L4Network;
let app: TestAppliance;
let client: ApplianceClient;
let inputs: ExampleInputs;
let workDir: string;
let storescps: NamespacedStorescp[] = [];
const mllpServers: ChildProcess[] = [];
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
    mllpServers.push(await startMllp(s.ns, label, s.address));
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
  for (const c of mllpServers) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await net?.teardown();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

/** The examples' MLLP stand-in in a server's namespace, on its own address (what the HL7 proxy VIPs connect to). */
async function startMllp(ns: string, label: string, address: string): Promise<ChildProcess> {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, join(ROOT, 'test/examples/fixtures/mllp-server.mjs'), label, label, address, String(HL7)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`MLLP server ${label} did not start`)), 20_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line === 'ready') {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`MLLP server ${label} exited with ${code}`)));
  });
  return child;
}

let hl7Sequence = 0;

/** One HL7 message through a VIP (from this host, on the segment); the label of the server whose ACK (MSH-3) accepted it. */
async function hl7Through(address: string): Promise<string> {
  const controlId = `INSDR${process.pid}-${++hl7Sequence}`;
  const [ack] = await sendHl7({ address, port: HL7 }, [buildTestMessage({ controlId })]);
  if (ack?.ackCode !== 'AA' || ack.controlId !== controlId) throw new Error(`unexpected ACK ${JSON.stringify(ack)}`);
  return ack.sendingApplication;
}

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

    it('HL7 beside it: the layer 7 HL7 VIPs on the same addresses are acknowledged by the servers', async () => {
      await dicomProgrammed(bothUp(['Insignia-HL7-LB', 'Insignia-HL7-Failover']));
      const hl7 = new Set<string>();
      for (let i = 0; i < 12 && hl7.size < 2; i++) hl7.add(await hl7Through(LB));
      expect([...hl7].sort()).toEqual(['SERVER1', 'SERVER2']);
      expect(await hl7Through(FAILOVER)).toBe('SERVER1');
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
