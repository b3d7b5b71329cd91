// Runs the real terraform against bin/terraform-provider-lbappliance: a working directory
// per test file, a CLI config whose dev_overrides point at bin/ (no registry, no init) or
// whose filesystem mirror holds only our provider (init without a registry), and a helper
// per command. Steps chain in one directory, like a user's workflow.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import type { ApplianceClient } from '../../../openapi/sdk/index.js';
import { ROOT } from '../../helpers/paths.js';
import { startTestAppliance, type TestAppliance, type TestApplianceOptions } from '../../helpers/appliance-process.js';

/** The terraform binary the tests use. */
export const TERRAFORM = process.env.TERRAFORM_BIN ?? 'terraform';

/** What a terraform command printed and how it exited. */
export interface TfResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout and stderr together. */
  output: string;
}

/** A terraform working directory bound to one appliance. */
export interface TfWorkspace {
  dir: string;
  /** Writes main.tf: the provider block (unless `provider: false`) and the given HCL. */
  write(hcl: string, options?: { provider?: boolean }): Promise<void>;
  /** Runs terraform with the arguments (adds -no-color and -input=false where they apply). */
  run(args: string[], env?: Record<string, string>): Promise<TfResult>;
  /** `terraform apply -auto-approve`. */
  apply(extra?: string[], env?: Record<string, string>): Promise<TfResult>;
  /** `terraform plan -detailed-exitcode` (0 no changes, 2 changes, 1 error). */
  plan(extra?: string[], env?: Record<string, string>): Promise<TfResult>;
  /** `terraform destroy -auto-approve`. */
  destroy(env?: Record<string, string>): Promise<TfResult>;
  /** The state file's text ('' when none). */
  stateText(): Promise<string>;
  /** The attributes of a resource instance in the state (`lbappliance_virtual_service.a`). */
  attributes(address: string): Promise<Record<string, unknown> | undefined>;
  dispose(): Promise<void>;
}

/** The provider block for an appliance. */
export function providerBlock(app: TestAppliance): string {
  return `provider "lbappliance" {
  endpoint = "${app.endpoint}"
  password = "${app.password}"
  insecure = true
}
`;
}

const REQUIRED = `terraform {
  required_providers {
    lbappliance = { source = "lbappliance/lbappliance" }
  }
}
`;

/** Where terraform finds the provider: bin/ as a development override (no `terraform init`), or a filesystem mirror (with init and a lock file). */
export type Installation = 'dev_overrides' | 'mirror';

const SOURCE = 'registry.terraform.io/lbappliance/lbappliance';

