// Resource options through the test engine, each as the SDK sends it and the engine's step
// generator treats it: ignoreChanges (a changed weight ignored), aliases (a renamed VIP kept,
// not replaced), deleteBeforeReplace (a server moved to another VIP deleted before it is
// created again), protect (destroy refused until the flag goes).
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApplianceClient } from '../../openapi/sdk/index.js';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';
import { TestPulumiEngine } from './engine/index.js';
import { writeProject } from './scenarios/project.js';

const NET = '127.0.221';

const PROGRAM = `import * as pulumi from '@pulumi/pulumi';
import * as lb from 'lbappliance/pulumi';

const config = new pulumi.Config();
const net = config.require('network');
const vipName = config.get('vipName') ?? 'vip';
const vip = new lb.VirtualService(vipName, { label: 'opt-vip', ipAddress: net + '.30', ports: [1300], protocol: 'tcp' }, { protect: config.getBoolean('protect') ?? false, aliases: vipName === 'vip' ? [] : [{ name: 'vip' }] });
const other = new lb.VirtualService('other', { label: 'opt-other', ipAddress: net + '.31', ports: [1301], protocol: 'tcp' });
new lb.RealServer('rs', {
  virtualServiceId: config.getBoolean('moveServer') ? other.id : vip.id,
  label: 'RS', address: net + '.40', port: 1300, weight: config.getNumber('weight') ?? 1,
}, { ignoreChanges: config.getBoolean('ignoreWeight') ? ['weight'] : [], deleteBeforeReplace: config.getBoolean('deleteBeforeReplace') });
`;

let app: TestAppliance;
let client: ApplianceClient;
let engine: TestPulumiEngine;
let dir: string;
let stateDir: string;

const brief = (r: { changes: { name: string; op: string }[] }) => r.changes.map((c) => `${c.name}: ${c.op}`).sort();
const serversOf = async (label: string) => {
  const vs = (await client.listVirtualServices({ query: { label } })).items[0]!;
  return (await client.listRealServers(vs.id)).items;
};

beforeAll(async () => {
  app = await startTestAppliance();
  client = app.client();
  dir = await writeProject('lbappliance-options', PROGRAM);
  stateDir = `${dir}/.state`;
  engine = await TestPulumiEngine.open({ projectDir: dir, stateDir });
  engine.setConfig('lbappliance:endpoint', app.endpoint);
  engine.setConfig('lbappliance:password', app.password, { secret: true });
  engine.setConfig('lbappliance:insecure', 'true');
  engine.setConfig('network', NET);
  await engine.up();
}, 120_000);

afterAll(async () => {
  await engine?.stop();
  await app?.dispose();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('resource options through the test engine', () => {
  it('ignoreChanges: a changed weight is neither previewed nor applied', async () => {
    engine.setConfig('ignoreWeight', 'true');
    engine.setConfig('weight', '7');
    expect(brief(await engine.preview())).toEqual([]);
    await engine.up();
    expect((await serversOf('opt-vip'))[0]?.weight).toBe(1);
  }, 120_000);

  it('aliases: a renamed VIP is the same resource, under its new URN', async () => {
    const before = (await client.listVirtualServices({ query: { label: 'opt-vip' } })).items[0]!.id;
    engine.setConfig('vipName', 'renamed');
    expect(brief(await engine.preview())).toEqual([]);
    await engine.up();
    const urns = engine.resources.map((r) => r.urn);
    expect(urns.some((u) => u.endsWith('::renamed'))).toBe(true);
    expect(urns.some((u) => u.endsWith('::vip'))).toBe(false);
    expect((await client.listVirtualServices({ query: { label: 'opt-vip' } })).items[0]!.id).toBe(before);
  }, 120_000);

  it('deleteBeforeReplace: a server moved to another VIP is replaced, deleted first', async () => {
    engine.setConfig('moveServer', 'true');
    engine.setConfig('deleteBeforeReplace', 'true');
    expect(brief(await engine.preview())).toEqual(['rs: replace']);
    const from = engine.calls.length;
    expect(brief(await engine.up())).toEqual(['rs: replace']);
    const rsCalls = engine.calls.slice(from).filter((c) => c.urn.endsWith('::rs') && (c.method === 'Create' || c.method === 'Delete')).map((c) => c.method);
    expect(rsCalls).toEqual(['Delete', 'Create']);
    expect(await serversOf('opt-vip')).toEqual([]);
    expect((await serversOf('opt-other')).map((s) => s.label)).toEqual(['RS']);
  }, 120_000);

  it('protect: destroy is refused while a resource is protected, and goes through once the flag is removed', async () => {
    engine.setConfig('protect', 'true');
    await engine.up();
    await expect(engine.destroy()).rejects.toThrow(/protected/);
    expect((await client.listVirtualServices()).items).toHaveLength(2);
    engine.setConfig('protect', 'false');
    await engine.up();
    await engine.destroy();
    expect((await client.listVirtualServices()).items).toEqual([]);
    expect(engine.resources).toEqual([]);
  }, 120_000);
});
