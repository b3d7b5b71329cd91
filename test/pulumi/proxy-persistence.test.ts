// The PROXY protocol and persistence settings of issue 15 (items 2 and 3) through the test
// engine (test/pulumi/engine) and the real plugin: a program sets sendProxy, acceptProxy and
// persistence.sourceIpFallback with prefix lengths; up stores them, a changed setting previews
// as an update of the VIP alone, and a combination the shared rules refuse fails the preview
// with the rule's message and leaves the appliance as it was. Addresses 127.0.246.120-139.
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApplianceClient } from '../../openapi/sdk/index.js';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';
import { TestPulumiEngine } from './engine/index.js';
import { writeProject } from './scenarios/project.js';

const PROGRAM = `import * as pulumi from '@pulumi/pulumi';
import * as lb from 'lbappliance/pulumi';

const config = new pulumi.Config();
new lb.VirtualService('pacs', {
  label: 'pu-proxy', ipAddress: '127.0.246.120', ports: [8080], protocol: 'http',
  sendProxy: config.get('sendProxy') ?? 'v2',
  acceptProxy: true,
  persistence: {
    mode: config.get('mode') ?? 'http-cookie',
    sourceIpFallback: true,
    ipv4PrefixLength: config.getNumber('ipv4') ?? 24,
    ipv6PrefixLength: 64,
  },
});
`;

let app: TestAppliance;
let client: ApplianceClient;
let engine: TestPulumiEngine;
let dir: string;

const brief = (r: { changes: { name: string; op: string }[] }) => r.changes.map((c) => `${c.name}: ${c.op}`).sort();
const vip = async () => (await client.listVirtualServices({ query: { label: 'pu-proxy' } })).items[0];

beforeAll(async () => {
  app = await startTestAppliance();
  client = app.client();
  dir = await writeProject('lbappliance-proxy', PROGRAM);
  engine = await TestPulumiEngine.open({ projectDir: dir, stateDir: `${dir}/.state` });
  engine.setConfig('lbappliance:endpoint', app.endpoint);
  engine.setConfig('lbappliance:password', app.password, { secret: true });
  engine.setConfig('lbappliance:insecure', 'true');
}, 120_000);

afterAll(async () => {
  await engine?.stop();
  await app?.dispose();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('PROXY protocol and persistence through the test engine', () => {
  it('up stores the new settings', async () => {
    await engine.up();
    expect(await vip()).toMatchObject({ sendProxy: 'v2', acceptProxy: true, persistence: { mode: 'http-cookie', sourceIpFallback: true, ipv4PrefixLength: 24, ipv6PrefixLength: 64 } });
    expect(brief(await engine.preview())).toEqual([]);
  }, 120_000);

  it('a changed PROXY version and prefix length preview as an update of the VIP, and up applies them', async () => {
    engine.setConfig('sendProxy', 'v1');
    engine.setConfig('ipv4', '16');
    expect(brief(await engine.preview())).toEqual(['pacs: update']);
    await engine.up();
    expect(await vip()).toMatchObject({ sendProxy: 'v1', persistence: { ipv4PrefixLength: 16 } });
  }, 120_000);

  it('a source-IP fallback without http-cookie fails the preview with the shared rule, changing nothing', async () => {
    const before = await client.getConfig();
    engine.setConfig('mode', 'source-ip');
    await expect(engine.preview()).rejects.toThrow(/sourceIpFallback backs up a persistence cookie/);
    engine.setConfig('mode', 'http-cookie');
    engine.setConfig('sendProxy', 'v3');
    await expect(engine.preview()).rejects.toThrow(/sendProxy/);
    expect(await client.getConfig()).toEqual(before);
    engine.setConfig('sendProxy', 'v1');
    await engine.destroy();
    expect(await vip()).toBeUndefined();
  }, 120_000);
});
