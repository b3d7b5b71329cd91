// The bindings from the projects users start with: a CommonJS CDKTF app in the shape
// `cdktf init --template typescript` makes (module CommonJS, no moduleResolution, so
// TypeScript's node10 resolution, which ignores package exports) and a CommonJS Pulumi
// program in the shape of `pulumi new typescript` (module commonjs, moduleResolution node),
// plus the same two as ES modules (NodeNext). Each is compiled by tsc against the package as
// installed (node_modules/lbappliance) and run by node: the CDKTF app synthesises its stack,
// the Pulumi program registers its resources (under the SDK's mocks, preloaded with -r).
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/paths.js';

let dir: string;

function run(file: string, args: string[], cwd: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) =>
    execFile(file, args, { cwd, timeout: 180_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, output: `${stdout}${stderr}` }),
    ),
  );
}

const tsc = (cwd: string) => run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', cwd], cwd);

/** A project directory whose node_modules has this package (as installed) and the peers it needs. */
async function project(name: string, packageJson: object, tsconfig: object, files: Record<string, string>): Promise<string> {
  const p = join(dir, name);
  await mkdir(join(p, 'node_modules', '@pulumi'), { recursive: true });
  await mkdir(join(p, 'node_modules', '@types'), { recursive: true });
  await symlink(ROOT, join(p, 'node_modules', 'lbappliance'));
  for (const dep of ['cdktf', 'constructs']) await symlink(join(ROOT, 'node_modules', dep), join(p, 'node_modules', dep));
  await symlink(join(ROOT, 'node_modules', '@pulumi', 'pulumi'), join(p, 'node_modules', '@pulumi', 'pulumi'));
  await symlink(join(ROOT, 'node_modules', '@types', 'node'), join(p, 'node_modules', '@types', 'node'));
  await writeFile(join(p, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true, ...packageJson }, null, 2));
  await writeFile(join(p, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
  for (const [f, text] of Object.entries(files)) await writeFile(join(p, f), text);
  return p;
}

// `cdktf init --template typescript`: package.json without "type", tsconfig module CommonJS.
const CDKTF_CJS_TSCONFIG = {
  compilerOptions: {
    alwaysStrict: true, declaration: true, experimentalDecorators: true, lib: ['es2018'], module: 'CommonJS', noEmitOnError: true,
    noImplicitAny: true, noImplicitReturns: true, noUnusedLocals: true, strict: true, target: 'ES2018', skipLibCheck: true, types: ['node'],
  },
  include: ['**/*.ts'],
  exclude: ['node_modules', 'cdktf.out'],
};
// `pulumi new typescript`: module commonjs, moduleResolution node.
const PULUMI_CJS_TSCONFIG = {
  compilerOptions: { strict: true, outDir: 'bin', target: 'es2020', module: 'commonjs', moduleResolution: 'node', experimentalDecorators: true, noImplicitReturns: true, skipLibCheck: true, types: ['node'] },
  files: ['index.ts'],
};
const ESM_TSCONFIG = { compilerOptions: { strict: true, target: 'es2022', module: 'NodeNext', moduleResolution: 'NodeNext', skipLibCheck: true, types: ['node'], outDir: 'bin' }, files: ['index.ts'] };

function cdktfApp(importLine: string): string {
  return `${importLine}

class Imaging extends TerraformStack {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    new provider.LbapplianceProvider(this, 'lbappliance', {});
    const aqi = new virtualService.VirtualService(this, 'aqi', { label: 'AVS-AQI', ipAddress: '10.10.40.217', ports: [1200], protocol: 'tcp', persistence: { mode: 'source-ip' } });
    new realServer.RealServer(this, 'server1', { virtualServiceId: aqi.id, label: 'SERVER1', address: '10.10.40.6', port: 1200 });
  }
}

const app = new App({ outdir: 'cdktf.out' });
new Imaging(app, 'imaging');
app.synth();
`;
}

function pulumiProgram(importLine: string): string {
  return `${importLine}

const aqi = new lb.VirtualService('aqi', { label: 'AVS-AQI', ipAddress: '10.10.40.217', ports: [1200], protocol: 'tcp', persistence: { mode: 'source-ip' } });
new lb.RealServer('aqi-1', { virtualServiceId: aqi.id, label: 'SERVER1', address: '10.10.40.6', port: 1200 });
export const vipId = aqi.id;
`;
}

// Preloaded with -r: the Pulumi SDK's mocks, which print every resource the program registers.
const MOCKS_CJS = `const pulumi = require('@pulumi/pulumi');
pulumi.runtime.setMocks({
  newResource: (args) => { console.log('registered ' + args.type + ' ' + args.name); return { id: args.name + '-id', state: args.inputs }; },
  call: () => ({}),
}, 'imaging', 'dev', false);
`;

async function synthesised(p: string): Promise<Record<string, Record<string, unknown>>> {
  const stack = JSON.parse(await readFile(join(p, 'cdktf.out', 'stacks', 'imaging', 'cdk.tf.json'), 'utf8')) as { resource: Record<string, Record<string, unknown>> };
  return stack.resource;
}

beforeAll(async () => {
  // The CommonJS build is part of `npm run build`; the suites' global setup builds only the ESM one.
  const built = await run(process.execPath, [join(ROOT, 'scripts/build-cjs.mjs')], ROOT);
  expect(built.code, built.output).toBe(0);
  dir = await mkdtemp(join(tmpdir(), 'lbappliance-formats-'));
}, 240_000);
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the bindings from a CommonJS project', () => {
  it('compiles and synthesises a CDKTF app made by cdktf init --template typescript', async () => {
    const p = await project('cdktf-cjs', { main: 'main.js', types: 'main.ts', scripts: { build: 'tsc' } }, CDKTF_CJS_TSCONFIG, {
      'main.ts': cdktfApp("import { Construct } from 'constructs';\nimport { App, TerraformStack } from 'cdktf';\nimport { provider, realServer, virtualService } from 'lbappliance/cdktf';"),
    });
    const compiled = await tsc(p);
    expect(compiled.code, compiled.output).toBe(0);
    expect(await readFile(join(p, 'main.js'), 'utf8')).toContain('require("lbappliance/cdktf")');
    const ran = await run(process.execPath, ['main.js'], p);
    expect(ran.code, ran.output).toBe(0);
    const resources = await synthesised(p);
    expect(Object.keys(resources).sort()).toEqual(['lbappliance_real_server', 'lbappliance_virtual_service']);
    expect(Object.values(resources.lbappliance_virtual_service!)[0]).toMatchObject({ label: 'AVS-AQI', ip_address: '10.10.40.217', ports: [1200] });
  }, 180_000);

  it('compiles and runs a Pulumi program made by pulumi new typescript', async () => {
    const p = await project('pulumi-cjs', { main: 'bin/index.js' }, PULUMI_CJS_TSCONFIG, {
      'index.ts': pulumiProgram("import * as lb from 'lbappliance/pulumi';"),
      'mocks.js': MOCKS_CJS,
    });
    const compiled = await tsc(p);
    expect(compiled.code, compiled.output).toBe(0);
    expect(await readFile(join(p, 'bin', 'index.js'), 'utf8')).toContain('require("lbappliance/pulumi")');
    const ran = await run(process.execPath, ['-r', './mocks.js', 'bin/index.js'], p);
    expect(ran.code, ran.output).toBe(0);
    expect(ran.output).toContain('registered lbappliance:index:VirtualService aqi');
    expect(ran.output).toContain('registered lbappliance:index:RealServer aqi-1');
  }, 180_000);

  it('requires the SDK from plain CommonJS JavaScript', async () => {
    const p = await project('sdk-cjs', {}, {}, {
      'probe.js': "const { ApplianceClient, ConflictError, DEFAULT_USERNAME } = require('lbappliance/sdk');\nconsole.log(typeof ApplianceClient, typeof ConflictError, DEFAULT_USERNAME);\n",
    });
    const ran = await run(process.execPath, ['probe.js'], p);
    expect(ran.output.trim()).toBe('function function loadbalancer');
  });
});

