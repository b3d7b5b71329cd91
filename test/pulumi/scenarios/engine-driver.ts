// The scenarios' driver for the test engine: each operation is the engine's, its steps
// reported as the CLI would list them.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestPulumiEngine, type OperationResult } from '../engine/index.js';
import type { Change, PulumiDriver } from './table.js';

const changes = (r: OperationResult): Change[] => r.changes.map((s) => ({ op: s.op, name: s.name, type: s.type }));

/** A driver over a new test engine for the project in `projectDir`. */
export async function engineDriver(projectDir: string): Promise<PulumiDriver & { engine: TestPulumiEngine }> {
  const engine = await TestPulumiEngine.open({ projectDir, stateDir: await mkdtemp(join(tmpdir(), 'lbappliance-engine-state-')) });
  let previewGoals = 0;
  return {
    name: 'engine',
    engine,
    async setConfig(key, value, secret) {
      engine.setConfig(key, value, { secret });
    },
    up: async () => changes(await engine.up()),
    async preview() {
      previewGoals = engine.goals.length;
      return changes(await engine.preview());
    },
    async previewedInputs(name) {
      const goal = engine.goals.slice(previewGoals).find((g) => g.name === name);
      if (!goal) throw new Error(`the last preview registered no ${name}`);
      return goal.inputs;
    },
    refresh: async () => changes(await engine.refresh()),
    destroy: async () => void (await engine.destroy()),
    logs: async () => engine.logs.join('\n'),
    stateDump: async () => engine.stateDump(),
  };
}
