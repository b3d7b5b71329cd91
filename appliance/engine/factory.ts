// Chooses the data plane engine a node runs.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { ApplianceError } from '../errors.js';
import { NullEngine } from './null-engine.js';
import type { Engine, EngineKind } from './types.js';

/** What an engine is built from. */
export interface EngineDeps {
  logger: Logger;
  registry: Registry;
  dataDir: string;
}

/** The engine kinds this build can run. */
export const AVAILABLE_ENGINES: readonly EngineKind[] = ['none'];

/** The default engine kind. */
export const DEFAULT_ENGINE: EngineKind = 'none';

/** Builds an engine of a kind. */
export async function createEngine(kind: EngineKind, _deps: EngineDeps): Promise<Engine> {
  switch (kind) {
    case 'none':
      return new NullEngine();
    default:
      throw new ApplianceError('LB_ENGINE_REFUSED', `engine ${kind} is not available in this build (available: ${AVAILABLE_ENGINES.join(', ')})`);
  }
}
