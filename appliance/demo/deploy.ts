// How the demo deploys the TeraRecon example: with the Terraform provider, as the example's
// README tells a user (its HCL copied to a working directory, the provider found in bin/
// through a development override, the appliance given in LBAPPLIANCE_* variables); or, where
// there is no terraform on PATH, with the example's SDK script, and the demo says so.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFile, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ApplianceClient } from '../../openapi/sdk/index.js';
import { converge } from '../../examples/converge/converge.js';
import { loadSettings, teraRecon } from '../../examples/terarecon/sdk.js';

/** The repository (or installed package) root, where bin/ and examples/ are. */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The example deployed. */
const EXAMPLE = join(ROOT, 'examples', 'terarecon');
const SOURCE = 'registry.terraform.io/lbappliance/lbappliance';

/** The terraform command, when one runs here. */
export function findTerraform(): Promise<string | undefined> {
  const bin = process.env.TERRAFORM_BIN ?? 'terraform';
  return new Promise((resolve) => execFile(bin, ['version'], { env: { ...process.env, CHECKPOINT_DISABLE: '1' } }, (err) => resolve(err ? undefined : bin)));
}

/** A deployment in progress, which Ctrl-C may have to stop. */
export interface Deploying {
  child?: ChildProcess;
}

/** Moves an address of the example's loopback plan (identity unless the demo runs on another network). */
export type Relocate = (address: string) => string;

/** Copies a plan file, moving every loopback address in it. */
async function copyPlan(from: string, to: string, move: Relocate): Promise<void> {
  await writeFile(to, (await readFile(from, 'utf8')).replace(/127\.\d+\.\d+\.\d+/g, move));
}

/** Runs `terraform apply` on the TeraRecon HCL and local.tfvars in `workDir` (the certificate files are already there). */
export async function deployWithTerraform(terraform: string, workDir: string, appliance: Record<string, string>, state: Deploying, log: (line: string) => void, move: Relocate = (a) => a): Promise<void> {
  const src = join(EXAMPLE, 'terraform');
  for (const f of await readdir(src)) if (f.endsWith('.tf')) await copyFile(join(src, f), join(workDir, f));
  await copyPlan(join(src, 'local.tfvars'), join(workDir, 'local.tfvars'), move);
  const cliConfig = join(workDir, 'lbappliance.tfrc');
  await writeFile(cliConfig, `provider_installation {\n  dev_overrides {\n    "${SOURCE}" = "${join(ROOT, 'bin')}"\n  }\n  direct {}\n}\n`);
  const env = { ...process.env, ...appliance, TF_CLI_CONFIG_FILE: cliConfig, TF_DATA_DIR: join(workDir, '.terraform'), CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1' };
  await new Promise<void>((resolve, reject) => {
    // Terraform gets Ctrl-C from the terminal like the demo: it stops the apply cleanly.
    const child = spawn(terraform, ['apply', '-auto-approve', '-no-color', '-input=false', '-var-file=local.tfvars'], { cwd: workDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    state.child = child;
    let output = '';
    const collect = (d: Buffer) => {
      output += d.toString();
      for (const line of d.toString().split('\n')) if (/: Creation complete|^Apply complete/.test(line)) log(`  ${line.trim()}`);
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      state.child = undefined;
      if (code === 0) resolve();
      else reject(new Error(`terraform apply ${signal ? `stopped by ${signal}` : `exited ${code}`}:\n${output.split('\n').slice(-25).join('\n')}`));
    });
  });
}

/** Converges the appliance with the example's SDK script, from its local settings. */
export async function deployWithSdk(client: ApplianceClient, workDir: string, log: (line: string) => void, move: Relocate = (a) => a): Promise<void> {
  // The local settings name the certificate files relative to themselves: read them in workDir.
  const file = join(workDir, 'sdk.settings.json');
  await copyPlan(join(EXAMPLE, 'sdk.settings.local.json'), file, move);
  const settings = await loadSettings(file, workDir);
  await converge(client, teraRecon.desired(settings), teraRecon.ownership(settings), { onChange: (c) => log(`  ${c.action} ${c.kind} ${c.label}`) });
}
