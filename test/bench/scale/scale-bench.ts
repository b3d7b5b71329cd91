// `npm run bench:scale`: what a site of a thousand objects costs. Terraform with 100, 400 and
// 1000 resources (apply, no-op plan, one-change plan and apply, destroy) against the same graph
// of Terraform's built-in `terraform_data` in the same run (the floor: Terraform's own cost);
// the SDK creating 1000 objects with 10 parallel clients; and the time a revision that
// changes one real server takes to apply against the number of VIPs, on both engines.
// Writes test/bench/results-scale.json and .md (with the "before" run of
// results-scale-before.json beside it when present). `--quick`: 100 resources, 10 and 100
// VIPs, 200 SDK objects. `--only terraform|sdk|engine`. SCALE_CPU_PROF=DIR runs the
// appliance under --cpu-prof into DIR.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { startTestAppliance, type TestAppliance } from '../../helpers/appliance-process.js';
import { ROOT } from '../../helpers/paths.js';
import { floorHcl, lbapplianceHcl, nullPluginDir, tfDir, vipsFor, type TfRun } from './terraform-runner.js';
import { engineScale, type EngineRow } from './engine-scale.js';
import { sdkScale, type SdkResult } from './sdk-scale.js';
import { renderMarkdown } from './report.js';

const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick');
const ONLY = argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : undefined;
/** `--sizes 100,400`: the Terraform sizes to run. */
const SIZES = argv.includes('--sizes') ? String(argv[argv.indexOf('--sizes') + 1]).split(',').map(Number) : undefined;
/** `--vips 10,100`: the VIP counts of the engine runs. */
const VIPS = argv.includes('--vips') ? String(argv[argv.indexOf('--vips') + 1]).split(',').map(Number) : undefined;
/** Loopback networks of the benchmark (the scale helper's range). */
const VIP_NETWORK = '127.0.226';
const SERVER_NETWORK = '127.0.229';
const log = (s: string) => process.stderr.write(`bench:scale: ${s}\n`);

/** One Terraform step against both configurations. */
export interface TerraformStep {
  lbappliance: number;
  floor: number;
  ratio: number;
  /** The same configuration through the stand-in plugin that does only the plugin protocol (null-provider.ts), and its ratio to the floor. */
  nullPlugin?: number;
  nullRatio?: number;
}

/** The Terraform results of one size. */
export interface TerraformRow {
  resources: number;
  vips: number;
  steps: Record<'apply' | 'noopPlan' | 'changePlan' | 'changeApply' | 'destroy', TerraformStep>;
}

/** Plain TCP listeners standing in for the real servers, so health checks pass. */
async function startServers(): Promise<Server[]> {
  const servers: Server[] = [];
  for (let j = 1; j <= 3; j++) {
    const s = createServer((socket) => socket.end());
    await new Promise<void>((resolve, reject) => s.once('error', reject).listen(9000, `${SERVER_NETWORK}.${j}`, resolve));
    servers.push(s);
  }
  return servers;
}

