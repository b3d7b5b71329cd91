// Insignia / Intelerad InSight, end to end, on its real address plan (127.0.60.x, DICOM 104,
// HL7 2575): the DICOM and HL7 VIPs in load-balanced mode (127.0.60.100) and failover mode
// (127.0.60.101) deployed each of four ways (Terraform, CDKTF, the SDK script, the Pulumi
// program through the real plugin) onto one appliance with the embedded engine, in front of
// two InSight stand-ins (storescp and an MLLP server each). Each way: deploy; nothing left
// to change; the same configuration as the others and as the backend plan; DICOM C-ECHO
// and C-STORE of a multi-file study arriving complete and byte-identical, HL7 acknowledged;
// load-balanced VIPs using both servers, failover VIPs only the primary until it stops and
// the primary again once it is back; a primary whose PACS rejects every association marked
// down by the `dicom` check while its port stays open (first way only: the configuration is
// the same for all); destroy leaving the appliance empty. This file alone
// uses the 127.0.60.x plan.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApplianceClient } from '../../openapi/sdk/index.js';
import { connect } from 'node:net';
import { join } from 'node:path';
import { DicomServer, dicomEcho, insignia, INSIGNIA_PORTS, INSIGNIA_VIP_ADDRESSES, startBackends, type Hl7Server, type RunningBackends } from '../../examples/backends/index.js';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';
import { configSnapshot, planned, type ConfigSnapshot } from './helpers/config.js';
import { hl7Through, storeStudyThrough } from './helpers/imaging.js';
import { waitForHealth } from './helpers/traffic.js';
import { WAYS, type DeployWay, type ExampleInputs } from './helpers/ways.js';

const LB = INSIGNIA_VIP_ADDRESSES['load-balanced'];
const FAILOVER = INSIGNIA_VIP_ADDRESSES.failover;
const { dicom: DICOM, hl7: HL7 } = INSIGNIA_PORTS;

let app: TestAppliance;
let client: ApplianceClient;
let backends: RunningBackends;
let inputs: ExampleInputs;
let first: ConfigSnapshot | undefined;
let dicomServers: Record<string, DicomServer>;
let hl7Servers: Record<string, Hl7Server>;

beforeAll(async () => {
  [app, backends] = await Promise.all([startTestAppliance({ engine: 'embedded' }), startBackends(insignia)]);
  client = app.client();
  inputs = { example: 'insignia', app };
  dicomServers = Object.fromEntries(insignia.hosts.map((h) => [h.id, backends.dicom(h.address, DICOM)]));
  hl7Servers = Object.fromEntries(insignia.hosts.map((h) => [h.id, backends.hl7(h.address, HL7)]));
});

afterAll(async () => {
  await backends?.stop();
  await app?.dispose();
});

const allVips = (health: string, servers: string[]) =>
  Object.fromEntries(insignia.vips.map((v) => [v.label, Object.fromEntries(servers.map((s) => [s, health]))]));

