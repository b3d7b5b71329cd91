// The four ways an example is deployed, each driven as its user would drive it, in a
// temporary directory (no state in the repository): terraform on the example's HCL, the
// CDKTF app synthesised by node and applied by terraform, the SDK script run by node, and
// the Pulumi program run by the SDK's language-host entry against the test engine
// (test/pulumi/engine), which drives the real plugin. Each answers the same
// questions: deploy, what would change now, destroy.
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { TestAppliance } from '../../helpers/appliance-process.js';
import { ROOT } from '../../helpers/paths.js';
import { createWorkspace, expectCode } from '../../terraform/helpers/terraform.js';
import { applianceEnv, run } from './env.js';
import { TestPulumiEngine } from '../../pulumi/engine/index.js';

/** One way of deploying an example. */
export interface DeployWay {
  name: 'terraform' | 'cdktf' | 'sdk' | 'pulumi';
  deploy(): Promise<void>;
  /** What a second plan / preview / run would change (empty: nothing). */
  pendingChanges(): Promise<string[]>;
  destroy(): Promise<void>;
  dispose(): Promise<void>;
}

/** What an example's ways are deployed with, beyond its local plan files. */
export interface ExampleInputs {
  example: 'terarecon' | 'agfa' | 'insignia';
  app: TestAppliance;
  /** Variables beyond local.tfvars (terraform and CDKTF), e.g. the certificate files. */
  tfVars?: Record<string, string>;
  /** Settings beyond sdk.settings.local.json. */
  sdkSettings?: Record<string, unknown>;
  /** Stack config beyond Pulumi.local.yaml. */
  pulumiConfig?: Record<string, unknown>;
}

const exampleDir = (example: string) => join(ROOT, 'examples', example);
const varArgs = (vars: Record<string, string> = {}) => Object.entries(vars).map(([k, v]) => `-var=${k}=${v}`);

