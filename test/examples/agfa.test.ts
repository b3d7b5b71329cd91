// AGFA HealthCare Enterprise Imaging, end to end, on its real address plan (127.0.50.x,
// the guide's ports): all 21 VIPs deployed each of four ways (Terraform, CDKTF, the SDK
// script, the Pulumi program through the real plugin) onto one appliance with the embedded
// engine, in front of the AGFA backends (two core servers, two web servers). Each way:
// deploy; nothing left to change; the same configuration as the others and as the backend
// plan; traffic through every VIP as its row says (HTTP with cookie or source-IP
// stickiness, re-encryption where the servers speak TLS, TLS passing through VIP 20, DICOM
// C-ECHO and C-STORE, HL7 acknowledged, TCP services); a stopped service marked down by its
// check and traffic moving on; destroy leaving the appliance empty. This file alone uses
// the 127.0.50.x plan.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApplianceClient } from '../../openapi/sdk/index.js';
import { agfa, dicomEcho, startBackends, type DicomServer, type Hl7Server, type RunningBackends, type VipPlan } from '../../examples/backends/index.js';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';
import { configSnapshot, planned, type ConfigSnapshot } from './helpers/config.js';
import { hl7Through, storeStudyThrough } from './helpers/imaging.js';
import { greeter, httpGet, tcpGreeting, tlsPeer, waitForHealth } from './helpers/traffic.js';
import { WAYS, type DeployWay, type ExampleInputs } from './helpers/ways.js';

const vip = (ref: number): VipPlan => agfa.vips[ref - 1]!;
const nameOf = (host: string) => agfa.hosts.find((h) => h.id === host)!.name;
const namesOf = (v: VipPlan) => v.realServers.map((r) => nameOf(r.host)).sort();
const SOURCES = ['127.0.0.2', '127.0.0.3'];

let app: TestAppliance;
let client: ApplianceClient;
let backends: RunningBackends;
let inputs: ExampleInputs;
let first: ConfigSnapshot | undefined;

beforeAll(async () => {
  [app, backends] = await Promise.all([startTestAppliance({ engine: 'embedded' }), startBackends(agfa)]);
  client = app.client();
  inputs = { example: 'agfa', app };
});

afterAll(async () => {
  await backends?.stop();
  await app?.dispose();
});

function dicomServers(v: VipPlan): Record<string, DicomServer> {
  return Object.fromEntries(v.realServers.map((r) => [r.host, backends.dicom(r.address, r.port)]));
}

function hl7Servers(v: VipPlan): Record<string, Hl7Server> {
  return Object.fromEntries(v.realServers.map((r) => [r.host, backends.hl7(r.address, r.port)]));
}

