// Terraform working directories for the scale benchmark: one for lbappliance (the provider
// from bin/ as a development override, no registry) and one for Terraform's built-in
// `terraform_data` with the same graph, the floor that is Terraform's own cost.
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../../helpers/paths.js';

/** The terraform binary. */
export const TERRAFORM = process.env.TERRAFORM_BIN ?? 'terraform';

/** How one terraform command went. */
export interface TfRun {
  code: number;
  seconds: number;
  output: string;
}

/** A terraform working directory. */
export interface TfDir {
  dir: string;
  write(hcl: string): Promise<void>;
  run(args: string[]): Promise<TfRun>;
}

/**
 * A directory holding a `terraform-provider-lbappliance` that is the scale bench's stand-in
 * plugin (null-provider.ts: the plugin protocol and nothing else), started as bin/ starts the
 * real one.
 */
export async function nullPluginDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lbappliance-scale-null-'));
  const launcher = join(dir, 'terraform-provider-lbappliance');
  await writeFile(launcher, `#!/usr/bin/env node\nrequire('node:module').enableCompileCache?.();\nimport(${JSON.stringify(join(ROOT, 'dist', 'test', 'bench', 'scale', 'null-provider.js'))});\n`);
  await chmod(launcher, 0o755);
  return dir;
}

/** A working directory whose terraform finds bin/terraform-provider-lbappliance (or the one in `pluginDir`) and no registry. */
export async function tfDir(env: Record<string, string> = {}, pluginDir = join(ROOT, 'bin')): Promise<TfDir> {
  const dir = await mkdtemp(join(tmpdir(), 'lbappliance-scale-tf-'));
  const cliConfig = join(dir, 'cli.tfrc');
  await writeFile(cliConfig, `provider_installation {\n  dev_overrides {\n    "registry.terraform.io/lbappliance/lbappliance" = "${pluginDir}"\n  }\n  direct {}\n}\n`);
  const childEnv: NodeJS.ProcessEnv = { ...process.env, TF_CLI_CONFIG_FILE: cliConfig, CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1', TF_INPUT: '0', ...env };
  for (const k of Object.keys(childEnv)) if (k.startsWith('LBAPPLIANCE_') && !(k in env)) delete childEnv[k];
  return {
    dir,
    write: (hcl) => writeFile(join(dir, 'main.tf'), hcl),
    run: (args) =>
      new Promise((resolve) => {
        const started = performance.now();
        execFile(TERRAFORM, [...args, '-no-color', '-input=false'], { cwd: dir, env: childEnv, maxBuffer: 256 * 1024 * 1024, timeout: 900_000 }, (err, stdout, stderr) => {
          const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
          resolve({ code, seconds: (performance.now() - started) / 1000, output: `${stdout}\n${stderr}` });
        });
      }),
  };
}

/** VIPs of a configuration of `resources` resources: one VIP and three real servers each. */
export function vipsFor(resources: number): number {
  return Math.ceil(resources / 4);
}

const LOCALS = (vips: number) => `locals {
  vips = { for i in range(${vips}) : format("v%04d", i) => i }
  servers = merge([for k, i in local.vips : { for j in range(3) : "\${k}-\${j}" => { vip = k, j = j } }]...)
}
variable "changed_weight" {
  type    = number
  default = 100
}
`;

/**
 * The configuration a new user writes from the docs: `vips` VIPs of three real servers each,
 * with for_each; `changed_weight` changes one server (the one-change step).
 */
export function lbapplianceHcl(endpoint: string, password: string, vips: number, network: string, serverNetwork: string): string {
  return `terraform {
  required_providers {
    lbappliance = { source = "lbappliance/lbappliance" }
  }
}
provider "lbappliance" {
  endpoint = "${endpoint}"
  password = "${password}"
  insecure = true
}
${LOCALS(vips)}
resource "lbappliance_virtual_service" "vip" {
  for_each   = local.vips
  label      = "VIP-\${each.key}"
  ip_address = "${network}.\${1 + each.value % 250}"
  ports      = [8000 + floor(each.value / 250)]
  protocol   = "http"
}
resource "lbappliance_real_server" "server" {
  for_each           = local.servers
  virtual_service_id = lbappliance_virtual_service.vip[each.value.vip].id
  label              = "RS-\${each.key}"
  address            = "${serverNetwork}.\${1 + each.value.j}"
  port               = 9000
  weight             = each.key == "v0000-0" ? var.changed_weight : 100
}
`;
}

/** The same graph of Terraform's built-in terraform_data: the floor. */
export function floorHcl(vips: number, network: string, serverNetwork: string): string {
  return `${LOCALS(vips)}
resource "terraform_data" "vip" {
  for_each = local.vips
  input = {
    label      = "VIP-\${each.key}"
    ip_address = "${network}.\${1 + each.value % 250}"
    ports      = [8000 + floor(each.value / 250)]
    protocol   = "http"
  }
}
resource "terraform_data" "server" {
  for_each = local.servers
  input = {
    virtual_service_id = terraform_data.vip[each.value.vip].id
    label              = "RS-\${each.key}"
    address            = "${serverNetwork}.\${1 + each.value.j}"
    port               = 9000
    weight             = each.key == "v0000-0" ? var.changed_weight : 100
  }
}
`;
}
