// With worker processes, the traffic counters live in the workers: these are the same
// counters on the node's registry. At each scrape every worker says which of its series grew
// since it was last asked, and by how much; the counters here add that up. A series that did
// not move costs nothing to carry, and the counts a worker reported stay counted when it dies
// and is replaced (a counter never goes back).
import { Counter, type Registry } from 'prom-client';
import { TRAFFIC_COUNTERS } from '../traffic-metrics.js';
import type { CounterChanges } from './ipc-messages.js';

/** Registers the traffic counters, brought up to date from the workers at each scrape. */
export function registerWorkerCounters(registry: Registry, read: () => Promise<CounterChanges>): void {
  const counters = new Map<string, { counter: Counter<string>; labelNames: readonly string[] }>();
  // One question to the workers per scrape, whichever counter asks first.
  let inflight: Promise<void> | null = null;
  const update = () => {
    inflight ??= read()
      .then((changes) => {
        for (const [name, values, amount] of changes) {
          const c = counters.get(name);
          if (!c || !(amount > 0)) continue;
          const labels: Record<string, string> = {};
          c.labelNames.forEach((label, i) => (labels[label] = values[i] ?? ''));
          c.counter.inc(labels, amount);
        }
      })
      // A worker that could not answer (stopping, replaced) reports at the next scrape; the rest are as counted.
      .catch(() => undefined)
      .finally(() => setImmediate(() => (inflight = null)));
    return inflight;
  };
  for (const def of TRAFFIC_COUNTERS) {
    const counter = new Counter<string>({
      name: def.name,
      help: def.help,
      labelNames: def.labelNames,
      registers: [registry],
      async collect() {
        await update();
      },
    });
    counters.set(def.name, { counter, labelNames: def.labelNames });
  }
}
