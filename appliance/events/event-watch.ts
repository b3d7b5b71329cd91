// Turns the appliance's state into operational events, for every engine alike. Health comes
// pushed: the engine's onHealth hook calls here once per real server change (whichever
// engine, plane or check decided it), so nothing reads every server's status on a timer and
// the event leaves as soon as the check decides. The HA controller's last transition and the
// stored certificates' expiry dates are still read, each read O(1) per interval (1 s): HA
// compares one timestamp, certificates are read again only when the revision changed or
// hourly (a threshold is crossed by time alone). The engines and the HA layer stay unaware
// of the integrations: the hook carries plain transitions, this module makes them events.
import type { ConfigStore } from '../config/store.js';
import type { Engine, HealthTransition } from '../engine/types.js';
import type { HaStatusView } from '../ha/controller.js';
import type { OperationalEvents } from './operational-events.js';

/** The certificate thresholds (days left) each announced once, the last being expiry. */
export const EXPIRY_THRESHOLDS = [30, 14, 7, 1, 0] as const;
const DAY_MS = 86_400_000;

export interface EventWatchOptions {
  events: OperationalEvents;
  /** Only its current revision is read (names of servers and VIPs, the certificates). */
  store: Pick<ConfigStore, 'current'>;
  engine: Engine;
  /** The HA controller's status (it changes when a pair forms). */
  haStatus: () => HaStatusView;
  /** How often the HA state is read, in milliseconds. */
  intervalMs?: number;
  /** How often certificates are read, in milliseconds. */
  certificateIntervalMs?: number;
  now?: () => number;
}

/** Publishes health, HA and certificate-expiry changes. */
export class EventWatch {
  readonly #o: Required<Omit<EventWatchOptions, 'now'>> & { now: () => number };
  /** Per certificate (by fingerprint), the smallest threshold already announced. */
  readonly #announced = new Map<string, number>();
  #lastTransitionAt: string | null = null;
  #timer: NodeJS.Timeout | null = null;
  #unsubscribe: (() => void) | null = null;
  #lastCertificates = 0;
  #certificateRevision = -1;

  constructor(options: EventWatchOptions) {
    this.#o = { intervalMs: 1000, certificateIntervalMs: 3_600_000, now: Date.now, ...options };
  }

  /** Takes the current state as the baseline and starts watching (health changes from now on). */
  start(): void {
    this.#lastTransitionAt = this.#o.haStatus().lastTransition?.at ?? null;
    this.#unsubscribe = this.#o.engine.onHealth((t) => this.#onHealth(t));
    this.#readCertificates();
    this.#timer = setInterval(() => this.tick(), this.#o.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#unsubscribe?.();
    this.#unsubscribe = null;
  }

  /** One read of the HA state and, when due, the certificates (the timer calls it; tests may too). */
  tick(): void {
    this.#readHa();
    // Certificates are read hourly and whenever the configuration changed (one may have been added).
    const revision = this.#o.store.current.revision;
    if (revision !== this.#certificateRevision || this.#o.now() - this.#lastCertificates >= this.#o.certificateIntervalMs) this.#readCertificates();
  }

  /** One health change of the engine, published when it is news. */
  #onHealth(t: HealthTransition): void {
    // The passive node of a pair carries no traffic: its view is not news.
    if (!t.active) return;
    // A server's first verdict is news only when it is down (a new server coming up is expected).
    if (t.first && t.to !== 'down') return;
    const { config } = this.#o.store.current;
    const vsSpec = config.virtualServices[t.virtualServiceId];
    const rsSpec = config.realServers[t.realServerId];
    if (!vsSpec || !rsSpec) return;
    const where = `${rsSpec.label} (${rsSpec.address}${rsSpec.port === null ? '' : `:${rsSpec.port}`}) of ${vsSpec.label}`;
    this.#o.events.publish({
      kind: 'real-server-health',
      at: t.at,
      severity: t.to === 'down' ? 'error' : 'notice',
      message: t.to === 'down' ? `real server ${where} is down: ${t.detail || 'no detail'}` : `real server ${where} is ${t.to}`,
      virtualService: { id: t.virtualServiceId, name: vsSpec.label },
      realServer: { id: t.realServerId, name: rsSpec.label, address: rsSpec.address, port: rsSpec.port },
      from: t.from,
      to: t.to,
      detail: t.detail,
    });
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