/** Lays out a filesystem mirror whose only provider is a link to bin/terraform-provider-lbappliance. */
async function mirror(dir: string): Promise<string> {
  const version = (JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  const platform = `linux_${process.arch === 'x64' ? 'amd64' : process.arch}`;
  const target = join(dir, 'mirror', SOURCE, version, platform);
  await mkdir(target, { recursive: true });
  await symlink(join(ROOT, 'bin', 'terraform-provider-lbappliance'), join(target, `terraform-provider-lbappliance_v${version}`));
  return join(dir, 'mirror');
}

let checked: Promise<void> | undefined;
/** Fails once, clearly, when there is no terraform to run (these tests need the real one). */
function requireTerraform(): Promise<void> {
  checked ??= new Promise((resolve, reject) =>
    execFile(TERRAFORM, ['version'], { env: { ...process.env, CHECKPOINT_DISABLE: '1' } }, (err) =>
      err ? reject(new Error(`cannot run terraform (${TERRAFORM}): ${err.message}. These tests need terraform 1.11 or later on PATH, or TERRAFORM_BIN.`)) : resolve(),
    ),
  );
  return checked;
}

/** Makes a working directory whose terraform finds the provider in bin/ and asks no registry. */
export async function createWorkspace(app: TestAppliance | null, installation: Installation = 'dev_overrides'): Promise<TfWorkspace> {
  await requireTerraform();
  const dir = await mkdtemp(join(tmpdir(), 'lbappliance-tf-'));
  const cliConfig = join(dir, 'cli.tfrc');
  const block =
    installation === 'dev_overrides'
      ? `  dev_overrides {\n    "${SOURCE}" = "${join(ROOT, 'bin')}"\n  }\n  direct {}\n`
      : `  filesystem_mirror {\n    path    = "${await mirror(dir)}"\n    include = ["${SOURCE}"]\n  }\n  direct {\n    exclude = ["${SOURCE}"]\n  }\n`;
  await writeFile(cliConfig, `provider_installation {\n${block}}\n`);
  const baseEnv: Record<string, string> = {
    TF_CLI_CONFIG_FILE: cliConfig,
    CHECKPOINT_DISABLE: '1',
    TF_IN_AUTOMATION: '1',
    TF_INPUT: '0',
    TF_DATA_DIR: join(dir, '.terraform'),
  };
  const run = (args: string[], env: Record<string, string> = {}): Promise<TfResult> =>
    new Promise((resolve) => {
      const childEnv: NodeJS.ProcessEnv = { ...process.env, ...baseEnv, ...env };
      for (const k of Object.keys(childEnv)) if (k.startsWith('LBAPPLIANCE_') && !(k in env)) delete childEnv[k];
      execFile(TERRAFORM, args, { cwd: dir, env: childEnv, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
        resolve({ code, stdout, stderr, output: `${stdout}\n${stderr}` });
      });
    });
  const self: TfWorkspace = {
    dir,
    async write(hcl, options = {}) {
      await writeFile(join(dir, 'main.tf'), `${REQUIRED}${options.provider === false || !app ? '' : providerBlock(app)}${hcl}\n`);
    },
    run,
    apply: (extra = [], env) => run(['apply', '-auto-approve', '-no-color', '-input=false', ...extra], env),
    plan: (extra = [], env) => run(['plan', '-detailed-exitcode', '-no-color', '-input=false', ...extra], env),
    destroy: (env) => run(['destroy', '-auto-approve', '-no-color', '-input=false'], env),
    async stateText() {
      return readFile(join(dir, 'terraform.tfstate'), 'utf8').catch(() => '');
    },
    async attributes(address) {
      const text = await self.stateText();
      if (!text) return undefined;
      const state = JSON.parse(text) as { resources: { mode: string; type: string; name: string; instances: { attributes: Record<string, unknown> }[] }[] };
      const [type, name] = address.split('.');
      return state.resources.find((r) => r.mode === 'managed' && r.type === type && r.name === name)?.instances[0]?.attributes;
    },
    async dispose() {
      await rm(dir, { recursive: true, force: true });
    },
  };
  return self;
}

/** Fails with terraform's output when a command did not exit as expected. */
export function expectCode(result: TfResult, code: number, what: string): void {
  if (result.code !== code) throw new Error(`${what}: terraform exited ${result.code}, expected ${code}\n${result.output}`);
}

/** What a test file shares: one appliance, an SDK client for it, one terraform working directory. */
export interface ApplianceWorkspace {
  app: TestAppliance;
  client: ApplianceClient;
  tf: TfWorkspace;
}

/** Starts an appliance and a working directory for the whole file (beforeAll) and removes both afterwards (afterAll). */
export function applianceWorkspace(installation: Installation = 'dev_overrides', appliance: () => Promise<TestApplianceOptions> | TestApplianceOptions = () => ({})): ApplianceWorkspace {
  const ctx = {} as ApplianceWorkspace;
  beforeAll(async () => {
    ctx.app = await startTestAppliance(await appliance());
    ctx.client = ctx.app.client();
    ctx.tf = await createWorkspace(ctx.app, installation);
  });
  afterAll(async () => {
    await ctx.tf?.dispose();
    await ctx.app?.dispose();
  });
  return ctx;
}
