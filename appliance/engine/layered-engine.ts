// The one place the kernel data plane joins a node's engine: the chosen layer 7 engine
// (embedded or HAProxy) gets the proxy VIPs of each snapshot, the kernel plane gets the
// layer 4 ones (forwarding direct-routing, nat, snat), and the store, the API and the HA
// layer see a single Engine (its health changes are both planes'). Neither engine knows
// about the other.
import type { KernelPlane } from './kernel/kernel-plane.js';
import { isKernelVip } from './kernel/kernel-plane.js';
import { partOf } from '../config/snapshot-step.js';
import type { ApplyReport, ConfigSnapshot, Engine, EngineStatus, HealthListener, KernelPairing, PersistenceSync, PersistenceTables, VirtualServiceRuntime, VirtualServiceSnapshot } from './types.js';

// A write's snapshot is checked, probed and applied: its proxy part is made once, and from
// the part of the snapshot before when the write replaced VIPs in place (snapshot-step.ts).
const proxyParts = new WeakMap<ConfigSnapshot, ConfigSnapshot>();

function proxyVip(vs: VirtualServiceSnapshot): VirtualServiceSnapshot | null {
  return isKernelVip(vs) ? null : vs;
}

function proxyPart(snapshot: ConfigSnapshot): ConfigSnapshot {
  return partOf(proxyParts, snapshot, proxyVip);
}

/** A layer 7 engine with the kernel plane beside it. */
export class LayeredEngine implements Engine {
  readonly kind: Engine['kind'];
  readonly persistenceSync: PersistenceSync;
  readonly kernelPairing: KernelPairing;
  /** The proxy engine's (layer 4 VIPs keep their flows in the kernel's tables, not listed here). */
  readonly persistenceTables: PersistenceTables;
  readonly #proxy: Engine;
  readonly #kernel: KernelPlane;

  constructor(proxy: Engine, kernel: KernelPlane) {
    this.#proxy = proxy;
    this.#kernel = kernel;
    this.kind = proxy.kind;
    this.persistenceSync = proxy.persistenceSync;
    this.kernelPairing = {
      programsKernel: kernel.enabled, setFloatingSource: (floating) => kernel.setFloatingSource(floating), setActive: (active) => kernel.setActive(active),
      exportFlowState: () => kernel.exportFlowState(),
      holdPeerFlowState: (state) => kernel.holdPeerFlowState(state),
    };
    this.persistenceTables = proxy.persistenceTables;
  }

  start(): Promise<void> {
    return this.#proxy.start();
  }

  check(snapshot: ConfigSnapshot): Promise<void> {
    return this.#proxy.check(proxyPart(snapshot));
  }

  checkListeners(snapshot: ConfigSnapshot): Promise<void> {
    return this.#proxy.checkListeners(proxyPart(snapshot));
  }

  async apply(snapshot: ConfigSnapshot): Promise<ApplyReport> {
    const started = performance.now();
    const report = await this.#proxy.apply(proxyPart(snapshot));
    await this.#kernel.apply(snapshot);
    return { ...report, durationMs: performance.now() - started };
  }

  async setActive(active: boolean): Promise<void> {
    await this.#proxy.setActive(active);
    await this.#kernel.setActive(active);
  }

  status(onlyVirtualService?: string): EngineStatus {
    const proxy = this.#proxy.status(onlyVirtualService);
    const virtualServices = new Map<string, VirtualServiceRuntime>(proxy.virtualServices);
    for (const [id, runtime] of this.#kernel.status(onlyVirtualService)) virtualServices.set(id, runtime);
    return { ...proxy, virtualServices };
  }

  onHealth(listener: HealthListener): () => void {
    const proxy = this.#proxy.onHealth(listener);
    const kernel = this.#kernel.health.subscribe(listener);
    return () => {
      proxy();
      kernel();
    };
  }

  async stop(graceMs?: number): Promise<void> {
    await Promise.all([this.#proxy.stop(graceMs), this.#kernel.stop()]);
  }
}
