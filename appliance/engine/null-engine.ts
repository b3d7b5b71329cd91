// An engine with no data plane: it accepts every revision and carries no traffic. Used by
// `serve --engine none` (a control plane only, e.g. to prepare a configuration).
import { NO_PERSISTENCE_TABLES } from './types.js';
import type { ApplyReport, ConfigSnapshot, Engine, EngineStatus, PersistenceSync, RealServerRuntime, VirtualServiceRuntime } from './types.js';

/** The engine that runs nothing. */
export class NullEngine implements Engine {
  readonly kind = 'none' as const;
  readonly persistenceSync: PersistenceSync = { kind: 'none' };
  readonly persistenceTables = NO_PERSISTENCE_TABLES;
  #snapshot: ConfigSnapshot = { revision: 0, virtualServices: [] };
  #active = true;

  async checkListeners(): Promise<void> {}

  async start(): Promise<void> {}

  async check(_snapshot: ConfigSnapshot): Promise<void> {}

  async apply(snapshot: ConfigSnapshot): Promise<ApplyReport> {
    this.#snapshot = snapshot;
    return { revision: snapshot.revision, durationMs: 0, listenersChanged: 0 };
  }

  async setActive(active: boolean): Promise<void> {
    this.#active = active;
  }

  status(onlyVirtualService?: string): EngineStatus {
    const virtualServices = new Map<string, VirtualServiceRuntime>();
    for (const vs of this.#snapshot.virtualServices) {
      if (onlyVirtualService !== undefined && vs.id !== onlyVirtualService) continue;
      const realServers = new Map<string, RealServerRuntime>();
      for (const rs of vs.realServers) realServers.set(rs.id, { health: 'unknown', connections: 0, lastCheck: null });
      virtualServices.set(vs.id, { listening: false, error: vs.enabled ? 'no data plane engine (serve --engine none)' : null, connections: 0, queued: 0, realServers });
    }
    return { revision: this.#snapshot.revision, active: this.#active, virtualServices };
  }

  /** Runs no checks: no health ever changes. */
  onHealth(): () => void {
    return () => undefined;
  }

  async stop(): Promise<void> {}
}
