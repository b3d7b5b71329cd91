// With worker processes, the traffic counters live in the workers: these are the same
// counters on the node's registry, filled at scrape time from the workers' sums.
import { Counter, type Registry } from 'prom-client';
import { TRAFFIC_COUNTERS } from '../traffic-metrics.js';
import type { CounterValues } from './ipc-messages.js';

/** Registers the traffic counters, read from the workers at each scrape. */
export function registerWorkerCounters(registry: Registry, read: () => Promise<CounterValues>): void {
  // One question to the workers per scrape, whichever counter asks first.
  let inflight: Promise<CounterValues> | null = null;
  const values = () => {
    inflight ??= read().finally(() => setImmediate(() => (inflight = null)));
    return inflight;
  };
  for (const def of TRAFFIC_COUNTERS) {
    new Counter<string>({
      name: def.name,
      help: def.help,
      labelNames: def.labelNames,
      registers: [registry],
      async collect() {
        const all = await values();
        this.reset();
        for (const [labels, v] of Object.entries(all[def.name] ?? {})) this.inc(JSON.parse(labels) as Record<string, string>, v);
      },
    });
  }
}
