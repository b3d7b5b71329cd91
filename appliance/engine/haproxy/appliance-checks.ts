// The checks HAProxy has no mechanism for, run by the appliance beside HAProxy: `dicom`
// (an association, a C-ECHO and a release, with the rejection reason decoded), `hl7`
// (a message with a fresh control id whose ACK must name it) and `script` (HAProxy's
// external-check passes no arguments of ours, forks from the proxy process and needs
// `insecure-fork-wanted` for the whole process: the appliance runs the program with its
// directory confinement, re-checked at every run). Their servers
// carry no `check` in the configuration; the appliance's own HealthChecker runs the check and
// its verdict is handed to HAProxy with `set server BACKEND/SERVER health up|down`. The
// verdict is compared with what HAProxy reports at every stats read and handed over again
// when they differ, so a reload or a restarted worker (whose servers start up) follows the
// verdict within one read. The overview shows the appliance's verdict and last check.
import type { Logger } from 'pino';
import type { CheckResult, ConfigSnapshot, VipChange, VirtualServiceSnapshot } from '../types.js';
import { HealthChecker, type HealthTarget } from '../health/health-checker.js';
import type { Health } from '../health/health-state.js';
import { healthTargets, serverKeys } from '../health/targets.js';
import { backendName, serverName } from './names.js';
import type { VipStat } from './stats-reader.js';

/** Check types the appliance runs itself on the HAProxy engine. */
const APPLIANCE_RUN: ReadonlySet<string> = new Set(['dicom', 'hl7', 'script']);

/**
 * Whether the appliance, not HAProxy, checks the servers of `vs`: dicom and hl7, and an
 * http(s) check with a `regex` body match (the pattern was judged by V8's linear-time
 * engine; HAProxy's PCRE reads some ECMAScript differently, so the appliance runs it).
 */
export function checkedByAppliance(vs: VirtualServiceSnapshot): boolean {
  const hc = vs.healthCheck;
  return APPLIANCE_RUN.has(hc.type) || ((hc.type === 'http' || hc.type === 'https') && hc.bodyMatch?.kind === 'regex');
}

/** The appliance's checks of a VIP's servers: the feedback agent stays HAProxy's own agent-check, beside them. */
function targetsOf(vs: VirtualServiceSnapshot): HealthTarget[] {
  return checkedByAppliance(vs) ? healthTargets(vs).map((t) => ({ ...t, agent: { ...t.agent, port: null } })) : [];
}

/** The appliance-run checks of the HAProxy engine. */
export class ApplianceChecks {
  readonly #checker: HealthChecker;
  readonly #log: Logger;
  readonly #send: (command: string) => Promise<unknown>;
  /** Servers whose verdict is being handed over now (one command at a time per server). */
  readonly #sending = new Set<string>();

  /** `send` issues one runtime API command. */
  constructor(logger: Logger, send: (command: string) => Promise<unknown>) {
    this.#log = logger;
    this.#send = send;
    this.#checker = new HealthChecker(null, logger);
  }

  /** Follows a snapshot: checks start, change or stop with the VIPs that need them. */
  sync(snapshot: ConfigSnapshot): void {
    const targets: HealthTarget[] = [];
    for (const vs of snapshot.virtualServices) targets.push(...targetsOf(vs));
    this.#checker.sync(targets);
  }

  /** `sync` for a revision that changed only these VIPs (snapshot-step.ts). */
  syncChanged(changes: readonly VipChange[]): void {
    this.#checker.syncPart(changes.flatMap((c) => serverKeys(c.before)), changes.flatMap((c) => targetsOf(c.after)));
  }

  /** Registers a listener of every finished check (the engine's duration metric). */
  onResult(listener: (target: HealthTarget, result: CheckResult) => void): void {
    this.#checker.onResult(listener);
  }

  /**
   * Puts the appliance's verdicts into freshly read stats (so the overview and the metrics
   * see them) and hands HAProxy every verdict it does not show yet.
   */
  overlay(snapshot: ConfigSnapshot, vips: Map<string, VipStat>): void {
    for (const vs of snapshot.virtualServices) {
      if (!checkedByAppliance(vs)) continue;
      const st = vips.get(vs.id);
      if (!st) continue;
      for (const rs of vs.realServers) {
        const s = st.servers.get(rs.id);
        const cell = this.#checker.peek(`${vs.id}/${rs.id}`);
        if (!s || !cell) continue;
        // HAProxy's agent-check may hold the server down whatever the appliance's check says.
        const agentDown = /^DOWN.*agent/i.test(s.status);
        s.health = agentDown ? 'down' : cell.health;
        s.lastCheck = cell.lastCheck;
        if (agentDown) continue;
        this.#handOver(vs.id, rs.id, cell.health, s.status);
      }
    }
  }

  /** Stops every check. */
  stop(): void {
    this.#checker.stop();
  }

  #handOver(vsId: string, rsId: string, verdict: Health, status: string): void {
    if (verdict === 'unknown' || status.startsWith('MAINT')) return;
    const shown = status.startsWith('DOWN') ? 'down' : 'up';
    const key = `${vsId}/${rsId}`;
    if (shown === verdict || this.#sending.has(key)) return;
    this.#sending.add(key);
    this.#send(`set server ${backendName(vsId)}/${serverName(rsId)} health ${verdict}`)
      .catch((err: unknown) => this.#log.warn({ server: key, err: (err as Error).message }, 'could not hand a health verdict to HAProxy'))
      .finally(() => this.#sending.delete(key));
  }
}