for (const makeWay of WAYS) {
  describe(`AGFA through ${makeWay.name.replace(/Way$/, '')}`, { timeout: 180_000 }, () => {
    let way: DeployWay;

    it("deploys the 21 VIPs; a second plan shows no changes; the config is the plan and every other way's", async () => {
      way = await makeWay(inputs);
      await way.deploy();
      expect(await way.pendingChanges()).toEqual([]);
      const snapshot = await configSnapshot(client);
      expect(Object.keys(snapshot.virtualServices)).toHaveLength(21);
      expect(Object.keys(snapshot.realServers)).toHaveLength(42);
      expect(snapshot).toMatchObject(planned(agfa));
      if (first) expect(snapshot).toEqual(first);
      else first = snapshot;
    });

    it('HTTP VIPs: cookie rows stick by cookie, source-IP rows by client address, re-encrypting rows reach the servers over TLS', async () => {
      for (const v of agfa.vips.filter((x) => x.protocol === 'http')) {
        const port = v.ports[0]!;
        const names = namesOf(v);
        const reEncrypt = v.realServers[0]!.reEncrypt;
        if (v.persistence === 'http-cookie') {
          const a = await httpGet(v.ipAddress, port, '/');
          expect(a.status, v.label).toBe(200);
          const cookie = a.headers['set-cookie']?.map((c) => c.split(';')[0]).find((c) => c?.startsWith('SERVERID='));
          expect(cookie, v.label).toBeDefined();
          for (let i = 0; i < 3; i++) expect((await httpGet(v.ipAddress, port, `/again/${i}`, { cookie })).viewer?.server, v.label).toBe(a.viewer?.server);
          const fresh = new Set<string>();
          for (let i = 0; i < 4; i++) fresh.add((await httpGet(v.ipAddress, port, '/')).viewer!.server);
          expect([...fresh].sort(), v.label).toEqual(names);
        } else {
          for (const source of SOURCES) {
            const seen = new Set<string>();
            for (let i = 0; i < 3; i++) seen.add((await httpGet(v.ipAddress, port, '/', { localAddress: source })).viewer!.server);
            expect(seen.size, `${v.label} from ${source}`).toBe(1);
          }
        }
        const answer = (await httpGet(v.ipAddress, port, '/who')).viewer!;
        expect(answer, v.label).toMatchObject({ tls: reEncrypt, port: v.realServers[0]!.port });
        expect(names, v.label).toContain(answer.server);
      }
    });

    it('TCP VIPs: the services answer through them, source-IP rows stick, and VIP 20 passes the web servers\' TLS through', async () => {
      for (const v of agfa.vips.filter((x) => x.protocol === 'tcp' && x.realServers[0]!.kind === 'tcp')) {
        const greetings = new Set<string>();
        for (let i = 0; i < 4; i++) greetings.add(greeter(await tcpGreeting(v.ipAddress, v.ports[0]!, SOURCES[0])));
        if (v.persistence === 'source-ip') expect(greetings.size, v.label).toBe(1);
        else expect([...greetings].sort(), v.label).toEqual(namesOf(v));
      }
      const xero = vip(20);
      const subjects = new Set<string>();
      for (let i = 0; i < 4; i++) subjects.add(String((await tlsPeer(xero.ipAddress, 443)).subject.CN));
      expect([...subjects].sort()).toEqual(namesOf(xero));
    });

    it('DICOM VIPs 2, 3 and 7: C-ECHO, and a multi-file study stored complete and byte-identical on one core server', async () => {
      for (const ref of [2, 3, 7]) {
        const v = vip(ref);
        const target = { address: v.ipAddress, port: v.ports[0]!, calledAeTitle: 'AGFA_CORE' };
        await dicomEcho(target);
        const outcome = await storeStudyThrough(target, dicomServers(v), ref === 2 ? 12 : 3);
        if (ref === 2) console.log(`AGFA ${makeWay.name.replace(/Way$/, '')}: ${outcome.files} files, ${outcome.bytes} bytes through ${v.label} to ${outcome.host} in ${outcome.elapsedMs} ms`);
      }
    });

    it('HL7 VIPs 5 and 6: every message acknowledged, connections spread over both core servers', async () => {
      for (const ref of [5, 6]) {
        const v = vip(ref);
        const hosts = new Set<string>();
        for (let i = 0; i < 4; i++) hosts.add(await hl7Through({ address: v.ipAddress, port: v.ports[0]! }, hl7Servers(v)));
        expect([...hosts].sort(), v.label).toEqual(['CORE1', 'CORE2']);
      }
    });

    it("marks a server down when the service its check follows stops, and moves that VIP's traffic to the other server", async () => {
      const dicom = vip(2);
      const withoutXero = vip(21);
      await Promise.all([backends.service('127.0.50.11', 104).stop(), backends.service('127.0.50.21', 80).stop()]);
      try {
        // The health page reports the stopped DICOM service; the HTTPS check of VIP 21 asks about port 80.
        await waitForHealth(client, { 'CoreServerDICOM-104': { CORE1: 'down', CORE2: 'up' }, 'WebServer-withoutXero': { WEB1: 'down', WEB2: 'up' } });
        // Only those VIPs lose the server: the others on the same hosts keep it.
        await waitForHealth(client, { 'CoreServerClient-80': { CORE1: 'up' }, 'CoreServerDICOM-110': { CORE1: 'up' }, 'WebServer-withXero': { WEB1: 'up' } }, 5_000);
        for (let i = 0; i < 2; i++) expect((await storeStudyThrough({ address: dicom.ipAddress, port: 104 }, dicomServers(dicom), 2)).host).toBe('CORE2');
        for (let i = 0; i < 3; i++) expect((await httpGet(withoutXero.ipAddress, 80, '/')).viewer?.server).toBe('agfa-web2');
      } finally {
        await Promise.all([backends.service('127.0.50.11', 104).start(), backends.service('127.0.50.21', 80).start()]);
      }
      await waitForHealth(client, { 'CoreServerDICOM-104': { CORE1: 'up' }, 'WebServer-withoutXero': { WEB1: 'up' } });
    });

    it('destroy leaves the appliance empty', async () => {
      await way.destroy();
      await way.dispose();
      const config = await client.getConfig();
      expect([config.virtualServices, config.realServers, config.certificates]).toEqual([{}, {}, {}]);
    });
  });
}
