// The HAProxy engine: Debian's HAProxy carries the VIPs, configured and steered by the
// appliance. Every revision is rendered and checked with `haproxy -c` before anything
// changes (check). apply() is the reload agent: it takes the cheapest hitless path the
// change plan finds (runtime API, else a seamless reload), keeps the last good
// configuration, and falls back to a reload when a runtime command is refused. Live status
// and metrics come from HAProxy's `show stat`, and so do the health changes onHealth
// publishes (each read compares every server's verdict with the last one).
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import { ApplianceError } from '../../errors.js';
import { writeFileAtomic } from '../../config/atomic-file.js';
import { changesSince, vipOf } from '../../config/snapshot-step.js';
import type { ApplyReport, ConfigSnapshot, Engine, EngineStatus, PersistenceReplication, PersistenceSync, PersistenceTables, RealServerRuntime, VipChange, VirtualServiceRuntime, VirtualServiceSnapshot } from '../types.js';
import { keepsSourceTable } from '../client-network.js';
import { backendName } from './names.js';
import { bindProbe, checkListeners } from '../listen-probe.js';
import { onlyServerStates, planChanges, type RuntimeStep } from './change-plan.js';
import { checkCandidate } from './config-check.js';
import { certFiles, renderConfig, type PeersSettings, type RenderSettings } from './config-render.js';
import { HaproxyMetrics } from './haproxy-metrics.js';
import { ERROR_FILES, LUA_SOURCE } from './lua-actions.js';
import { MasterProcess } from './master-process.js';
import { readPersistenceTable, readStickTables, restoreStickTables } from './stick-tables.js';
import { RuntimeApi, RuntimeApiError } from './runtime-api.js';
import { CheckClock, readStats, type VipStat } from './stats-reader.js';
import { installTransparentRouting, removeTransparentRouting } from '../transparent-routing.js';
import { ApplianceChecks } from './appliance-checks.js';
import { HealthFeed, type HealthListener } from '../health-feed.js';

/** What the HAProxy engine is built from. */
export interface HaproxyEngineOptions {
  logger: Logger;
  registry: Registry;
  dataDir: string;
  /** The haproxy binary (default LBAPPLIANCE_HAPROXY_BIN or /usr/sbin/haproxy). */
  binary?: string;
  /** Seconds an old worker may keep long sessions after a reload (default 300). */
  hardStopAfter?: number;
  /** This node's peer name (default: the host name). */
  localPeerName?: string;
}

/** How often status is read from HAProxy when nobody asks. */
const POLL_MS = 250;
/**
 * The most of one core the unasked reads may take: a read that takes longer than 1/POLL_SHARE of
 * POLL_MS waits that many times its own duration before the next. A few VIPs are read every
 * 250 ms; a thousand (`show stat` of three thousand rows, about 25 ms to read) every half
 * second or so, instead of taking half a core. HAProxy acts on its own checks at once either way;
 * this is how soon the appliance reports them.
 */
const POLL_SHARE = 20;
/** The longest wait between unasked reads (a read slowed by a reload or a loaded machine does not stretch it further). */
const POLL_MAX_MS = 2000;

/** Counts of how changes were applied. */
export interface ApplyCounts {
  /** Applies done with runtime-API commands only. */
  runtime: number;
  /** Applies that needed a seamless reload. */
  reloads: number;
  /** Unexpected HAProxy exits the supervisor recovered from. */
  restarts: number;
}

function peerName(name: string): string {
  // HAProxy peer names: letters, digits, '-', '_', '.', ':'.
  return name.replace(/[^A-Za-z0-9._:-]/g, '_') || 'lbappliance';
}

async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen({ host, port: 0, exclusive: true }, () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}


/** The haproxy binary this engine runs: LBAPPLIANCE_HAPROXY_BIN or Debian's /usr/sbin/haproxy. */
export function haproxyBinary(): string {
  return process.env.LBAPPLIANCE_HAPROXY_BIN ?? '/usr/sbin/haproxy';
}

