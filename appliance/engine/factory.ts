// Chooses the data plane engine a node runs.
import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { ApplianceError } from '../errors.js';
import { EmbeddedEngine } from './embedded/embedded-engine.js';
import { HaproxyEngine } from './haproxy/haproxy-engine.js';
import { KernelPlane } from './kernel/kernel-plane.js';
import { LayeredEngine } from './layered-engine.js';
import { NullEngine } from './null-engine.js';
import type { Engine, EngineKind } from './types.js';

/** What an engine is built from. */
export interface EngineDeps {
  logger: Logger;
  registry: Registry;
  dataDir: string;
  /** The embedded engine's data-plane processes (`--engine-workers`); default engineWorkers(). */
  workers?: number;
}

/**
 * The embedded engine's worker count when `serve` is not told: LBAPPLIANCE_ENGINE_WORKERS,
 * else one per core (0 and 1 both mean traffic in the engine's own process).
 */
export function defaultEngineWorkers(env: NodeJS.ProcessEnv = process.env): number {
  const given = env.LBAPPLIANCE_ENGINE_WORKERS;
  if (given !== undefined && given !== '') {
    const n = parseEngineWorkers(given);
    if (n !== null) return n;
  }
  return availableParallelism();
}

/** A worker count as `--engine-workers` and LBAPPLIANCE_ENGINE_WORKERS take it (0-256), or null. */
export function parseEngineWorkers(text: string): number | null {
  if (!/^\d{1,3}$/.test(text)) return null;
  const n = Number(text);
  return n <= 256 ? n : null;
}

/** The engine kinds this build can run. */
export const AVAILABLE_ENGINES: readonly EngineKind[] = ['embedded', 'haproxy', 'none'];

/** The default engine kind. */
export const DEFAULT_ENGINE: EngineKind = 'embedded';

/** Builds an engine of a kind: a layer 7 engine with the kernel plane (layer 4 VIPs) beside it. */
export async function createEngine(kind: EngineKind, deps: EngineDeps): Promise<Engine> {
  const proxy = await createProxyEngine(kind, deps);
  if (kind === 'none') return proxy;
  return new LayeredEngine(proxy, new KernelPlane({ logger: deps.logger.child({ component: 'kernel' }), registry: deps.registry }));
}

async function createProxyEngine(kind: EngineKind, deps: EngineDeps): Promise<Engine> {
  switch (kind) {
    case 'embedded':
      // Worker processes share the VIPs over the cores (default one per core; 0 or 1: in process).
      return new EmbeddedEngine({ logger: deps.logger, registry: deps.registry, workers: Math.max(1, deps.workers ?? defaultEngineWorkers()) });
    case 'haproxy':
      // Debian's HAProxy (LBAPPLIANCE_HAPROXY_BIN overrides the binary); its files live under the data dir.
      return new HaproxyEngine({ logger: deps.logger, registry: deps.registry, dataDir: deps.dataDir });
    case 'none':
      return new NullEngine();
    default:
      throw new ApplianceError('LB_ENGINE_REFUSED', `engine ${kind} is not available in this build (available: ${AVAILABLE_ENGINES.join(', ')})`);
  }
}
