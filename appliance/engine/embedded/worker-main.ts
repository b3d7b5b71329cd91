// A data-plane worker process of the embedded engine (several workers share the VIP
// listeners and the machine's cores). It carries traffic for the snapshots the engine
// sends; health verdicts come from the engine's checker, connect failures go back to it,
// and source-IP entries are shared through it with the other workers.
import { Registry } from 'prom-client';
import type { HealthSource } from '../health/health-checker.js';
import { HealthCell } from '../health/health-state.js';
import { createLogger } from '../../logging.js';
import { DataPlane } from './data-plane.js';
import { EngineMetrics } from './engine-metrics.js';
import type { FromWorker, StatsPatch, ToWorker } from './ipc-messages.js';
import { PersistenceTable } from './persistence-table.js';
import { useSessionTicketKeys } from './tls-policy.js';
import { notCarried, workerShare } from './one-view.js';
import { SnapshotHolder } from './snapshot-delta.js';

const STATS_INTERVAL_MS = 200;
/** This worker's place in the pool (a replacement takes the place of the one it replaces). */
const INDEX = Number(process.env.LBAPPLIANCE_ENGINE_WORKER_INDEX ?? 0);

function send(message: FromWorker): void {
  process.send?.(message);
}

const registry = new Registry();
const metrics = new EngineMetrics(registry);
const persistence = new PersistenceTable();
const cells = new Map<string, HealthCell>();
const health: HealthSource = {
  cell(key) {
    let cell = cells.get(key);
    if (!cell) {
      cell = new HealthCell();
      cells.set(key, cell);
    }
    return cell;
  },
  passiveFailure(key, detail) {
    // Down here at once; the engine's checker decides when it is back.
    health.cell(key).passiveFailure(detail);
    send({ t: 'passive', key, detail });
  },
};
const plane = new DataPlane({ logger: createLogger().child({ component: 'engine-worker' }), metrics, health, persistence, hashSourceIp: true });
/** The revision this worker follows, rebuilt from the engine's deltas. */
const holder = new SnapshotHolder();
/** The VIPs this worker holds without carrying them (one-view.ts): left out of its statistics. */
let held: ReadonlySet<string> = new Set<string>();
/** A fingerprint of each VIP's statistics as last sent (data-plane.ts statsSince). */
const lastSent = new Map<string, string>();
function statsPatch(only?: readonly string[]): StatsPatch {
  return plane.statsSince(lastSent, held, only);
}
// Entries made here go to the others; imported ones emit no event, so nothing echoes back.
persistence.on('change', (c) => {
  if (c.type === 'set') send({ t: 'persist', entry: c.entry });
});

process.on('message', (m: ToWorker) => {
  void (async () => {
    switch (m.t) {
      case 'apply': {
        const snapshot = holder.follow(m.delta);
        held = notCarried(snapshot, INDEX);
        const listenersChanged = await plane.apply(workerShare(snapshot, INDEX));
        // The answer carries the listener state of the VIPs this revision touched; the others are as reported.
        send({ t: 'done', id: m.id, listenersChanged, stats: statsPatch(holder.touched) });
        break;
      }
      case 'active':
        await plane.setActive(m.active);
        send({ t: 'done', id: m.id, stats: statsPatch() });
        break;
      case 'ping':
        send({ t: 'done', id: m.id });
        break;
      case 'counters':
        send({ t: 'done', id: m.id, counters: metrics.takeChanges() });
        break;
      case 'stop':
        await plane.stop(m.graceMs);
        send({ t: 'done', id: m.id });
        process.disconnect?.();
        break;
      case 'health':
        health.cell(m.key).health = m.health;
        break;
      case 'agent':
        // The engine's verdicts already carry the agent's down; here only the weight and maint matter.
        health.cell(m.key).agent = { ...m.agent, down: false };
        break;
      case 'persist':
        persistence.import(m.entries);
        break;
      case 'forget':
        persistence.forget(m.virtualServiceId, m.client);
        break;
      case 'ticketKeys':
        useSessionTicketKeys(Buffer.from(m.keys, 'base64'));
        break;
    }
  })();
});

// A service manager's stop (systemd signals the whole control group) and a terminal's Ctrl-C
// reach the workers too: they are the engine process's to stop, with its grace for open
// connections, and a worker gone early would be replaced during shutdown. A worker whose
// engine process is gone exits when the IPC channel closes (node's cluster does that).
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => undefined);

setInterval(() => {
  const patch = statsPatch();
  if (Object.keys(patch.changed).length > 0 || patch.removed.length > 0) send({ t: 'stats', stats: patch });
}, STATS_INTERVAL_MS).unref();
send({ t: 'ready' });