/** The HAProxy data plane. */
export class HaproxyEngine implements Engine {
  readonly kind = 'haproxy' as const;
  /** HAProxy replicates source-IP tables itself, with `peers`: the HA layer points it at the peer. */
  readonly persistenceSync: PersistenceSync = { kind: 'engine', setPeer: (settings) => this.setReplication(settings) };
  /** The backends' stick tables, read and cleared through the runtime API. */
  readonly persistenceTables: PersistenceTables = {
    list: async (vsId) => {
      const vs = this.#running.virtualServices.find((v) => v.id === vsId);
      if (!vs || !keepsSourceTable(vs.persistence)) return [];
      const rows = await readPersistenceTable(this.#runtime, backendName(vsId), vs.persistence).catch(() => []);
      return rows.map(({ client, realServerId, expiresInSeconds }) => ({ client, realServerId, expiresInSeconds }));
    },
    clear: async (vsId, key) => {
      const vs = this.#running.virtualServices.find((v) => v.id === vsId);
      if (!vs || !keepsSourceTable(vs.persistence)) return false;
      const table = backendName(vsId);
      const row = (await readPersistenceTable(this.#runtime, table, vs.persistence)).find((r) => r.client === key);
      if (!row) return false;
      await this.#runtime.change(`clear table ${table} key ${row.raw}`);
      return true;
    },
  };
  readonly #o: HaproxyEngineOptions;
  readonly #log: Logger;
  readonly #binary: string;
  readonly #home: string;
  #runtime!: RuntimeApi;
  #master!: MasterProcess;
  #certDir = '';
  #luaFile = '';
  readonly #errorFiles = new Map<number, string>();
  #adminSocket = '';
  #settings!: RenderSettings;
  /** What HAProxy runs now. */
  #running: ConfigSnapshot = { revision: 0, virtualServices: [] };
  /** The last revision the store asked for, applied or not: its listeners are this engine's to bind (the listen check probes only new ones). */
  #requested: ConfigSnapshot = { revision: 0, virtualServices: [] };
  #active = true;
  #peers!: PeersSettings;
  #stopped = false;
  #queue: Promise<unknown> = Promise.resolve();
  #stats = new Map<string, VipStat>();
  readonly #clock = new CheckClock();
  readonly #metrics: HaproxyMetrics;
  /** The checks HAProxy cannot run (./appliance-checks.ts). */
  readonly #checks: ApplianceChecks;
  #poller: NodeJS.Timeout | null = null;
  /** Health changes for onHealth, seen at each stats read (HAProxy's checks and the appliance's alike). */
  readonly #feed: HealthFeed;
  #refreshing: Promise<void> | null = null;
  /** `del server` steps waiting for the server's last connections. */
  readonly #pendingDeletes = new Set<string>();
  readonly counts: ApplyCounts = { runtime: 0, reloads: 0, restarts: 0 };
  /** Whether this engine installed the transparent VIPs' policy routing (transparent-routing.ts). */
  #transparentRouting = false;

  constructor(options: HaproxyEngineOptions) {
    this.#o = options;
    this.#log = options.logger;
    this.#binary = options.binary ?? haproxyBinary();
    this.#home = join(options.dataDir, 'haproxy');
    this.#feed = new HealthFeed((err) => this.#log.error({ err }, 'a health listener failed'));
    this.#metrics = new HaproxyMetrics(options.registry, () => this.#refresh());
    this.#checks = new ApplianceChecks(options.logger.child({ component: 'health' }), (command) => this.#runtime.change(command));
    this.#checks.onResult((t, result) => this.#metrics.observeCheck(t.vipLabel, t.serverLabel, result.durationMs));
    const counts = this.counts;
    const master = () => this.#master;
    new Gauge({
      name: 'lbappliance_engine_reloads',
      help: 'Configuration changes that needed a seamless HAProxy reload since start (the HAProxy engine).',
      registers: [options.registry],
      collect() {
        this.set(counts.reloads);
      },
    });
    new Gauge({
      name: 'lbappliance_engine_runtime_applies',
      help: 'Configuration changes applied through HAProxy\'s runtime API without a reload since start.',
      registers: [options.registry],
      collect() {
        this.set(counts.runtime);
      },
    });
    new Gauge({
      name: 'lbappliance_engine_restarts',
      help: 'Times the supervisor restarted HAProxy after it died, since start.',
      registers: [options.registry],
      collect() {
        this.set(master()?.restarts ?? 0);
      },
    });
  }

  async start(): Promise<void> {
    await mkdir(this.#home, { recursive: true, mode: 0o700 });
    this.#certDir = join(this.#home, 'certs');
    await mkdir(this.#certDir, { recursive: true, mode: 0o700 });
    this.#luaFile = join(this.#home, 'actions.lua');
    await writeFileAtomic(this.#luaFile, LUA_SOURCE, 0o600);
    for (const [status, text] of Object.entries(ERROR_FILES)) {
      const file = join(this.#home, `${status}.http`);
      await writeFileAtomic(file, text, 0o600);
      this.#errorFiles.set(Number(status), file);
    }
    // Unix socket paths are limited to about 100 bytes: a deep data dir gets them in tmp.
    let runDir = join(this.#home, 'run');
    if (join(runDir, 'master.sock').length > 100) runDir = await mkdtemp(join(tmpdir(), 'lbappliance-haproxy-'));
    await mkdir(runDir, { recursive: true, mode: 0o700 });
    this.#adminSocket = join(runDir, 'admin.sock');
    this.#runtime = new RuntimeApi(this.#adminSocket);
    this.#master = new MasterProcess({ binary: this.#binary, configPath: join(this.#home, 'haproxy.cfg'), masterSocket: join(runDir, 'master.sock'), pidFile: join(this.#home, 'master.pid'), runtime: this.#runtime, logger: this.#log.child({ component: 'haproxy' }) });
    // On its own the node still needs a local peer: an old worker hands its tables to the new one through it.
    this.#peers = { localName: peerName(this.#o.localPeerName ?? hostname()), localAddress: '127.0.0.1', port: await freePort('127.0.0.1'), remote: null };
    this.#settings = this.#settingsWith(new Map());
    try {
      await this.#master.start(renderConfig(this.#running, this.#settings));
    } catch (err) {
      throw new ApplianceError('LB_ENGINE_REFUSED', `HAProxy (${this.#binary}) does not start: ${(err as Error).message}`, { cause: err });
    }
    this.#poll(POLL_MS);
  }

  checkListeners(snapshot: ConfigSnapshot): Promise<void> {
    return this.#serialise(async () => {
      if (this.#active) await checkListeners(snapshot, this.#requested);
    });
  }

  check(snapshot: ConfigSnapshot): Promise<void> {
    return this.#serialise(async () => {
      // A revision that only changes server weights or admin states of the last one HAProxy
      // accepted renders no line its parser could refuse: no `haproxy -c` (O(VIPs)) for it.
      const settings = this.#settingsWith(new Map());
      if (this.#lastChecked && onlyServerStates(planChanges(this.#lastChecked, snapshot, settings, settings, changesSince(this.#lastChecked, snapshot)))) {
        this.#lastChecked = snapshot;
        return;
      }
      const verdict = await checkCandidate(this.#binary, join(this.#home, 'check'), snapshot, settings);
      if (!verdict.ok) {
        throw new ApplianceError('LB_ENGINE_REFUSED', `HAProxy refuses the configuration this revision renders to: ${verdict.alerts.join('; ')}`, { field: fieldOf(snapshot, verdict.alerts) });
      }
      this.#lastChecked = snapshot;
    });
  }

  /** The newest snapshot `haproxy -c` accepted (or that only changed server states of one it accepted). */
  #lastChecked: ConfigSnapshot | null = null;

  apply(snapshot: ConfigSnapshot): Promise<ApplyReport> {
    this.#requested = snapshot;
    return this.#serialise(() => this.#apply(snapshot, this.#active, this.#peers));
  }

  setActive(active: boolean): Promise<void> {
    return this.#serialise(async () => {
      if (this.#active === active) return;
      await this.#apply(this.#running, active, this.#peers);
      this.#log.info({ active }, active ? 'VIPs bound (active)' : 'VIPs released (passive)');
    });
  }

  setReplication(settings: PersistenceReplication | null): Promise<void> {
    return this.#serialise(async () => {
      const peers: PeersSettings = settings
        ? { localName: peerName(settings.localName), localAddress: settings.localAddress, port: settings.port, remote: { name: peerName(settings.peer.name), address: settings.peer.address, port: settings.port } }
        : { ...this.#peers, localAddress: '127.0.0.1', port: await freePort('127.0.0.1'), remote: null };
      await this.#apply(this.#running, this.#active, peers);
    });
  }

  status(onlyVirtualService?: string): EngineStatus {
    const up = this.#master?.running ?? false;
    const virtualServices = new Map<string, VirtualServiceRuntime>();
    for (const vs of this.#running.virtualServices) {
      if (onlyVirtualService !== undefined && vs.id !== onlyVirtualService) continue;
      const st = up ? this.#stats.get(vs.id) : undefined;
      const realServers = new Map<string, RealServerRuntime>();
      for (const rs of vs.realServers) {
        const s = st?.servers.get(rs.id);
        realServers.set(rs.id, {
          health: s?.health ?? 'unknown',
          connections: s?.connections ?? 0,
          lastCheck: s?.lastCheck ?? null,
          // HAProxy's weight column keeps the agent's share while it drains or is in maintenance.
          effectiveWeight: !s ? rs.weight : /^(DRAIN|MAINT)/.test(s.status) ? 0 : s.weight,
          agent: s?.agent ? { at: s.agent.at, reply: CheckClock.agentReply(s, rs.weight, rs.adminState === 'halt') ?? '' } : null,
        });
      }
      const listening = vs.enabled && this.#active && (st?.listening ?? false);
      let error: string | null = null;
      if (vs.enabled && this.#active && !listening) error = this.#settings.unbindable.get(vs.id) ?? this.#master?.error ?? (up ? null : 'haproxy is not running');
      virtualServices.set(vs.id, { listening, error, connections: st?.connections ?? 0, queued: st?.queued ?? 0, realServers });
    }
    return { revision: this.#running.revision, active: this.#active, virtualServices };
  }

  async stop(graceMs = 5000): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.#queue;
    if (this.#poller) clearTimeout(this.#poller);
    this.#checks.stop();
    this.#active = false;
    await this.#master?.stop(graceMs);
    if (this.#transparentRouting) await removeTransparentRouting().catch(() => undefined);
    this.#transparentRouting = false;
  }

  /** The runtime API client (for tests and tools that read HAProxy directly). */
  get runtimeApi(): RuntimeApi {
    return this.#runtime;
  }

  /** The supervised master (restarts, last exit). */
  get master(): MasterProcess {
    return this.#master;
  }

  #settingsWith(unbindable: Map<string, string>, active = this.#active, peers = this.#peers): RenderSettings {
    return { adminSocket: this.#adminSocket, luaFile: this.#luaFile, errorFiles: this.#errorFiles, certDir: this.#certDir, active, hardStopAfter: this.#o.hardStopAfter ?? 300, peers, unbindable };
  }

  /** VIPs whose address and port HAProxy could not bind (not on this host, taken by another program). */
  async #unbindable(snapshot: ConfigSnapshot, active: boolean, changes: readonly VipChange[] | null): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (!active) return out;
    // A VIP running as it is, and bound, needs no probe: only new, changed or unbound ones are
    // looked at (with a revision's changes, those and the unbound ones alone).
    const running = changes ? null : new Map(this.#running.virtualServices.map((vs) => [vs.id, vs]));
    const runningOf = (id: string) => (running ? running.get(id) : vipOf(this.#running, id));
    const boundNow = (vs: VirtualServiceSnapshot) => this.#active && vs.enabled && runningOf(vs.id) === vs && !this.#settings.unbindable.has(vs.id);
    // With changes: the changed VIPs and the unbound ones, each once.
    const candidates = changes ? [...new Map([...changes.map((c) => c.after), ...[...this.#settings.unbindable.keys()].flatMap((id) => vipOf(snapshot, id) ?? [])].map((vs) => [vs.id, vs])).values()] : snapshot.virtualServices;
    const toProbe = candidates.filter((vs) => vs.enabled && !boundNow(vs));
    if (toProbe.length === 0) return out;
    // The addresses HAProxy holds now need no probe.
    const wasBound = (vs: VirtualServiceSnapshot | undefined): vs is VirtualServiceSnapshot => vs !== undefined && vs.enabled && this.#active && !this.#settings.unbindable.has(vs.id);
    let bound: Set<string> | null = null;
    const holds = (vs: VirtualServiceSnapshot, port: number): boolean => {
      // The VIP's own address before the change answers without a pass over every VIP.
      const before = runningOf(vs.id);
      if (wasBound(before) && before.ipAddress === vs.ipAddress && before.ports.includes(port)) return true;
      if (!bound) {
        bound = new Set();
        for (const v of this.#running.virtualServices) if (wasBound(v)) for (const p of v.ports) bound.add(`${v.ipAddress}|${p}`);
      }
      return bound.has(`${vs.ipAddress}|${port}`);
    };
    for (const vs of toProbe) {
      for (const port of vs.ports) {
        if (holds(vs, port)) continue;
        const why = await bindProbe(vs.ipAddress, port);
        if (why) {
          out.set(vs.id, why.message);
          break;
        }
      }
    }
    return out;
  }

  async #apply(snapshot: ConfigSnapshot, active: boolean, peers: PeersSettings): Promise<ApplyReport> {
    const started = performance.now();
    // Made from the running revision by replacing VIPs, with the same ownership and peers: only those VIPs are looked at (snapshot-step.ts).
    const changes = active === this.#active && peers === this.#peers ? changesSince(this.#running, snapshot) : null;
    const settings = this.#settingsWith(await this.#unbindable(snapshot, active, changes), active, peers);
    const plan = planChanges(this.#running, snapshot, this.#settings, settings, changes);
    // Rendered only when HAProxy must read it (a reload); runtime changes record it lazily.
    const config = (): string => renderConfig(snapshot, settings);
    await this.#writeCerts(snapshot, changes);
    // The return path of transparent VIPs is in place before HAProxy connects from clients' addresses.
    const transparentVip = (vs: VirtualServiceSnapshot) => vs.enabled && vs.transparent;
    const transparent = active && (changes && !changes.some((c) => transparentVip(c.before) || transparentVip(c.after)) ? this.#transparentRouting : snapshot.virtualServices.some(transparentVip));
    if (transparent && !this.#transparentRouting) {
      try {
        await installTransparentRouting();
      } catch (err) {
        const vs = snapshot.virtualServices.find((v) => v.enabled && v.transparent);
        throw new ApplianceError('LB_ENGINE_REFUSED', `cannot install the policy routing of transparent VIPs (root and nftables needed): ${(err as Error).message}`, { field: vs ? `/virtualServices/${vs.id}/transparent` : undefined, cause: err });
      }
      this.#transparentRouting = true;
    }
    let reloaded = plan.reloadReasons.length > 0;
    if (!reloaded) {
      try {
        await this.#runSteps(plan.steps);
        this.#master.record(config);
      } catch (err) {
        this.#log.warn({ err: (err as Error).message }, 'runtime API refused a change; reloading instead');
        reloaded = true;
      }
    }
    if (reloaded) {
      // Counters of the old worker are read once more before the new one starts from zero.
      await this.#refresh().catch(() => undefined);
      // Source-IP persistence survives the reload: see ./stick-tables.ts.
      const carried = await readStickTables(this.#runtime).catch(() => null);
      try {
        await this.#master.reload(config());
      } catch (err) {
        throw new ApplianceError('LB_ENGINE_REFUSED', `HAProxy did not take the new configuration (the last good one keeps running): ${(err as Error).message}`, { cause: err });
      }
      if (carried && carried.size > 0) {
        await restoreStickTables(this.#runtime, carried).then(
          (n) => this.#log.debug({ entries: n }, 'source-IP persistence carried over the reload'),
          (err: unknown) => this.#log.warn({ err: (err as Error).message }, 'could not carry source-IP persistence over the reload'),
        );
      }
      this.#pendingDeletes.clear();
      this.counts.reloads++;
      this.#log.info({ revision: snapshot.revision, reasons: plan.reloadReasons }, 'haproxy reloaded');
    } else if (plan.steps.length > 0) this.counts.runtime++;
    if (!transparent && this.#transparentRouting) {
      await removeTransparentRouting().catch((err: unknown) => this.#log.warn({ err: (err as Error).message }, 'could not remove the policy routing of transparent VIPs'));
      this.#transparentRouting = false;
    }
    this.#running = snapshot;
    this.#active = active;
    this.#feed.active = active;
    if (changes) this.#feed.retainChanged(changes);
    else this.#feed.retain(snapshot);
    this.#peers = peers;
    this.#settings = settings;
    if (changes) this.#checks.syncChanged(changes);
    else this.#checks.sync(snapshot);
    // Weights and admin states change no row of `show stat` the status reads: no re-read of
    // every server for them (the poller reads within POLL_MS anyway).
    if (reloaded || !onlyServerStates(plan)) {
      await this.#removeStaleCerts(snapshot);
      await this.#refresh().catch(() => undefined);
    }
    return { revision: snapshot.revision, durationMs: performance.now() - started, listenersChanged: reloaded ? plan.listenersChanged : 0 };
  }

  async #runSteps(steps: RuntimeStep[]): Promise<void> {
    for (const step of steps) {
      try {
        await this.#runtime.change(step.command, step.payload);
      } catch (err) {
        // A removed server still finishing its sessions: it is in maintenance, deleted once idle.
        if (step.deferrable && err instanceof RuntimeApiError) this.#deleteLater(step.command);
        else throw err;
      }
    }
  }

  #deleteLater(command: string): void {
    this.#pendingDeletes.add(command);
    const attempt = (left: number) => {
      if (!this.#pendingDeletes.has(command) || this.#stopped) return;
      this.#runtime.change(command).then(
        () => this.#pendingDeletes.delete(command),
        () => {
          if (left > 0) setTimeout(() => attempt(left - 1), 1000).unref();
          else this.#pendingDeletes.delete(command);
        },
      );
    };
    setTimeout(() => attempt(600), 1000).unref();
  }

  async #writeCerts(snapshot: ConfigSnapshot, changes: readonly VipChange[] | null): Promise<void> {
    const byId = changes ? new Map(changes.map((c) => [c.after.id, c.before])) : new Map(this.#running.virtualServices.map((v) => [v.id, v]));
    for (const vs of changes ? changes.map((c) => c.after) : snapshot.virtualServices) {
      const old = byId.get(vs.id);
      if (old === vs) continue; // the same frozen snapshot: its files are written
      const before = new Map((old ? certFiles(old, this.#certDir) : []).map((f) => [f.path, f.content]));
      for (const f of certFiles(vs, this.#certDir)) if (before.get(f.path) !== f.content) await writeFileAtomic(f.path, f.content, 0o600);
    }
  }

  async #removeStaleCerts(snapshot: ConfigSnapshot): Promise<void> {
    const keep = new Set(snapshot.virtualServices.flatMap((v) => certFiles(v, this.#certDir)).map((f) => basename(f.path)));
    for (const name of await readdir(this.#certDir).catch(() => [] as string[])) {
      if ((name.endsWith('.pem') || name.endsWith('.crtlist')) && !keep.has(name)) await rm(join(this.#certDir, name), { force: true });
    }
  }

  /** Reads the status after `delayMs`, then again after POLL_MS or POLL_SHARE times the read's duration, whichever is longer (at most POLL_MAX_MS). */
  #poll(delayMs: number): void {
    this.#poller = setTimeout(() => {
      const started = performance.now();
      void this.#refresh()
        .catch(() => undefined)
        .then(() => {
          if (!this.#stopped) this.#poll(Math.min(POLL_MAX_MS, Math.max(POLL_MS, POLL_SHARE * (performance.now() - started))));
        });
    }, delayMs);
    this.#poller.unref();
  }

  /** Reads `show stat` into the live status and the metrics (one read at a time). */
  #refresh(): Promise<void> {
    if (!this.#master?.running) return Promise.resolve();
    this.#refreshing ??= (async () => {
      try {
        const rows = await this.#runtime.stats();
        const { vips, freshChecks } = readStats(rows, this.#clock);
        this.#checks.overlay(this.#running, vips);
        this.#stats = vips;
        const byId = new Map(this.#running.virtualServices.map((v) => [v.id, v]));
        for (const c of freshChecks) {
          const vs = byId.get(c.vsId);
          const rs = vs?.realServers.find((r) => r.id === c.rsId);
          if (vs && rs) this.#metrics.observeCheck(vs.label, rs.label, c.result.durationMs);
        }
        this.#metrics.update(this.#running, vips);
        this.#publishHealth(vips);
        this.counts.restarts = this.#master.restarts;
      } finally {
        this.#refreshing = null;
      }
    })();
    return this.#refreshing;
  }

  onHealth(listener: HealthListener): () => void {
    return this.#feed.subscribe(listener);
  }

  /** Reports every server's verdict of a stats read to the feed (which publishes the changes). */
  #publishHealth(vips: ReadonlyMap<string, VipStat>): void {
    for (const vs of this.#running.virtualServices) {
      const st = vips.get(vs.id);
      if (!st) continue;
      for (const rs of vs.realServers) {
        const s = st.servers.get(rs.id);
        if (s) this.#feed.report(vs.id, rs.id, s.health, s.lastCheck?.detail ?? '');
      }
    }
  }

  #serialise<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}

/** The API field a refusal points at: the VIP or real server HAProxy named, when it named one. */
function fieldOf(snapshot: ConfigSnapshot, alerts: string[]): string | undefined {
  const text = alerts.join(' ');
  for (const vs of snapshot.virtualServices) {
    for (const rs of vs.realServers) if (text.includes(`'${rs.id}'`) || text.includes(`/${rs.id}`)) return `/realServers/${rs.id}`;
    if (text.includes(vs.id)) return `/virtualServices/${vs.id}`;
  }
  return undefined;
}