describe('the bindings from an ES module project', () => {
  it('compiles and synthesises a CDKTF app, and runs a Pulumi program (NodeNext)', async () => {
    const c = await project('cdktf-esm', { type: 'module' }, ESM_TSCONFIG, {
      'index.ts': cdktfApp("import { Construct } from 'constructs';\nimport { App, TerraformStack } from 'cdktf';\nimport { provider, realServer, virtualService } from 'lbappliance/cdktf';"),
    });
    const compiled = await tsc(c);
    expect(compiled.code, compiled.output).toBe(0);
    const ran = await run(process.execPath, ['bin/index.js'], c);
    expect(ran.code, ran.output).toBe(0);
    expect(Object.keys(await synthesised(c)).sort()).toEqual(['lbappliance_real_server', 'lbappliance_virtual_service']);

    const p = await project('pulumi-esm', { type: 'module' }, ESM_TSCONFIG, { 'index.ts': pulumiProgram("import * as lb from 'lbappliance/pulumi';"), 'mocks.cjs': MOCKS_CJS });
    const built = await tsc(p);
    expect(built.code, built.output).toBe(0);
    const out = await run(process.execPath, ['-r', './mocks.cjs', 'bin/index.js'], p);
    expect(out.code, out.output).toBe(0);
    expect(out.output).toContain('registered lbappliance:index:RealServer aqi-1');
  }, 240_000);
});
