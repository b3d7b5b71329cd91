// End to end under the real Pulumi CLI, whenever a `pulumi` binary is on PATH: a small
// program on the SDK (a certificate, a VIP and a server) with the plugin found through the
// project's `plugins.providers` path, on a local file backend: `pulumi up`, `pulumi preview`
// expecting no changes, `pulumi refresh` after a change made out of band, and `pulumi
// destroy` leaving the appliance empty. Without the CLI every step reports itself skipped.
import { execFile, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApplianceClient } from '../../openapi/sdk/index.js';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';
import { ROOT } from '../helpers/paths.js';

const PULUMI = process.env.PULUMI_BIN ?? 'pulumi';
const hasPulumi = spawnSync(PULUMI, ['version'], { stdio: 'ignore' }).status === 0;
const SKIPPED = hasPulumi ? '' : ' (skipped: no pulumi CLI on PATH)';

const PROGRAM = `import * as pulumi from '@pulumi/pulumi';
import * as lb from 'lbappliance/pulumi';

const config = new pulumi.Config();
const cert = new lb.Certificate('avs-tls', { label: 'cli-avs-tls', selfSigned: { commonName: 'avs.hospital.test' } });
const vs = new lb.VirtualService('avs-aqi', {
  label: 'cli-AVS-AQI',
  ipAddress: '127.0.80.200',
  ports: [1200],
  protocol: 'tcp',
  persistence: { mode: 'source-ip' },
  timeouts: { client: 92, server: 93 },
});
new lb.RealServer('server1', { virtualServiceId: vs.id, label: 'SERVER1', address: '127.0.80.206', port: config.getNumber('serverPort') ?? 1200 });
export const vipId = vs.id;
export const fingerprint = cert.fingerprintSha256;
`;

let app: TestAppliance;
let client: ApplianceClient;
let dir: string;

function pulumi(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      PULUMI,
      [...args, '--non-interactive', '--color', 'never'],
      {
        cwd: dir,
        timeout: 180_000,
        maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, PULUMI_BACKEND_URL: `file://${join(dir, 'state')}`, PULUMI_HOME: join(dir, 'home'), PULUMI_CONFIG_PASSPHRASE: 'test-passphrase', PULUMI_SKIP_UPDATE_CHECK: 'true' },
      },
      (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) || 1 : 0, output: `${stdout}\n${stderr}` }),
    );
  });
}

async function ok(args: string[]): Promise<string> {
  const r = await pulumi(args);
  if (r.code !== 0) throw new Error(`pulumi ${args.join(' ')} exited ${r.code}:\n${r.output}`);
  return r.output;
}

beforeAll(async () => {
  if (!hasPulumi) return;
  app = await startTestAppliance();
  client = app.client();
  dir = await mkdtemp(join(tmpdir(), 'lbappliance-pulumi-cli-'));
  await mkdir(join(dir, 'node_modules', '@pulumi'), { recursive: true });
  await symlink(ROOT, join(dir, 'node_modules', 'lbappliance'));
  await symlink(join(ROOT, 'node_modules', '@pulumi', 'pulumi'), join(dir, 'node_modules', '@pulumi', 'pulumi'));
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'lbappliance-cli-test', type: 'module', main: 'index.js', dependencies: { lbappliance: '*', '@pulumi/pulumi': '*' } }));
  await writeFile(join(dir, 'Pulumi.yaml'), `name: lbappliance-cli-test\nruntime: nodejs\nplugins:\n  providers:\n    - name: lbappliance\n      path: ${join(ROOT, 'bin')}\n`);
  await writeFile(join(dir, 'index.js'), PROGRAM);
  await ok(['stack', 'init', 'dev']);
  await ok(['config', 'set', 'lbappliance:endpoint', app.endpoint]);
  await ok(['config', 'set', '--secret', 'lbappliance:password', app.password]);
  await ok(['config', 'set', 'lbappliance:insecure', 'true']);
}, 180_000);
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  await app?.dispose();
});

describe('the Pulumi CLI over the plugin', () => {
  it.skipIf(!hasPulumi)(`pulumi up creates the program's resources${SKIPPED}`, async () => {
    await ok(['up', '--yes', '--skip-preview']);
    const vs = (await client.listVirtualServices({ query: { label: 'cli-AVS-AQI' } })).items[0];
    expect(vs).toMatchObject({ ipAddress: '127.0.80.200', ports: [1200], timeouts: { client: 92, server: 93 } });
    expect((await client.listRealServers(vs!.id)).items).toMatchObject([{ label: 'SERVER1', port: 1200 }]);
    expect((await client.listCertificates()).items).toMatchObject([{ label: 'cli-avs-tls', source: 'selfSigned' }]);
  }, 180_000);

  it.skipIf(!hasPulumi)(`pulumi preview shows no changes right after${SKIPPED}`, async () => {
    await ok(['preview', '--expect-no-changes']);
  }, 180_000);

  it.skipIf(!hasPulumi)(`pulumi refresh picks up a change made out of band, and up undoes it${SKIPPED}`, async () => {
    const vs = (await client.listVirtualServices({ query: { label: 'cli-AVS-AQI' } })).items[0]!;
    await client.updateVirtualService(vs.id, { algorithm: 'leastconn' });
    await ok(['refresh', '--yes']);
    // The refreshed state holds leastconn; the program says roundrobin (the default).
    expect((await pulumi(['preview', '--expect-no-changes'])).code).not.toBe(0);
    await ok(['up', '--yes', '--skip-preview']);
    expect((await client.getVirtualService(vs.id)).algorithm).toBe('roundrobin');
  }, 180_000);

  it.skipIf(!hasPulumi)(`pulumi destroy leaves the appliance empty${SKIPPED}`, async () => {
    await ok(['destroy', '--yes', '--skip-preview']);
    expect((await client.listVirtualServices()).items).toEqual([]);
    expect((await client.listCertificates()).items).toEqual([]);
  }, 180_000);
});
