// What an integration with the hospital's operations is: the context every integration is
// given and what it hands back. Kept apart from the registry, which imports every
// integration, so that an integration depends on this contract and not on the list.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ConfigStore } from '../config/store.js';
import type { Engine } from '../engine/types.js';
import type { HaStatusView } from '../ha/controller.js';
import type { OperationalEvents } from '../events/operational-events.js';

/** What every integration is given. */
export interface IntegrationContext {
  events: OperationalEvents;
  store: ConfigStore;
  engine: Engine;
  haStatus: () => HaStatusView;
  logger: Logger;
  /** The Prometheus registry (drops, queue lengths, deliveries). */
  registry: Registry;
  dataDir: string;
  nodeName: string;
}

/** A running integration. */
export interface Integration {
  readonly name: string;
  /** Stops it, flushing what it can within a bounded time. */
  close(): Promise<void>;
}

export interface IntegrationFactory {
  readonly name: string;
  start(context: IntegrationContext): Promise<Integration>;
}