// Resource addresses a plan would touch (`  # lbappliance_x.y will be created`).
function plannedChanges(output: string): string[] {
  return [...output.matchAll(/^\s*# (\S+) (?:will be|must be) (.+)$/gm)].map((m) => `${m[1]}: ${m[2]}`);
}

/** The example's HCL, copied to a working directory with its local.tfvars. */
export async function terraformWay(inputs: ExampleInputs): Promise<DeployWay> {
  const ws = await createWorkspace(null, 'dev_overrides');
  const src = join(exampleDir(inputs.example), 'terraform');
  for (const f of await readdir(src)) if (f.endsWith('.tf') || f === 'local.tfvars') await copyFile(join(src, f), join(ws.dir, f));
  const env = applianceEnv(inputs.app);
  const vars = ['-var-file=local.tfvars', ...varArgs(inputs.tfVars)];
  return {
    name: 'terraform',
    async deploy() {
      expectCode(await ws.run(['apply', '-auto-approve', '-no-color', '-input=false', ...vars], env), 0, 'terraform apply');
    },
    async pendingChanges() {
      const r = await ws.run(['plan', '-detailed-exitcode', '-no-color', '-input=false', ...vars], env);
      if (r.code === 1) throw new Error(`terraform plan failed:\n${r.output}`);
      return r.code === 0 ? [] : plannedChanges(r.output);
    },
    async destroy() {
      expectCode(await ws.run(['destroy', '-auto-approve', '-no-color', '-input=false', ...vars], env), 0, 'terraform destroy');
    },
    dispose: () => ws.dispose(),
  };
}

/** The CDKTF app, synthesised by node into a working directory and applied there by terraform (init from a filesystem mirror). */
export async function cdktfWay(inputs: ExampleInputs): Promise<DeployWay> {
  const ws = await createWorkspace(null, 'mirror');
  const outdir = join(ws.dir, 'cdktf.out');
  const synth = await run(process.execPath, [join(ROOT, 'dist', 'examples', inputs.example, 'cdktf', 'main.js')], { cwd: ws.dir, env: { CDKTF_OUTDIR: outdir } });
  if (synth.code !== 0) throw new Error(`cdktf synth failed:\n${synth.output}`);
  const chdir = `-chdir=${join(outdir, 'stacks', inputs.example)}`;
  const env = applianceEnv(inputs.app);
  const vars = [`-var-file=${join(exampleDir(inputs.example), 'terraform', 'local.tfvars')}`, ...varArgs(inputs.tfVars)];
  expectCode(await ws.run([chdir, 'init', '-no-color', '-input=false'], env), 0, 'terraform init of the CDKTF stack');
  return {
    name: 'cdktf',
    async deploy() {
      expectCode(await ws.run([chdir, 'apply', '-auto-approve', '-no-color', '-input=false', ...vars], env), 0, 'terraform apply of the CDKTF stack');
    },
    async pendingChanges() {
      const r = await ws.run([chdir, 'plan', '-detailed-exitcode', '-no-color', '-input=false', ...vars], env);
      if (r.code === 1) throw new Error(`terraform plan failed:\n${r.output}`);
      return r.code === 0 ? [] : plannedChanges(r.output);
    },
    async destroy() {
      expectCode(await ws.run([chdir, 'destroy', '-auto-approve', '-no-color', '-input=false', ...vars], env), 0, 'terraform destroy of the CDKTF stack');
    },
    dispose: () => ws.dispose(),
  };
}

/** The SDK script, run by node on a settings file (the local one, with the given overrides). */
export async function sdkWay(inputs: ExampleInputs): Promise<DeployWay> {
  const dir = await mkdtemp(join(tmpdir(), 'lbappliance-sdk-'));
  const local = JSON.parse(await readFile(join(exampleDir(inputs.example), 'sdk.settings.local.json'), 'utf8')) as Record<string, unknown>;
  const settings = join(dir, 'settings.json');
  await writeFile(settings, JSON.stringify({ ...local, ...inputs.sdkSettings }, null, 2));
  const script = join(ROOT, 'dist', 'examples', inputs.example, 'sdk.js');
  const env = applianceEnv(inputs.app);
  const sdk = async (...args: string[]) => {
    const r = await run(process.execPath, [script, settings, ...args], { cwd: dir, env });
    if (r.code !== 0) throw new Error(`sdk.js ${args.join(' ')} failed:\n${r.output}`);
    return r.output;
  };
  return {
    name: 'sdk',
    deploy: async () => void (await sdk()),
    pendingChanges: async () => (await sdk('--plan')).split('\n').filter((l) => l.startsWith('would ')),
    destroy: async () => void (await sdk('--destroy')),
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}

/** The Pulumi program with Pulumi.local.yaml (and overrides) as stack config, through the test engine and the real plugin. */
export async function pulumiWay(inputs: ExampleInputs): Promise<DeployWay> {
  const dir = join(exampleDir(inputs.example), 'pulumi');
  const stack = parse(await readFile(join(dir, 'Pulumi.local.yaml'), 'utf8')) as { config: Record<string, unknown> };
  const stateDir = await mkdtemp(join(tmpdir(), 'lbappliance-pulumi-state-'));
  const engine = await TestPulumiEngine.open({ projectDir: dir, stateDir, stack: 'local' });
  for (const [k, v] of Object.entries({ ...stack.config, ...inputs.pulumiConfig })) engine.setConfig(k, v, { secret: /password/i.test(k) });
  // The appliance as the README's `pulumi config set` lines give it: the default provider's config.
  engine.setConfig('lbappliance:endpoint', inputs.app.endpoint);
  engine.setConfig('lbappliance:password', inputs.app.password, { secret: true });
  engine.setConfig('lbappliance:insecure', 'true');
  return {
    name: 'pulumi',
    deploy: async () => void (await engine.up()),
    // The package's custom resources that would change (the stack, components and providers left out, as the other ways have none).
    pendingChanges: async () =>
      (await engine.preview()).changes.filter((s) => s.custom && s.type.startsWith('lbappliance:')).map((s) => (s.diffs.length && s.op !== 'create' ? `${s.name}: ${s.op} ${s.diffs.join(', ')}` : `${s.name}: ${s.op}`)),
    destroy: async () => void (await engine.destroy()),
    async dispose() {
      await engine.stop();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}

/** Every way, in the order the suites run them. */
export const WAYS = [terraformWay, cdktfWay, sdkWay, pulumiWay] as const;
