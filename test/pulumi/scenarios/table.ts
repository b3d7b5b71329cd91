// The Pulumi scenarios, one list for two drivers: the test engine (test/pulumi/engine, on
// the SDK's real RPC path) and the real `pulumi` CLI where one is on PATH. Each scenario is
// a step a user takes with the scenarios' program (project.ts) against a real appliance,
// in order, on one stack: up; a preview with nothing to do; a changed weight; the secret
// key; unknowns in a preview; an explicit provider; refresh after drift; import; destroy.
import { execFile } from 'node:child_process';
import { expect } from 'vitest';
import type { ApplianceClient } from '../../../openapi/sdk/index.js';
import type { TestAppliance } from '../../helpers/appliance-process.js';
import { LBAPPLIANCE_BIN } from '../../helpers/paths.js';
import type { TestCert } from '../../helpers/certs.js';
import { NET } from './project.js';

/** A step as a driver reports it. */
export interface Change {
  op: string;
  /** The resource's name (the last part of its URN). */
  name: string;
  type: string;
}

/** What a scenario drives: a stack of the scenarios' program. */
export interface PulumiDriver {
  name: 'engine' | 'cli';
  setConfig(key: string, value: string, secret?: boolean): Promise<void>;
  /** `pulumi up`: the steps that changed something. */
  up(): Promise<Change[]>;
  /** `pulumi preview`: the steps that would change something. */
  preview(): Promise<Change[]>;
  /** The inputs the program sent for a resource in the last preview (unknowns as the unknown string or `output<...>`). */
  previewedInputs(name: string): Promise<Record<string, unknown>>;
  /** `pulumi refresh`: the resources whose state changed. */
  refresh(): Promise<Change[]>;
  destroy(): Promise<void>;
  /** Everything the operations logged and printed. */
  logs(): Promise<string>;
  /** The state as stored (`pulumi stack export`). */
  stateDump(): Promise<string>;
}

/** The world a scenario runs in. */
export interface ScenarioContext {
  driver: PulumiDriver;
  /** The appliance of the default provider (stack config lbappliance:*). */
  app: TestAppliance;
  client: ApplianceClient;
  /** A second appliance, for the explicit provider. */
  other: TestAppliance;
  otherClient: ApplianceClient;
  cert: TestCert;
}

/** One scenario. */
export interface Scenario {
  name: string;
  run(ctx: ScenarioContext): Promise<void>;
}

