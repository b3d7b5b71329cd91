// Turns the appliance's state into operational events, for every engine alike: it reads the
// engine's live status (health of each real server, whichever engine or check ran it), the
// HA controller's last transition and the stored certificates' expiry dates, and publishes
// what changed. Reading state instead of hooking each engine keeps engines, checks and the
// HA layer unaware of the integrations; a change is seen within one interval (1 s default).
import type { ConfigStore } from '../config/store.js';
import type { Engine } from '../engine/types.js';
import type { HaStatusView } from '../ha/controller.js';
import type { OperationalEvents } from './operational-events.js';

/** The certificate thresholds (days left) each announced once, the last being expiry. */
export const EXPIRY_THRESHOLDS = [30, 14, 7, 1, 0] as const;
const DAY_MS = 86_400_000;

export interface EventWatchOptions {
  events: OperationalEvents;
  store: ConfigStore;
  engine: Engine;
  /** The HA controller's status (it changes when a pair forms). */
  haStatus: () => HaStatusView;
  /** How often state is read, in milliseconds. */
  intervalMs?: number;
  /** How often certificates are read, in milliseconds. */
  certificateIntervalMs?: number;
  now?: () => number;
}

/** Publishes health, HA and certificate-expiry changes. */
export class EventWatch {
  readonly #o: Required<Omit<EventWatchOptions, 'now'>> & { now: () => number };
  /** Health per `vip/rs` as last seen; a server seen for the first time is announced only when not up. */
  readonly #health = new Map<string, 'up' | 'down' | 'unknown'>();
  /** Per certificate (by fingerprint), the smallest threshold already announced. */
  readonly #announced = new Map<string, number>();
  #lastTransitionAt: string | null = null;
  #timer: NodeJS.Timeout | null = null;
  #lastCertificates = 0;
  #certificateRevision = -1;

  constructor(options: EventWatchOptions) {
    this.#o = { intervalMs: 1000, certificateIntervalMs: 3_600_000, now: Date.now, ...options };
  }

  /** Takes the current state as the baseline and starts watching. */
  start(): void {
    this.#lastTransitionAt = this.#o.haStatus().lastTransition?.at ?? null;
    this.#readHealth(true);
    this.#readCertificates();
    this.#timer = setInterval(() => this.tick(), this.#o.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** One read of every source (the timer calls it; tests may too). */
  tick(): void {
    this.#readHealth(false);
    this.#readHa();
    // Certificates are read hourly and whenever the configuration changed (one may have been added).
    const revision = this.#o.store.current.revision;
    if (revision !== this.#certificateRevision || this.#o.now() - this.#lastCertificates >= this.#o.certificateIntervalMs) this.#readCertificates();
  }

  #readHealth(baseline: boolean): void {
    const status = this.#o.engine.status();
    const { config } = this.#o.store.current;
    const seen = new Set<string>();
    for (const [vsId, vs] of status.virtualServices) {
      const vsSpec = config.virtualServices[vsId];
      if (!vsSpec) continue;
      for (const [rsId, rs] of vs.realServers) {
        const rsSpec = config.realServers[rsId];
        if (!rsSpec) continue;
        const key = `${vsId}/${rsId}`;
        seen.add(key);
        const before = this.#health.get(key);
        this.#health.set(key, rs.health);
        // The passive node of a pair runs no checks: its view is not news.
        if (baseline || !status.active || before === rs.health) continue;
        if (before === undefined && rs.health !== 'down') continue;
        const from = before ?? 'unknown';
        const detail = rs.lastCheck?.detail ?? '';
        const where = `${rsSpec.label} (${rsSpec.address}${rsSpec.port === null ? '' : `:${rsSpec.port}`}) of ${vsSpec.label}`;
        this.#o.events.publish({
          kind: 'real-server-health',
          at: new Date(this.#o.now()).toISOString(),
          severity: rs.health === 'down' ? 'error' : 'notice',
          message: rs.health === 'down' ? `real server ${where} is down: ${detail || 'no detail'}` : `real server ${where} is ${rs.health}`,
          virtualService: { id: vsId, name: vsSpec.label },
          realServer: { id: rsId, name: rsSpec.label, address: rsSpec.address, port: rsSpec.port },
          from,
          to: rs.health,
          detail,
        });
      }
    }
    for (const key of [...this.#health.keys()]) if (!seen.has(key)) this.#health.delete(key);
  }

  #readHa(): void {
    const last = this.#o.haStatus().lastTransition;
    if (!last?.at || last.at === this.#lastTransitionAt) return;
    const t = { at: last.at, from: last.from ?? 'unknown', to: last.to ?? 'unknown', reason: last.reason ?? '' };
    this.#lastTransitionAt = t.at;
    this.#o.events.publish({
      kind: 'ha-transition',
      at: t.at,
      severity: t.to === 'active' && t.from === 'passive' ? 'warning' : 'notice',
      message: `HA state ${t.from} -> ${t.to}: ${t.reason}`,
      from: t.from,
      to: t.to,
      reason: t.reason,
    });
  }

  #readCertificates(): void {
    const now = this.#o.now();
    this.#lastCertificates = now;
    this.#certificateRevision = this.#o.store.current.revision;
    const live = new Set<string>();
    for (const [id, cert] of Object.entries(this.#o.store.current.config.certificates)) {
      live.add(cert.fingerprintSha256);
      const left = Date.parse(cert.notAfter) - now;
      const daysLeft = Math.floor(left / DAY_MS);
      const threshold = left <= 0 ? 0 : EXPIRY_THRESHOLDS.filter((d) => d > 0 && left <= d * DAY_MS).at(-1);
      if (threshold === undefined) continue;
      const announced = this.#announced.get(cert.fingerprintSha256);
      if (announced !== undefined && announced <= threshold) continue;
      this.#announced.set(cert.fingerprintSha256, threshold);
      this.#o.events.publish({
        kind: 'certificate-expiry',
        at: new Date(now).toISOString(),
        severity: threshold === 0 ? 'critical' : threshold <= 7 ? 'error' : 'warning',
        message: threshold === 0 ? `certificate ${cert.label} expired at ${cert.notAfter}` : `certificate ${cert.label} expires in ${daysLeft} days (${cert.notAfter})`,
        certificate: { id, label: cert.label, commonName: cert.commonName },
        notAfter: cert.notAfter,
        daysLeft,
        threshold,
      });
    }
    for (const fp of [...this.#announced.keys()]) if (!live.has(fp)) this.#announced.delete(fp);
  }
}
