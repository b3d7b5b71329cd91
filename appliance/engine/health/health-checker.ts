// The appliance's health checker: one timer loop per real server, each running the VIP's
// probe at its interval and counting rise/fall into the server's HealthCell. It reads plain
// target descriptions built from snapshots (./targets.ts). The embedded engine runs every
// check here; the HAProxy engine runs here only the kinds HAProxy has no mechanism for
// (its README) and hands HAProxy the verdicts.
import type { Logger } from 'pino';
import type { Counter, Histogram, Registry } from 'prom-client';
import { Counter as PromCounter, Histogram as PromHistogram } from 'prom-client';
import type { CheckResult } from '../types.js';
import { HealthCell, type AgentState, type Health } from './health-state.js';
import { runProbe } from './probes.js';
import type { AgentSettings, CheckKindName, DicomSettings, Hl7Settings, ProbeSpec, ScriptSettings, TcpSettings } from './probe-spec.js';
import { queryAgent } from './agent-probe.js';
import { parseAgentReply } from './agent-reply.js';
import type { BodyMatchSettings } from './content-match.js';

/** What to check for one real server of one VIP. */
export interface HealthTarget {
  /** `${virtualServiceId}/${realServerId}` */
  key: string;
  vipLabel: string;
  serverLabel: string;
  /** `none` checks nothing and reports the server up (a passive failure is retried by connects). */
  type: 'none' | CheckKindName;
  address: string;
  port: number;
  path: string;
  host: string | null;
  expectStatus: number;
  intervalMs: number;
  timeoutMs: number;
  rise: number;
  fall: number;
  expectStatuses: number[];
  bodyMatch: BodyMatchSettings;
  tcp: TcpSettings;
  dicom: DicomSettings;
  hl7: Hl7Settings;
  script: ScriptSettings;
  /** The VIP's label, address and first port (a `script` check's environment). */
  vip: { address: string; port: number };
  /** The feedback agent; `port` null has none. */
  agent: AgentSettings;
}

/** Called when a server's health changes. */
export type TransitionListener = (key: string, to: Health, detail: string) => void;

/** What the proxies need of health: each server's cell, and a way to report a failed connect. */
export interface HealthSource {
  /** The health cell of a server (created unknown on first use). */
  cell(key: string): HealthCell;
  /** The proxy could not connect to a server. */
  passiveFailure(key: string, detail: string): void;
}

interface Loop {
  target: HealthTarget;
  signature: string;
  timer: NodeJS.Timeout | null;
  running: boolean;
  stopped: boolean;
}

/** Signatures per target object (targets are reused while their VIP's snapshot is: see targets.ts). */
const signatures = new WeakMap<HealthTarget, string>();

function signatureOf(t: HealthTarget): string {
  let signature = signatures.get(t);
  if (signature === undefined) {
    signature = computeSignature(t);
    signatures.set(t, signature);
  }
  return signature;
}

function computeSignature(t: HealthTarget): string {
  return JSON.stringify([t.type, t.address, t.port, t.path, t.host, t.expectStatus, t.intervalMs, t.timeoutMs, t.rise, t.fall, t.expectStatuses, t.bodyMatch, t.tcp, t.dicom, t.hl7, t.script, t.vip]);
}

/** One server's feedback agent queries. */
interface AgentLoop {
  key: string;
  signature: string;
  timer: NodeJS.Timeout | null;
  stopped: boolean;
}

function agentSignature(t: HealthTarget): string {
  return JSON.stringify([t.address, t.agent.port, t.agent.interval, t.timeoutMs]);
}

/** Runs the health checks of every real server in the current snapshot. */
export class HealthChecker implements HealthSource {
  readonly #cells = new Map<string, HealthCell>();
  readonly #loops = new Map<string, Loop>();
  readonly #log: Logger;
  readonly #transitions: Counter<'virtual_service' | 'real_server' | 'to'> | null;
  readonly #duration: Histogram<'virtual_service' | 'real_server'> | null;
  readonly #listeners: TransitionListener[] = [];
  readonly #results: ((target: HealthTarget, result: CheckResult) => void)[] = [];
  readonly #agents = new Map<string, AgentLoop>();
  readonly #agentListeners: ((key: string, cell: HealthCell) => void)[] = [];
  #running = true;