/** The appliance under test, profiled when SCALE_CPU_PROF names a directory. */
export async function appliance(engine: 'embedded' | 'haproxy' | 'none', tag: string): Promise<TestAppliance> {
  const prof = process.env.SCALE_CPU_PROF;
  if (prof) await mkdir(prof, { recursive: true });
  return startTestAppliance({
    engine,
    nodeArgs: prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`, `--cpu-prof-name=appliance-${tag}-${Date.now()}.cpuprofile`] : [],
  });
}

/** Stops an appliance (SIGTERM when profiled, so node writes its profile) and removes its data. */
async function finish(app: TestAppliance): Promise<void> {
  if (process.env.SCALE_CPU_PROF) await app.stop();
  await app.dispose();
}

function must(run: TfRun, what: string, codes: number[] = [0]): number {
  if (!codes.includes(run.code)) throw new Error(`${what}: terraform exited ${run.code}\n${run.output.slice(-4000)}`);
  return Math.round(run.seconds * 100) / 100;
}

async function terraformSize(resources: number): Promise<TerraformRow> {
  const vips = vipsFor(resources);
  const app = await appliance('embedded', `tf${resources}`);
  try {
    const lb = await tfDir();
    const floor = await tfDir();
    const stand = await tfDir({}, await nullPluginDir());
    await lb.write(lbapplianceHcl(app.endpoint, app.password, vips, VIP_NETWORK, SERVER_NETWORK));
    await floor.write(floorHcl(vips, VIP_NETWORK, SERVER_NETWORK));
    await stand.write(lbapplianceHcl(app.endpoint, app.password, vips, VIP_NETWORK, SERVER_NETWORK));
    const step = async (name: string, args: string[], codes: number[] = [0]): Promise<TerraformStep> => {
      const f = must(await floor.run(args), `floor ${name}`, codes);
      const n = must(await stand.run(args), `stand-in plugin ${name}`, codes);
      const l = must(await lb.run(args), `lbappliance ${name}`, codes);
      log(`${resources} resources, ${name}: lbappliance ${l} s, protocol-only plugin ${n} s, terraform_data ${f} s`);
      return { lbappliance: l, floor: f, ratio: Math.round((l / f) * 100) / 100, nullPlugin: n, nullRatio: Math.round((n / f) * 100) / 100 };
    };
    const apply = await step('apply', ['apply', '-auto-approve']);
    const noopPlan = await step('no-op plan', ['plan', '-detailed-exitcode'], [0]);
    const changePlan = await step('one-change plan', ['plan', '-detailed-exitcode', '-var', 'changed_weight=50'], [2]);
    const changeApply = await step('one-change apply', ['apply', '-auto-approve', '-var', 'changed_weight=50']);
    const destroy = await step('destroy', ['destroy', '-auto-approve', '-var', 'changed_weight=50']);
    const left = await app.client().getConfig();
    if (Object.keys(left.virtualServices).length > 0 || Object.keys(left.realServers).length > 0) throw new Error('destroy left objects on the appliance');
    return { resources, vips, steps: { apply, noopPlan, changePlan, changeApply, destroy } };
  } finally {
    await app.stop();
    await finish(app);
  }
}

async function main(): Promise<void> {
  const servers = await startServers();
  const sizes = SIZES ?? (QUICK ? [100] : [100, 400, 1000]);
  const vipCounts = VIPS ?? (QUICK ? [10, 100] : [10, 100, 1000]);
  const started = new Date().toISOString();
  const result: { terraform: TerraformRow[]; sdk: SdkResult | null; engines: EngineRow[] } = { terraform: [], sdk: null, engines: [] };
  try {
    if (!ONLY || ONLY === 'terraform') for (const n of sizes) result.terraform.push(await terraformSize(n));
    if (!ONLY || ONLY === 'sdk') {
      const app = await appliance('embedded', 'sdk');
      try {
        result.sdk = await sdkScale(app, QUICK ? 200 : 1000, 10, VIP_NETWORK, SERVER_NETWORK, log);
      } finally {
        await finish(app);
      }
    }
    if (!ONLY || ONLY === 'engine') {
      for (const engine of ['embedded', 'haproxy'] as const) {
        for (const n of vipCounts) {
          const app = await appliance(engine, `${engine}${n}`);
          try {
            result.engines.push(await engineScale(app, engine, n, SERVER_NETWORK, log));
          } catch (err) {
            log(`${engine}, ${n} VIPs failed: ${(err as Error).message}`);
          } finally {
            await finish(app);
          }
        }
      }
    }
  } finally {
    for (const s of servers) s.close();
  }
  const report = {
    date: started,
    label: process.env.SCALE_LABEL ?? null,
    quick: QUICK,
    machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
    command: `npm run bench:scale${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
    ...result,
  };
  const out = join(ROOT, 'test', 'bench', process.env.SCALE_OUT ?? 'results-scale');
  await writeFile(`${out}.json`, `${JSON.stringify(report, null, 2)}\n`);
  const before = await readFile(join(ROOT, 'test', 'bench', 'results-scale-before.json'), 'utf8').then((t) => JSON.parse(t) as typeof report, () => null);
  const notes = await readFile(join(ROOT, 'test', 'bench', 'scale', 'NOTES.md'), 'utf8').catch(() => '');
  const md = renderMarkdown(report, before, notes);
  await writeFile(`${out}.md`, md);
  process.stdout.write(`${md}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:scale: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