const SECRET_WRAPPER = /"privateKeyPem":\s*\{\s*"4dabf18193072939515e22adb298388d":\s*"1b47061264138c4ac30d75fd1eb44270",\s*"ciphertext":/;
const UNKNOWN = '04da6b54-80e4-46f7-96ec-b56ff0331ba9';
const own = (changes: Change[]) => changes.filter((c) => c.type.startsWith('lbappliance:'));
const brief = (changes: Change[]) => changes.map((c) => `${c.name}: ${c.op}`).sort();

/** The stack config every driver starts with. */
export async function configureStack(ctx: ScenarioContext): Promise<void> {
  const d = ctx.driver;
  await d.setConfig('lbappliance:endpoint', ctx.app.endpoint);
  await d.setConfig('lbappliance:password', ctx.app.password, true);
  await d.setConfig('lbappliance:insecure', 'true');
  await d.setConfig('network', NET);
  await d.setConfig('certificatePem', ctx.cert.certPem);
  await d.setConfig('privateKeyPem', ctx.cert.keyPem, true);
}

function curl(app: TestAppliance, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const args = ['-sS', '-k', '--fail-with-body', '-u', `loadbalancer:${app.password}`, '-X', method, `${app.endpoint}${path}`];
  if (body !== undefined) args.push('-H', 'content-type: application/json', '--data', JSON.stringify(body));
  return new Promise((resolve, reject) =>
    execFile('curl', args, (err, stdout, stderr) => (err ? reject(new Error(`curl ${method} ${path}: ${stdout}${stderr}`)) : resolve(stdout ? (JSON.parse(stdout) as Record<string, unknown>) : {}))),
  );
}

function lbappliance(app: TestAppliance, args: string[]): Promise<string> {
  const env = { ...process.env, LBAPPLIANCE_ENDPOINT: app.endpoint, LBAPPLIANCE_PASSWORD: app.password, LBAPPLIANCE_INSECURE: 'true' };
  return new Promise((resolve, reject) =>
    execFile(process.execPath, [LBAPPLIANCE_BIN, ...args], { env }, (err, stdout, stderr) => (err ? reject(new Error(`lbappliance ${args.join(' ')}: ${stdout}${stderr}`)) : resolve(stdout))),
  );
}

async function vipByLabel(client: ApplianceClient, label: string) {
  return (await client.listVirtualServices({ query: { label } })).items[0];
}

/** The scenarios, in the order they run on one stack. */
export const SCENARIOS: Scenario[] = [
  {
    name: 'up creates the certificate, the VIP and its server (a component\'s children) through the default provider from stack config',
    async run({ driver, client }) {
      expect(brief(own(await driver.up()))).toEqual(['server1: create', 'aqi: create', 'tls: create'].sort());
      const vs = await vipByLabel(client, 'scn-aqi');
      expect(vs).toMatchObject({ ipAddress: `${NET}.10`, ports: [1200], protocol: 'tcp' });
      expect((await client.listRealServers(vs!.id)).items).toMatchObject([{ label: 'SERVER1', weight: 1 }]);
      expect((await client.listCertificates()).items).toMatchObject([{ label: 'scn-tls' }]);
    },
  },
  {
    name: 'a preview right after reports nothing to do',
    async run({ driver }) {
      expect(await driver.preview()).toEqual([]);
    },
  },
  {
    name: 'a changed weight previews as one update and up applies it',
    async run({ driver, client }) {
      await driver.setConfig('weight', '5');
      const planned = await driver.preview();
      expect(brief(planned)).toEqual(['server1: update']);
      const vs = (await vipByLabel(client, 'scn-aqi'))!;
      expect((await client.listRealServers(vs.id)).items[0]?.weight).toBe(1);
      expect(brief(own(await driver.up()))).toEqual(['server1: update']);
      expect((await client.listRealServers(vs.id)).items[0]?.weight).toBe(5);
      expect(await driver.preview()).toEqual([]);
    },
  },
  {
    name: 'the private key stays a secret end to end: encrypted in the state, never in the logs',
    async run({ driver, client, cert }) {
      const keyBody = cert.keyPem.split('\n').filter((l) => l && !l.startsWith('-----')).join('');
      const line = cert.keyPem.split('\n')[1]!;
      const state = await driver.stateDump();
      expect(state).toMatch(SECRET_WRAPPER);
      for (const text of [state, await driver.logs()]) {
        expect(text).not.toContain(line);
        expect(text.replace(/\\n|\s/g, '')).not.toContain(keyBody);
      }
      // The appliance has the key: the certificate it serves is the one configured.
      expect((await client.listCertificates()).items[0]?.fingerprintSha256).toBeTruthy();
    },
  },
  {
    name: 'a VIP whose address comes from another resource\'s output is unknown in the preview and set by up',
    async run({ driver, client }) {
      await driver.setConfig('chained', 'true');
      expect(brief(await driver.preview())).toEqual(['chained: create', 'front: create']);
      const inputs = await driver.previewedInputs('chained');
      expect([UNKNOWN, 'output<string>']).toContain(inputs.ipAddress);
      expect(brief(own(await driver.up()))).toEqual(['chained: create', 'front: create']);
      expect((await vipByLabel(client, 'scn-chained'))?.ipAddress).toBe(`${NET}.12`);
      expect(await driver.preview()).toEqual([]);
    },
  },
  {
    name: 'an explicit provider beside the default one deploys to its own appliance',
    async run({ driver, client, other, otherClient }) {
      await driver.setConfig('explicitEndpoint', other.endpoint);
      await driver.setConfig('explicitPassword', other.password, true);
      const changes = await driver.up();
      expect(brief(changes)).toEqual(['elsewhere: create', 'other-appliance: create']);
      expect((await otherClient.listVirtualServices()).items.map((v) => v.label)).toEqual(['scn-elsewhere']);
      expect(await vipByLabel(client, 'scn-elsewhere')).toBeUndefined();
      expect(await driver.preview()).toEqual([]);
      expect(await driver.logs()).not.toContain(other.password);
    },
  },
  {
    name: 'refresh shows drift made with the lbappliance CLI; up puts the program\'s setting back',
    async run({ driver, app, client }) {
      await lbappliance(app, ['halt', 'scn-aqi', 'SERVER1']);
      const vs = (await vipByLabel(client, 'scn-aqi'))!;
      expect((await client.listRealServers(vs.id)).items[0]?.adminState).toBe('halt');
      expect(brief(await driver.refresh())).toEqual(['server1: update']);
      expect(brief(await driver.preview())).toEqual(['server1: update']);
      await driver.up();
      expect((await client.listRealServers(vs.id)).items[0]?.adminState).toBe('online');
      expect(await driver.preview()).toEqual([]);
    },
  },
  {
    name: 'import adopts a VIP made with curl, unchanged, and a preview after shows nothing',
    async run({ driver, app, client }) {
      const made = await curl(app, 'POST', '/api/v1/virtual-services', { label: 'scn-adopted', ipAddress: `${NET}.14`, ports: [1204], protocol: 'tcp' });
      const revision = (await client.getConfig()).revision;
      await driver.setConfig('importId', String(made.id));
      expect(brief(own(await driver.up()))).toEqual(['adopted: import']);
      expect((await client.getConfig()).revision).toBe(revision);
      expect((await vipByLabel(client, 'scn-adopted'))?.id).toBe(made.id);
      expect(await driver.preview()).toEqual([]);
    },
  },
  {
    name: 'destroy leaves both appliances empty',
    async run({ driver, client, otherClient }) {
      await driver.destroy();
      for (const c of [client, otherClient]) {
        const config = await c.getConfig();
        expect([config.virtualServices, config.realServers, config.certificates]).toEqual([{}, {}, {}]);
      }
      expect(await driver.stateDump()).not.toContain('lbappliance:index:');
    },
  },
];