  /** With no registry, the checker registers no series (its owner counts transitions and durations itself). */
  constructor(registry: Registry | null, logger: Logger) {
    this.#log = logger;
    if (!registry) {
      this.#transitions = null;
      this.#duration = null;
      return;
    }
    // A second checker on the same registry (the kernel plane's, beside an engine's) shares the series.
    const shared = <T>(name: string): T | undefined => registry.getSingleMetric(name) as T | undefined;
    this.#transitions = shared<Counter<'virtual_service' | 'real_server' | 'to'>>('lbappliance_health_transitions_total') ?? new PromCounter({
      name: 'lbappliance_health_transitions_total',
      help: 'Health changes of real servers, by the state entered.',
      labelNames: ['virtual_service', 'real_server', 'to'],
      registers: [registry],
    });
    this.#duration = shared<Histogram<'virtual_service' | 'real_server'>>('lbappliance_health_check_duration_seconds') ?? new PromHistogram({
      name: 'lbappliance_health_check_duration_seconds',
      help: 'Duration of active health checks.',
      labelNames: ['virtual_service', 'real_server'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
  }

  /** Registers a listener of health changes. */
  onTransition(listener: TransitionListener): void {
    this.#listeners.push(listener);
  }

  /** Registers a listener of every active check's result. */
  onResult(listener: (target: HealthTarget, result: CheckResult) => void): void {
    this.#results.push(listener);
  }

  /** Registers a listener of every agent reply (the cell holds the agent's new state). */
  onAgent(listener: (key: string, cell: HealthCell) => void): void {
    this.#agentListeners.push(listener);
  }

  /** The health cell of a server (created unknown on first use). */
  cell(key: string): HealthCell {
    let cell = this.#cells.get(key);
    if (!cell) {
      cell = new HealthCell();
      this.#cells.set(key, cell);
    }
    return cell;
  }

  /** Every verdict other than unknown, by server key. */
  verdicts(): [string, Health][] {
    return [...this.#cells].filter(([, c]) => c.health !== 'unknown').map(([key, c]) => [key, c.health]);
  }

  /** What every server's feedback agent asked for, by server key (servers with an agent). */
  agents(): [string, AgentState][] {
    return [...this.#cells].filter(([key]) => this.#agents.has(key)).map(([key, c]) => [key, c.agent]);
  }

  /** The health cell of a server if it has one. */
  peek(key: string): HealthCell | undefined {
    return this.#cells.get(key);
  }

  /** Follows a new set of targets: unchanged ones keep their loop and verdict. */
  sync(targets: readonly HealthTarget[]): void {
    const wanted = new Map(targets.map((t) => [t.key, t]));
    this.#follow(this.#loops.keys(), wanted, targets);
    this.#syncAgents(this.#agents.keys(), wanted);
  }

  /**
   * Follows new targets of some servers only, as `sync` would with every other target as it
   * is: `previous` are the keys those servers had (a changed VIP's servers before the change),
   * `targets` what they have now. A revision that changes one VIP of a thousand looks at one.
   */
  syncPart(previous: Iterable<string>, targets: readonly HealthTarget[]): void {
    const wanted = new Map(targets.map((t) => [t.key, t]));
    const keys = new Set(previous);
    for (const key of wanted.keys()) keys.add(key);
    this.#follow(keys, wanted, targets);
    this.#syncAgents(keys, wanted);
  }

  /** The loops of `keys` follow `wanted`; the targets without a loop get one. */
  #follow(keys: Iterable<string>, wanted: Map<string, HealthTarget>, targets: readonly HealthTarget[]): void {
    for (const key of keys) {
      const loop = this.#loops.get(key);
      if (!loop) continue;
      const next = wanted.get(key);
      if (!next || signatureOf(next) !== loop.signature) {
        this.#stopLoop(loop);
        this.#loops.delete(key);
        if (!next) this.#cells.delete(key);
        // Reset in place: the proxies hold this cell.
        else if (next.address !== loop.target.address || next.port !== loop.target.port || next.type !== loop.target.type) this.#cells.get(key)?.reset();
      } else {
        loop.target = next; // labels may change without touching the loop
      }
    }
    for (const target of targets) {
      if (this.#loops.has(target.key)) continue;
      const loop: Loop = { target, signature: signatureOf(target), timer: null, running: false, stopped: false };
      this.#loops.set(target.key, loop);
      const cell = this.cell(target.key);
      if (target.type === 'none' && cell.health !== 'down') this.#transition(target, cell.force('up'), 'no health check');
      // Spread first checks a little so a big revision does not probe everything at once.
      this.#schedule(loop, target.type === 'none' ? target.intervalMs : Math.floor(Math.random() * Math.min(200, target.intervalMs)));
    }
  }

  /** Agent loops of `keys` follow the targets that have an agent; a server that lost its agent forgets its state. */
  #syncAgents(keys: Iterable<string>, wanted: Map<string, HealthTarget>): void {
    for (const key of keys) {
      const loop = this.#agents.get(key);
      if (!loop) continue;
      const t = wanted.get(key);
      if (t && t.agent.port !== null && agentSignature(t) === loop.signature) continue;
      loop.stopped = true;
      if (loop.timer) clearTimeout(loop.timer);
      this.#agents.delete(key);
      const cell = this.#cells.get(key);
      if (t && cell) this.#transition(t, cell.clearAgent(), 'agent removed');
    }
    for (const t of wanted.values()) {
      if (t.agent.port === null || this.#agents.has(t.key)) continue;
      const loop: AgentLoop = { key: t.key, signature: agentSignature(t), timer: null, stopped: false };
      this.#agents.set(t.key, loop);
      this.#scheduleAgent(loop, t, Math.floor(Math.random() * 200));
    }
  }

  #scheduleAgent(loop: AgentLoop, t: HealthTarget, delayMs: number): void {
    if (loop.stopped || !this.#running) return;
    loop.timer = setTimeout(() => {
      loop.timer = null;
      void this.#queryAgent(loop, t);
    }, delayMs);
    loop.timer.unref();
  }

  async #queryAgent(loop: AgentLoop, t: HealthTarget): Promise<void> {
    const port = t.agent.port as number;
    const answer = await queryAgent(t.address, port, Math.min(t.timeoutMs, t.agent.interval * 1000));
    if (loop.stopped) return;
    const cell = this.cell(t.key);
    const change = answer.ok ? cell.recordAgent(answer.line, parseAgentReply(answer.line)) : cell.recordAgent(`agent: ${answer.reason}`, null);
    this.#transition(t, change, `agent: ${answer.ok ? answer.line : answer.reason}`);
    for (const l of this.#agentListeners) {
      try {
        l(t.key, cell);
      } catch (err) {
        this.#log.error({ virtualService: t.vipLabel, realServer: t.serverLabel, err }, 'an agent listener failed');
      }
    }
    this.#scheduleAgent(loop, t, t.agent.interval * 1000);
  }

  /** The proxy could not connect to a server: it counts as down at once. */
  passiveFailure(key: string, detail: string): void {
    const loop = this.#loops.get(key);
    const cell = this.#cells.get(key);
    if (!loop || !cell) return;
    this.#transition(loop.target, cell.passiveFailure(detail), `passive: ${detail}`);
  }

  /** Stops every loop. */
  stop(): void {
    this.#running = false;
    for (const loop of this.#loops.values()) this.#stopLoop(loop);
    this.#loops.clear();
    for (const loop of this.#agents.values()) {
      loop.stopped = true;
      if (loop.timer) clearTimeout(loop.timer);
    }
    this.#agents.clear();
  }

  #stopLoop(loop: Loop): void {
    loop.stopped = true;
    if (loop.timer) clearTimeout(loop.timer);
    loop.timer = null;
  }

  #schedule(loop: Loop, delayMs: number): void {
    if (loop.stopped || !this.#running) return;
    loop.timer = setTimeout(() => void this.#check(loop), delayMs);
    loop.timer.unref();
  }

  /** One check of one server; whatever throws fails that server's check, never the process (issue 19). */
  async #check(loop: Loop): Promise<void> {
    loop.timer = null;
    try {
      await this.#checkOnce(loop);
    } catch (err) {
      const t = loop.target;
      this.#log.error({ virtualService: t.vipLabel, realServer: t.serverLabel, err }, 'health check failed unexpectedly');
      if (!loop.stopped) {
        try {
          const res: CheckResult = { at: new Date().toISOString(), ok: false, durationMs: 0, detail: `check failed: ${(err as Error)?.message ?? String(err)}` };
          this.#transition(t, this.cell(t.key).record(res, t.rise, t.fall), res.detail);
        } catch {
          // the verdict stays as it was; the next check tries again
        }
        if (loop.timer === null) this.#schedule(loop, t.intervalMs);
      }
    }
  }

  async #checkOnce(loop: Loop): Promise<void> {
    const t = loop.target;
    const cell = this.cell(t.key);
    // `none`: nothing to check while up; after a passive failure, connects tell when it is back.
    if (t.type === 'none' && cell.health !== 'down') return this.#schedule(loop, t.intervalMs);
    const spec: ProbeSpec = {
      type: t.type === 'none' ? 'connect' : t.type,
      address: t.address,
      port: t.port,
      path: t.path,
      host: t.host,
      expectStatus: t.expectStatus,
      timeoutMs: t.timeoutMs,
      expectStatuses: t.expectStatuses,
      bodyMatch: t.bodyMatch,
      tcp: t.tcp,
      dicom: t.dicom,
      hl7: t.hl7,
      script: t.script,
      names: { vip: t.vipLabel, vipAddress: t.vip.address, vipPort: t.vip.port, server: t.serverLabel },
    };
    const res: CheckResult = await runProbe(spec);
    if (loop.stopped) return;
    this.#duration?.labels(t.vipLabel, t.serverLabel).observe(res.durationMs / 1000);
    for (const l of this.#results) l(t, res);
    const change = t.type === 'none' ? (res.ok ? cell.force('up') : null) : cell.record(res, t.rise, t.fall);
    if (t.type === 'none') cell.lastCheck = res;
    this.#transition(t, change, res.detail);
    this.#schedule(loop, t.intervalMs);
  }

  #transition(t: HealthTarget, to: Health | null, detail: string): void {
    if (to === null) return;
    this.#transitions?.labels(t.vipLabel, t.serverLabel, to).inc();
    this.#log.info({ virtualService: t.vipLabel, realServer: t.serverLabel, health: to, detail }, 'real server health changed');
    for (const l of this.#listeners) {
      try {
        l(t.key, to, detail);
      } catch (err) {
        this.#log.error({ virtualService: t.vipLabel, realServer: t.serverLabel, err }, 'a health listener failed');
      }
    }
  }
}
