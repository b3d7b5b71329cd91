// The kernel data plane: the layer 4 VIPs (direct-routing, nat, snat) of each revision,
// programmed into nftables as one transaction (ruleset.ts), with the appliance's own health
// checks deciding which servers take new flows. A revision, a health change, an admin state
// change and an HA role change all end the same way: the whole layer 4 ruleset is rendered
// again from the current snapshot and health and committed atomically; the dynamic maps
// (flows, persistence) survive, so established flows keep their servers.
// One VIP whose rules the kernel refuses is left out with the reason as its error; the
// others are programmed; nothing here throws into the process.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { isLayer4 } from '../../../openapi/sdk/rules.js';
import { changesSince } from '../../config/snapshot-step.js';
import { HealthChecker } from '../health/health-checker.js';
import { HealthFeed } from '../health-feed.js';
import { healthTargets } from '../health/targets.js';
import type { ConfigSnapshot, KernelFlowState, RealServerRuntime, VirtualServiceRuntime, VirtualServiceSnapshot } from '../types.js';
import { countConnections, type ConnectionCounts } from './connections.js';
import { readFlowState, renderFlowState } from './flow-state.js';
import { deviceHolding, deviceTowards } from './interfaces.js';
import { forgetConnections } from './conntrack.js';
import { serverMark } from './marks.js';
import { nftApply, nftList } from './nft.js';
import { renderPassive, renderRemoval, renderRuleset, type ExistingObjects, type KernelServer, type KernelVip } from './ruleset.js';
import { ensureSysctls, NAT_SYSCTLS } from './sysctl.js';

/** Whether a VIP of a snapshot is the kernel's (layer 4). */
export function isKernelVip(vs: VirtualServiceSnapshot): boolean {
  return isLayer4((vs as { forwarding?: string }).forwarding ?? 'proxy') === true;
}

/** What the plane is built from. */
export interface KernelPlaneOptions {
  logger: Logger;
  registry: Registry;
  /** The nftables table name in both families (LBAPPLIANCE_NFT_TABLE, default `lbappliance`). */
  table?: string;
  /** false: program nothing, every layer 4 VIP reports why (LBAPPLIANCE_KERNEL=off; test appliances outside a namespace). */
  enabled?: boolean;
}

/** The kernel data plane of the layer 4 VIPs. */
export class KernelPlane {
  readonly #log: Logger;
  readonly #table: string;
  readonly #health: HealthChecker;
  /** The health changes of the layer 4 servers (the layered engine's onHealth passes them on). */
  readonly health: HealthFeed;
  #vips: readonly VirtualServiceSnapshot[] = [];
  /** The last snapshot apply() was given. */
  #followed: ConfigSnapshot | null = null;
  #active = true;
  #stopped = false;
  /** snat VIPs translate to their VIP address (an HA pair's floating address), not the interface's. */
  #floatingSource = false;
  /** Why a VIP is not programmed, by id (absent: programmed or disabled). */
  #errors = new Map<string, string>();
  #programmed = new Set<string>();
  /** The marks of the nat and snat servers last programmed as halted (their flows' entries were forgotten then). */
  #halted = new Set<number>();
  /** The health each server had when the kernel was last programmed (what the kernel acts on). */
  #programmedHealth = new Map<string, 'up' | 'down' | 'unknown'>();
  #resolvedHealth = new Map<string, 'up' | 'down' | 'unknown'>();
  #counts: ConnectionCounts = new Map();
  #queue: Promise<unknown> = Promise.resolve();
  #pending = false;
  #poll: NodeJS.Timeout | null = null;
  /** Whether this process put rules into the tables (another appliance in the namespace may own them otherwise). */
  #owns = false;
  readonly #enabled: boolean;
  /** The HA peer's flows and persistent clients (flow-state.ts), held while passive, written in on taking over. */
  #peerState: { state: KernelFlowState; at: number } | null = null;

