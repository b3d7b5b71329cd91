// A worker killed while the engine is talking to it: between its death and the moment its
// channel's end is read, the worker still looks connected, and a message written to it
// fails with EPIPE. That failure must cost the message only: the engine process (which
// also serves the API) keeps running, and the worker is replaced. The pool is the built
// one (dist/): it forks dist's worker-main.js, which the sources vitest runs do not have.
import cluster, { type Worker } from 'node:cluster';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { WorkerPool as WorkerPoolType } from '../../appliance/engine/embedded/worker-pool.js';
import type { PersistenceEntry } from '../../appliance/engine/types.js';
import { ROOT } from '../helpers/paths.js';
import { until } from './helpers/wait.js';

const lines: { msg: string; message?: string }[] = [];
const logger = pino(
  { level: 'warn' },
  {
    write(line: string) {
      lines.push(JSON.parse(line) as { msg: string; message?: string });
    },
  },
);
let pool: WorkerPoolType | undefined;

afterAll(async () => {
  await pool?.stop(0);
});

/** Source-IP entries enough for a message of about a megabyte: the kind a busy VIP's workers exchange. */
function entries(n: number): PersistenceEntry[] {
  return Array.from({ length: n }, (_, i) => ({ virtualServiceId: 'vs-1', client: `198.18.${i >> 8}.${i & 255}`, realServerId: 'rs-1', lastSeen: Date.now() }));
}

const liveWorkers = (): Worker[] => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && !w.isDead());

describe('a worker killed while messages are on their way to it', () => {
  it('costs the messages, not the engine process, and is replaced', async () => {
    const { WorkerPool } = (await import(`${ROOT}dist/appliance/engine/embedded/worker-pool.js`)) as { WorkerPool: typeof WorkerPoolType };
    pool = new WorkerPool(2, logger, {
      passive: () => undefined,
      persist: () => undefined,
      state: () => ({ health: [], agents: [], persistence: [] }),
    });
    await pool.start();
    const started = liveWorkers();
    expect(started).toHaveLength(2);
    const victim = started[0] as Worker;
    const big = entries(12_000);
    let exited = false;
    victim.once('exit', () => (exited = true));
    process.kill(victim.process.pid as number, 'SIGKILL');
    // Keep writing to every worker until the pool hears of the death.
    let sent = 0;
    while (!exited) {
      const stop = Date.now() + 5;
      while (Date.now() < stop && !exited) {
        pool.persist(big);
        sent++;
      }
      await new Promise((r) => setImmediate(r));
    }
    expect(sent).toBeGreaterThan(0);
    // The race was run: at least one write to the dead worker failed, and said so.
    expect(lines.some((l) => l.msg === 'message to an engine worker lost' || l.msg === 'engine worker unreachable')).toBe(true);
    await until('a replacement worker', () => {
      const live = liveWorkers();
      return live.length === 2 && !live.includes(victim);
    });
    // The pool goes on: the workers answer, and messages reach them without loss.
    await until('the replacement taken in', async () => (await (pool as WorkerPoolType).answering()) === 2);
    const lost = lines.length;
    for (let i = 0; i < 20; i++) pool.persist(big);
    expect(await pool.answering()).toBe(2);
    expect(lines.length).toBe(lost);
  }, 60_000);
});
