// The Pulumi scenarios (scenarios/table.ts) through the test engine: the scenarios' program
// run by the SDK's own language-host entry (cmd/run) against this engine's ResourceMonitor
// and Engine services, every resource driven through the real plugin in the engine's order
// of calls, onto two real appliances. The same list runs under the real CLI in cli.test.ts.
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAppliance } from '../helpers/appliance-process.js';
import { makeTestCert } from '../helpers/certs.js';
import { engineDriver } from './scenarios/engine-driver.js';
import { writeProject } from './scenarios/project.js';
import { configureStack, SCENARIOS, type ScenarioContext } from './scenarios/table.js';
import type { TestPulumiEngine } from './engine/index.js';

let ctx: ScenarioContext;
let engine: TestPulumiEngine;
let dir: string;

beforeAll(async () => {
  const [app, other] = await Promise.all([startTestAppliance(), startTestAppliance()]);
  dir = await writeProject();
  const driver = await engineDriver(dir);
  engine = driver.engine;
  ctx = { driver, app, client: app.client(), other, otherClient: other.client(), cert: makeTestCert('scn.hospital.test') };
  await configureStack(ctx);
}, 120_000);

afterAll(async () => {
  await engine?.stop();
  await Promise.all([ctx?.app.dispose(), ctx?.other.dispose()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('Pulumi scenarios through the test engine', () => {
  for (const scenario of SCENARIOS) it(scenario.name, () => scenario.run(ctx), 180_000);
});

describe('what the engine did on the way', () => {
  it('asked the plugin in the engine\'s order: CheckConfig, DiffConfig, Configure for a provider; Check, Diff, then Create/Update for a resource', () => {
    const methods = (urnPart: string) => engine.calls.filter((c) => c.urn.endsWith(urnPart)).map((c) => c.method);
    const provider = methods('pulumi:providers:lbappliance::default_0_1_0');
    expect(provider.slice(0, 3)).toEqual(['Handshake', 'CheckConfig', 'Configure']);
    expect(provider).toContain('DiffConfig');
    const server = methods('::server1');
    expect(server.slice(0, 2)).toEqual(['Check', 'Create']);
    expect(server).toEqual(expect.arrayContaining(['Diff', 'Update', 'Read', 'Delete']));
    expect(engine.calls.filter((c) => c.method === 'Create' && c.preview === true).length).toBeGreaterThan(0);
  });

  it('was asked about the SDK\'s features and answered for secrets, output values and alias specs', () => {
    expect(engine.featuresAsked).toEqual(expect.arrayContaining(['secrets', 'resourceReferences', 'outputValues', 'aliasSpecs']));
  });
});
