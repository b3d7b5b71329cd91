// The live state of one VIP, as a write's answer asks for it: `status(id)` holds that VIP
// alone, equal to its entry in the whole status, on the embedded engine in-process and with
// workers, and on the engine that runs nothing; the answer about one object then costs one
// VIP at a site of a thousand. Real sockets; addresses 127.0.225.x belong to this file.
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedEngine } from '../../appliance/engine/embedded/embedded-engine.js';
import { NullEngine } from '../../appliance/engine/null-engine.js';
import type { Engine, EngineStatus } from '../../appliance/engine/types.js';
import { ROOT } from '../helpers/paths.js';
import { startHttpBackend, type HttpBackend } from './helpers/backends.js';
import { configSnapshot, vipSnapshot } from './helpers/snapshots.js';

const VIP = '127.0.225.217';
let a: HttpBackend;
let b: HttpBackend;
const engines: Engine[] = [];

beforeAll(async () => {
  a = await startHttpBackend({ name: 'a', host: '127.0.225.6' });
  b = await startHttpBackend({ name: 'b', host: '127.0.225.7' });
});

afterAll(async () => {
  for (const e of engines) await e.stop(100);
  await Promise.all([a?.close(), b?.close()]);
});

/** Each engine its own ports: the engines of this file run side by side. */
const snapshot = (port: number) =>
  configSnapshot(
    1,
    vipSnapshot('vs-one', VIP, port, [a, b]),
    vipSnapshot('vs-two', VIP, port + 1, [b]),
    vipSnapshot('vs-off', VIP, port + 2, [a], { enabled: false }),
  );

/** Polls until every enabled VIP of the engine listens (an engine with a data plane binds on apply). */
async function listening(engine: Engine): Promise<EngineStatus> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const st = engine.status();
    if (engine.kind === 'none' || (st.virtualServices.get('vs-one')?.listening && st.virtualServices.get('vs-two')?.listening)) return st;
    if (Date.now() > deadline) throw new Error(`VIPs not listening: ${JSON.stringify([...st.virtualServices])}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The engine with workers, from the build: its workers are forked from the compiled
 * worker-main.js (the global setup builds dist/), which the sources vitest runs do not have.
 */
async function builtEngineWithWorkers(): Promise<Engine> {
  const built = `${ROOT}dist/appliance/engine/embedded/embedded-engine.js`;
  const { EmbeddedEngine: Built } = (await import(built)) as { EmbeddedEngine: typeof EmbeddedEngine };
  return new Built({ logger: pino({ level: 'silent' }), registry: new Registry(), workers: 2 });
}

describe.each([
  ['embedded, in-process', 8301, async () => new EmbeddedEngine({ logger: pino({ level: 'silent' }), registry: new Registry() })],
  ['embedded, two workers', 8311, builtEngineWithWorkers],
  ['none', 8321, async () => new NullEngine()],
])('status of one VIP: %s', (_name, port: number, make: () => Promise<Engine>) => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await make();
    engines.push(engine);
    await engine.start();
    await engine.apply(snapshot(port));
  });

  it('holds that VIP alone, as the whole status has it', { timeout: 120_000 }, async () => {
    const whole = await listening(engine);
    expect([...whole.virtualServices.keys()].sort()).toEqual(['vs-off', 'vs-one', 'vs-two']);
    for (const id of ['vs-one', 'vs-two', 'vs-off']) {
      const one = engine.status(id);
      expect([...one.virtualServices.keys()]).toEqual([id]);
      expect(one.virtualServices.get(id)).toEqual(whole.virtualServices.get(id));
      expect({ revision: one.revision, active: one.active }).toEqual({ revision: whole.revision, active: whole.active });
    }
  });

  it('holds nothing for a VIP the engine does not have', () => {
    expect(engine.status('vs-missing').virtualServices.size).toBe(0);
  });
});
