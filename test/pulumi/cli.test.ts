// The Pulumi scenarios (scenarios/table.ts, the list engine.test.ts runs through the test
// engine) under the real Pulumi CLI, whenever a `pulumi` binary is on PATH (or PULUMI_BIN):
// the same program and steps, the plugin found through the project's `plugins.providers`
// path, a local file backend and a passphrase secrets provider. Steps are read from the
// CLI's `--json` output. Without the CLI every scenario reports itself skipped.
import { execFile, spawnSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startTestAppliance } from '../helpers/appliance-process.js';
import { makeTestCert } from '../helpers/certs.js';
import { writeProject } from './scenarios/project.js';
import { configureStack, SCENARIOS, type Change, type PulumiDriver, type ScenarioContext } from './scenarios/table.js';

const PULUMI = process.env.PULUMI_BIN ?? 'pulumi';
const hasPulumi = spawnSync(PULUMI, ['version'], { stdio: 'ignore' }).status === 0;
const SKIPPED = hasPulumi ? '' : ' (skipped: no pulumi CLI on PATH)';

let ctx: ScenarioContext;
let dir: string;
const output: string[] = [];

function pulumi(args: string[]): Promise<{ code: number; stdout: string; output: string }> {
  return new Promise((resolve) => {
    execFile(
      PULUMI,
      [...args, '--non-interactive', '--color', 'never'],
      {
        cwd: dir,
        timeout: 300_000,
        maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, PULUMI_BACKEND_URL: `file://${join(dir, 'state')}`, PULUMI_HOME: join(dir, 'home'), PULUMI_CONFIG_PASSPHRASE: 'test-passphrase', PULUMI_SKIP_UPDATE_CHECK: 'true' },
      },
      (err, stdout, stderr) => {
        output.push(stdout, stderr);
        resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) || 1 : 0, stdout, output: `${stdout}\n${stderr}` });
      },
    );
  });
}

async function ok(args: string[]): Promise<string> {
  const r = await pulumi(args);
  if (r.code !== 0) throw new Error(`pulumi ${args.join(' ')} exited ${r.code}:\n${r.output}`);
  return r.stdout;
}

interface JsonStep {
  op: string;
  urn: string;
  newState?: { inputs?: Record<string, unknown> };
}

// The steps of a `--json` run (preview, up, refresh), the unchanged ones left out.
function stepsOf(stdout: string): JsonStep[] {
  const start = stdout.indexOf('{');
  if (start < 0) return [];
  return ((JSON.parse(stdout.slice(start)) as { steps?: JsonStep[] }).steps ?? []).filter((s) => s.op !== 'same');
}

const change = (s: JsonStep): Change => {
  const qualified = s.urn.split('::')[2] ?? '';
  return { op: s.op, name: s.urn.slice(s.urn.lastIndexOf('::') + 2), type: qualified.slice(qualified.lastIndexOf('$') + 1) };
};

let lastPreview: JsonStep[] = [];

const cliDriver: PulumiDriver = {
  name: 'cli',
  async setConfig(key, value, secret) {
    await ok(['config', 'set', ...(secret ? ['--secret'] : ['--plaintext']), key, '--', value]);
  },
  up: async () => stepsOf(await ok(['up', '--yes', '--skip-preview', '--json'])).map(change),
  async preview() {
    lastPreview = stepsOf(await ok(['preview', '--json']));
    return lastPreview.map(change);
  },
  async previewedInputs(name) {
    const step = lastPreview.find((s) => s.urn.endsWith(`::${name}`));
    if (!step) throw new Error(`the last preview has no step for ${name}`);
    return step.newState?.inputs ?? {};
  },
  refresh: async () => stepsOf(await ok(['refresh', '--yes', '--skip-preview', '--json'])).map(change),
  destroy: async () => void (await ok(['destroy', '--yes', '--skip-preview'])),
  logs: async () => output.join('\n'),
  stateDump: () => ok(['stack', 'export']),
};

beforeAll(async () => {
  if (!hasPulumi) return;
  const [app, other] = await Promise.all([startTestAppliance(), startTestAppliance()]);
  dir = await writeProject();
  ctx = { driver: cliDriver, app, client: app.client(), other, otherClient: other.client(), cert: makeTestCert('scn.hospital.test') };
  await ok(['stack', 'init', 'test']);
  await configureStack(ctx);
}, 180_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  await Promise.all([ctx?.app.dispose(), ctx?.other.dispose()]);
});

describe('Pulumi scenarios under the real CLI', () => {
  for (const scenario of SCENARIOS) it.skipIf(!hasPulumi)(`${scenario.name}${SKIPPED}`, () => scenario.run(ctx), 300_000);
});