  constructor(options: KernelPlaneOptions) {
    this.#log = options.logger;
    this.#table = options.table ?? process.env.LBAPPLIANCE_NFT_TABLE ?? 'lbappliance';
    this.#enabled = options.enabled ?? process.env.LBAPPLIANCE_KERNEL !== 'off';
    this.#health = new HealthChecker(options.registry, options.logger.child({ component: 'kernel-health' }));
    // A server that fails (or comes back) changes the kernel's server set at once.
    this.#health.onTransition(() => this.#reprogram('health'));
    this.health = new HealthFeed((err) => this.#log.error({ err }, 'a health listener failed'));
    this.#health.onTransition((key, to, detail) => this.health.reportKey(key, to, detail));
  }

  /** Follows the layer 4 VIPs of a snapshot; resolves when the kernel runs them (or each has its error). */
  async apply(snapshot: ConfigSnapshot): Promise<void> {
    // A revision that replaced only proxy VIPs leaves the kernel's part as it is (snapshot-step.ts).
    const changes = changesSince(this.#followed, snapshot);
    this.#followed = snapshot;
    if (changes && !changes.some((c) => isKernelVip(c.before) || isKernelVip(c.after))) return;
    this.#vips = snapshot.virtualServices.filter(isKernelVip);
    this.#health.sync(this.#vips.filter((v) => v.enabled).flatMap(healthTargets));
    this.health.retain({ revision: snapshot.revision, virtualServices: this.#vips });
    if (this.#vips.length > 0 && this.#poll === null) {
      this.#poll = setInterval(() => void this.#refreshCounts(), 5000);
      this.#poll.unref();
    }
    await this.#program();
  }

  /** Whether the plane programs the kernel (false: LBAPPLIANCE_KERNEL=off). */
  get enabled(): boolean {
    return this.#enabled;
  }

  /** In an HA pair whose addresses move: snat VIPs take the VIP address as their source (see KernelPairing). */
  async setFloatingSource(floating: boolean): Promise<void> {
    if (this.#floatingSource === floating) return;
    this.#floatingSource = floating;
    await this.#program();
  }

  /** Programs (true) or removes (false) the rules: HA ownership. */
  async setActive(active: boolean): Promise<void> {
    // Already so (the HA layer programs the kernel ahead of the layer 7 engine when it takes over).
    if (active === this.#active) return;
    this.#active = active;
    this.health.active = active;
    await this.#program();
  }

  /** The flows and persistent clients in the kernel now, for the HA peer (empty unless this node carries layer 4 VIPs). */
  async exportFlowState(): Promise<KernelFlowState> {
    const vips = this.#vips.filter((v) => this.#programmed.has(v.id));
    if (!this.#active || !this.#owns || vips.length === 0) return { virtualServices: [] };
    const families = new Set<'ip' | 'netdev'>();
    for (const v of vips) {
      if (v.forwarding === 'direct-routing') families.add('netdev');
      else if (v.persistence.mode === 'source-ip') families.add('ip');
    }
    const objects: Record<string, unknown>[] = [];
    for (const family of families) objects.push(...(await nftList('table', family, this.#table).catch(() => [])));
    return readFlowState(
      objects,
      vips.map((v) => ({ id: v.id, forwarding: v.forwarding as string, persistent: v.persistence.mode === 'source-ip', realServerIds: v.realServers.map((r) => r.id) })),
    );
  }

  /** The active peer's state (the last copy wins); written into this node's maps when it takes over. Ignored while active. */
  holdPeerFlowState(state: KernelFlowState): void {
    if (this.#active && this.#owns) return;
    this.#peerState = { state, at: Date.now() };
  }

  /** The runtime of each layer 4 VIP (of `only` alone when given). */
  status(only?: string): Map<string, VirtualServiceRuntime> {
    const out = new Map<string, VirtualServiceRuntime>();
    for (const vs of this.#vips) {
      if (only !== undefined && vs.id !== only) continue;
      const realServers = new Map<string, RealServerRuntime>();
      let connections = 0;
      for (const rs of vs.realServers) {
        const cell = this.#health.peek(`${vs.id}/${rs.id}`);
        const n = this.#counts.get(serverMark(rs.id)) ?? 0;
        connections += n;
        const key = `${vs.id}/${rs.id}`;
        // The verdict the kernel runs with (a new verdict shows once its transaction is in).
        const health = this.#programmed.has(vs.id) ? (this.#programmedHealth.get(key) ?? 'unknown') : (cell?.health ?? 'unknown');
        realServers.set(rs.id, { health, connections: n, lastCheck: cell?.lastCheck ?? null });
      }
      const programmed = this.#active && this.#programmed.has(vs.id);
      out.set(vs.id, { listening: programmed, error: vs.enabled && this.#active ? (this.#errors.get(vs.id) ?? null) : null, connections, queued: 0, realServers });
    }
    return out;
  }

  /** Removes the tables and stops the checks. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#health.stop();
    if (this.#poll) clearInterval(this.#poll);
    this.#poll = null;
    await this.#serialise(async () => {
      if (!this.#owns) return;
      try {
        const script = renderRemoval(this.#table, await this.#existing());
        if (script) await nftApply(script);
      } catch (err) {
        this.#log.error({ err }, 'kernel rules not removed');
      }
    });
  }

  #reprogram(why: string): void {
    if (this.#pending || this.#stopped) return;
    this.#pending = true;
    void this.#serialise(async () => {
      this.#pending = false;
      await this.#programNow().catch((err: unknown) => this.#log.error({ err, why }, 'kernel rules not reprogrammed'));
    });
  }

  #program(): Promise<void> {
    return this.#serialise(() => this.#programNow());
  }

  #serialise<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(work, work);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async #existing(): Promise<ExistingObjects> {
    const read = async (family: 'ip' | 'netdev') => {
      try {
        // Terse: the names only, never the elements of the flow and persistence sets.
        const objects = await nftList('-t', 'table', family, this.#table);
        const names = (kind: string) => objects.flatMap((o) => (kind in o ? [(o[kind] as { name: string }).name] : []));
        return { chains: names('chain'), maps: names('map'), sets: names('set') };
      } catch {
        return null; // no such table yet
      }
    };
    return { ip: await read('ip'), netdev: await read('netdev') };
  }

  /** Renders and commits the whole layer 4 ruleset; VIPs the kernel refuses are left out with their reason. */
  async #programNow(): Promise<void> {
    if (this.#stopped) return;
    const errors = new Map<string, string>();
    const wanted = this.#active ? this.#vips.filter((v) => v.enabled && v.realServers !== undefined) : [];
    if (wanted.length === 0) {
      this.#errors = errors;
      this.#programmed = new Set();
      // Nothing programmed: a server halted when VIPs are programmed again (a takeover) has its entries forgotten then.
      this.#halted = new Set();
      if (!this.#owns) return;
      // Passive after carrying nat or snat VIPs: empty nat chains keep translating the connections left here (renderPassive).
      if (!this.#active && this.#enabled && this.#vips.some((v) => v.enabled && v.forwarding !== 'direct-routing')) {
        await nftApply(renderPassive(this.#table, await this.#existing())).catch((err: unknown) => this.#log.error({ err }, 'kernel rules of a passive node not applied'));
        return;
      }
      this.#owns = false;
      const existing = await this.#existing();
      const script = renderRemoval(this.#table, existing);
      if (script) await nftApply(script).catch((err: unknown) => this.#log.error({ err }, 'kernel rules not removed'));
      this.#errors = errors;
      this.#programmed = new Set();
      return;
    }
    if (!this.#enabled) {
      for (const v of wanted) errors.set(v.id, 'layer 4 forwarding is switched off on this node (LBAPPLIANCE_KERNEL=off)');
      this.#errors = errors;
      this.#programmed = new Set();
      this.#halted = new Set();
      return;
    }
    const resolved: KernelVip[] = [];
    this.#resolvedHealth = new Map();
    for (const vs of wanted) {
      try {
        resolved.push(await this.#resolve(vs));
      } catch (err) {
        errors.set(vs.id, (err as Error).message);
      }
    }
    if (resolved.some((v) => v.forwarding !== 'direct-routing')) {
      const problems = await ensureSysctls(NAT_SYSCTLS);
      if (problems.length > 0) for (const v of resolved) if (v.forwarding !== 'direct-routing') errors.set(v.id, problems.join('; '));
    }
    let good = resolved.filter((v) => !errors.has(v.id));
    const existing = await this.#existing();
    this.#owns = true;
    // A node taking over writes the peer's flows and persistent clients in the same transaction
    // as its rules: no packet can meet the rules without them (and enter a flow of its own
    // choosing, which the peer's entry could then not replace).
    const held = this.#peerState;
    this.#peerState = null;
    const adoption = held ? renderFlowState(this.#table, held.state, good, Math.ceil((Date.now() - held.at) / 1000)) : '';
    try {
      try {
        await nftApply(renderRuleset(this.#table, good, existing) + adoption);
        if (adoption && held) this.#log.info({ entries: held.state.virtualServices.reduce((n, v) => n + v.flows.length + v.clients.length, 0) }, 'layer 4 flows and persistent clients of the peer taken over');
      } catch (withAdoption) {
        if (!adoption) throw withAdoption;
        this.#log.error({ err: withAdoption }, "the peer's layer 4 flows were not taken over; their flows go by the flow hash");
        await nftApply(renderRuleset(this.#table, good, existing));
      }
    } catch (whole) {
      // Find the VIPs the kernel refuses, one by one (check only), and program the rest.
      for (const v of good) {
        try {
          await nftApply(renderRuleset(this.#table, [v], existing), { check: true });
        } catch (err) {
          errors.set(v.id, `the kernel refused its rules: ${(err as Error).message}`);
        }
      }
      good = good.filter((v) => !errors.has(v.id));
      try {
        await nftApply(renderRuleset(this.#table, good, existing));
      } catch (err) {
        for (const v of good) errors.set(v.id, `the kernel refused the layer 4 rules: ${(err as Error).message}`);
        good = [];
        this.#log.error({ err, first: (whole as Error).message }, 'layer 4 rules not applied');
      }
    }
    for (const [id, message] of errors) this.#log.warn({ virtualService: this.#vips.find((v) => v.id === id)?.label, error: message }, 'layer 4 virtual service not programmed');
    this.#errors = errors;
    this.#programmed = new Set(good.map((v) => v.id));
    this.#programmedHealth = this.#resolvedHealth;
    // A nat or snat server halted by this program: the forward chain resets its flows, and their
    // conntrack entries go (conntrack.ts), or a new connection from the port of a cut one is reset too.
    const halted = new Set(good.filter((v) => v.forwarding !== 'direct-routing').flatMap((v) => v.servers.filter((s) => s.halted).map((s) => s.mark)));
    const newly = [...halted].filter((mark) => !this.#halted.has(mark));
    this.#halted = halted;
    if (newly.length > 0) await forgetConnections(newly, this.#log);
  }

  /** A VIP with its servers' state and devices, as the renderer wants it. */
  async #resolve(vs: VirtualServiceSnapshot): Promise<KernelVip> {
    const forwarding = vs.forwarding as KernelVip['forwarding'];
    const servers: KernelServer[] = [];
    const seen = new Set<number>();
    for (const rs of vs.realServers) {
      const mark = serverMark(rs.id);
      if (seen.has(mark)) throw new Error(`real servers ${rs.label} and another share the kernel mark ${mark}; recreate one of them`);
      seen.add(mark);
      const health = this.#health.peek(`${vs.id}/${rs.id}`)?.health ?? 'unknown';
      this.#resolvedHealth.set(`${vs.id}/${rs.id}`, health);
      const device = forwarding === 'direct-routing' ? await deviceTowards(rs.address) : null;
      const reachable = forwarding !== 'direct-routing' || device !== null;
      // Only a server a check has seen up takes flows: the kernel cannot retry a failed connect elsewhere as a proxy does.
      const up = health === 'up' && reachable;
      servers.push({
        mark,
        address: rs.address,
        port: forwarding === 'direct-routing' ? null : rs.port,
        weight: rs.weight,
        selectable: up && rs.adminState === 'online' && rs.weight > 0,
        keepsPersistent: up && rs.adminState !== 'halt',
        halted: rs.adminState === 'halt',
        device,
        backup: rs.backup,
      });
    }
    // Backups take new flows only when no primary can (failover mode).
    const primaries = servers.filter((s) => !s.backup);
    const anyPrimary = primaries.some((s) => s.selectable);
    for (const s of servers) if (s.backup && anyPrimary) s.selectable = false;
    let ingress: string[] = [];
    if (forwarding === 'direct-routing') {
      const held = await deviceHolding(vs.ipAddress);
      ingress = [...new Set([...(held && held !== 'lo' ? [held] : []), ...servers.flatMap((s) => (s.device ? [s.device] : []))])];
      if (ingress.length === 0) throw new Error(`direct routing needs ${vs.ipAddress} on an interface of this node or a real server on a connected segment; neither was found`);
    }
    return {
      id: vs.id,
      forwarding,
      protocol: vs.protocol === 'udp' ? 'udp' : 'tcp',
      address: vs.ipAddress,
      ports: vs.ports,
      persistenceTimeout: vs.persistence.mode === 'source-ip' ? vs.persistence.timeout : null,
      snatSource: forwarding === 'snat' && this.#floatingSource ? vs.ipAddress : null,
      flowTimeout: Math.max(vs.timeouts.client, vs.timeouts.server),
      ingress,
      servers,
    };
  }

  async #refreshCounts(): Promise<void> {
    if (this.#stopped || this.#vips.length === 0) return;
    try {
      this.#counts = await countConnections(this.#table, this.#vips.filter(isKernelVip).map((v) => ({ id: v.id, directRouting: v.forwarding === 'direct-routing' })));
    } catch {
      // counts stay as they were
    }
  }
}