for (const makeWay of WAYS) {
  const way$ = makeWay.name.replace(/Way$/, '');
  describe(`Insignia through ${way$}`, { timeout: 180_000 }, () => {
    let way: DeployWay;

    it("deploys DICOM and HL7 in both modes; a second plan shows no changes; the config is the plan and every other way's", async () => {
      way = await makeWay(inputs);
      await way.deploy();
      expect(await way.pendingChanges()).toEqual([]);
      const snapshot = await configSnapshot(client);
      expect(Object.keys(snapshot.virtualServices)).toEqual(['Insignia-DICOM-Failover', 'Insignia-DICOM-LB', 'Insignia-HL7-Failover', 'Insignia-HL7-LB']);
      expect(snapshot).toMatchObject(planned(insignia));
      // The loopback plan chooses proxy for DICOM explicitly: direct routing cannot work on loopback (insignia-dr.test.ts deploys it).
      for (const label of ['Insignia-DICOM-LB', 'Insignia-DICOM-Failover', 'Insignia-HL7-LB', 'Insignia-HL7-Failover']) expect(snapshot.virtualServices[label]?.forwarding, label).toBe('proxy');
      if (first) expect(snapshot).toEqual(first);
      else first = snapshot;
    });

    it('load-balanced: C-ECHO, and studies stored complete and byte-identical, one association on each server; HL7 acknowledged by both', async () => {
      await dicomEcho({ address: LB, port: DICOM });
      const hosts: string[] = [];
      for (let i = 0; i < 2; i++) {
        const outcome = await storeStudyThrough({ address: LB, port: DICOM }, dicomServers);
        if (i === 0) console.log(`Insignia ${way$}: ${outcome.files} files, ${outcome.bytes} bytes through Insignia-DICOM-LB to ${outcome.host} in ${outcome.elapsedMs} ms`);
        hosts.push(outcome.host);
      }
      expect(hosts.sort()).toEqual(['SERVER1', 'SERVER2']);
      const hl7 = new Set<string>();
      for (let i = 0; i < 4; i++) hl7.add(await hl7Through({ address: LB, port: HL7 }, hl7Servers));
      expect([...hl7].sort()).toEqual(['SERVER1', 'SERVER2']);
    });

    it('failover: everything goes to the primary while it is up', async () => {
      await dicomEcho({ address: FAILOVER, port: DICOM });
      for (let i = 0; i < 2; i++) expect((await storeStudyThrough({ address: FAILOVER, port: DICOM }, dicomServers, 3)).host).toBe('SERVER1');
      for (let i = 0; i < 3; i++) expect(await hl7Through({ address: FAILOVER, port: HL7 }, hl7Servers)).toBe('SERVER1');
    });

    it('failover: the backup takes over when the primary is down, and the primary takes back when it returns', async () => {
      await backends.host('SERVER1').stop();
      try {
        await waitForHealth(client, { ...allVips('down', ['SERVER1']), ...Object.fromEntries(insignia.vips.map((v) => [v.label, { SERVER1: 'down', SERVER2: 'up' }])) });
        for (const address of [FAILOVER, LB]) {
          const outcome = await storeStudyThrough({ address, port: DICOM }, dicomServers, 3);
          expect(outcome.host, address).toBe('SERVER2');
          expect(await hl7Through({ address, port: HL7 }, hl7Servers), address).toBe('SERVER2');
        }
      } finally {
        await backends.host('SERVER1').start();
      }
      await waitForHealth(client, allVips('up', ['SERVER1', 'SERVER2']));
      expect((await storeStudyThrough({ address: FAILOVER, port: DICOM }, dicomServers, 3)).host).toBe('SERVER1');
      for (let i = 0; i < 2; i++) expect(await hl7Through({ address: FAILOVER, port: HL7 }, hl7Servers)).toBe('SERVER1');
    });

    it.runIf(makeWay === WAYS[0])('a PACS that rejects every association is down by its dicom check while its port stays open; studies go to the other server', async () => {
      const address = insignia.hosts[0]!.address;
      const good = dicomServers.SERVER1!;
      await good.stop();
      const refusing = new DicomServer({ host: 'SERVER1', name: 'insignia-server1-refusing', address, port: DICOM, aeTitle: 'INSIGNIA1', workDir: join(backends.runDir, 'refusing'), refuseAssociations: true });
      await refusing.start();
      try {
        await waitForHealth(client, Object.fromEntries(insignia.vips.map((v) => [v.label, v.label.includes('DICOM') ? { SERVER1: 'down', SERVER2: 'up' } : { SERVER1: 'up', SERVER2: 'up' }])));
        const o = await client.getOverview();
        for (const vs of o.virtualServices.filter((v) => v.label.includes('DICOM'))) {
          expect(vs.realServers.find((r) => r.label === 'SERVER1')?.lastCheck?.detail, vs.label).toBe('association rejected: no reason given');
        }
        // The port is open all along: a connect check would have kept SERVER1 in.
        await new Promise<void>((resolve, reject) => {
          const s = connect({ host: address, port: DICOM }, () => {
            s.destroy();
            resolve();
          });
          s.once('error', reject);
        });
        for (const vip of [FAILOVER, LB]) expect((await storeStudyThrough({ address: vip, port: DICOM }, dicomServers, 3)).host, vip).toBe('SERVER2');
      } finally {
        await refusing.stop();
        await good.start();
      }
      await waitForHealth(client, allVips('up', ['SERVER1', 'SERVER2']));
    });

    it('destroy leaves the appliance empty', async () => {
      await way.destroy();
      await way.dispose();
      const config = await client.getConfig();
      expect([config.virtualServices, config.realServers, config.certificates]).toEqual([{}, {}, {}]);
    });
  });
}
