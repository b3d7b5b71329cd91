// Chooses the data plane engine a node runs.
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
      // Worker processes share the VIPs over the cores (LBAPPLIANCE_ENGINE_WORKERS, default 1: in process).
      return new EmbeddedEngine({ logger: deps.logger, registry: deps.registry, workers: Number(process.env.LBAPPLIANCE_ENGINE_WORKERS ?? 1) || 1 });
    case 'haproxy':
      // Debian's HAProxy (LBAPPLIANCE_HAPROXY_BIN overrides the binary); its files live under the data dir.
      return new HaproxyEngine({ logger: deps.logger, registry: deps.registry, dataDir: deps.dataDir });
    case 'none':
      return new NullEngine();
    default:
      throw new ApplianceError('LB_ENGINE_REFUSED', `engine ${kind} is not available in this build (available: ${AVAILABLE_ENGINES.join(', ')})`);
  }
}
