// The events the hospital's operations want to hear about, in one stream: a real server's
// health changing, an HA takeover, a certificate nearing its expiry, and every audited
// write. The integrations (syslog, SNMP traps, e-mail alerts) subscribe here; nothing in
// the engines, the store or the HA layer knows they exist (event-watch.ts turns their hooks
// and state into events).
import type { Logger } from 'pino';
import type { AuditEntry } from '../audit/audit-log.js';

/** Syslog severities (RFC 5424) the events use, most severe first. */
export type EventSeverity = 'critical' | 'error' | 'warning' | 'notice' | 'info';

interface EventBase {
  /** ISO time the change was seen. */
  at: string;
  severity: EventSeverity;
  /** One line a person reads: what changed and why. */
  message: string;
}

/** A real server entered a new health state. */
export interface RealServerHealthEvent extends EventBase {
  kind: 'real-server-health';
  virtualService: { id: string; name: string };
  /** The port is null when the server uses the VIP's port. */
  realServer: { id: string; name: string; address: string; port: number | null };
  from: 'up' | 'down' | 'unknown';
  to: 'up' | 'down' | 'unknown';
  /** The last check's detail (why it is down). */
  detail: string;
}

/** This node's HA state changed (a takeover, a failover, a split resolved). */
export interface HaTransitionEvent extends EventBase {
  kind: 'ha-transition';
  from: string;
  to: string;
  reason: string;
}

/** A certificate crossed an expiry threshold (days left), or expired. */
export interface CertificateExpiryEvent extends EventBase {
  kind: 'certificate-expiry';
  certificate: { id: string; label: string; commonName: string | null };
  notAfter: string;
  /** Whole days left (negative once expired). */
  daysLeft: number;
  /** The threshold crossed, in days (0: expired). */
  threshold: number;
}

/** A write was audited (accepted or refused). */
export interface AuditEvent extends EventBase {
  kind: 'audit';
  entry: AuditEntry;
}

export type OperationalEvent = RealServerHealthEvent | HaTransitionEvent | CertificateExpiryEvent | AuditEvent;
export type OperationalEventKind = OperationalEvent['kind'];
export type EventListener = (event: OperationalEvent) => void;

/** The appliance's event stream. A listener that throws is logged and never stops the others. */
export class OperationalEvents {
  readonly #listeners = new Set<EventListener>();
  readonly #log: Logger;

  constructor(logger: Logger) {
    this.#log = logger;
  }

  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: EventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Hands an event to every listener, synchronously, in subscription order. */
  publish(event: OperationalEvent): void {
    if (event.kind !== 'audit') this.#log.info({ event: event.kind, severity: event.severity }, event.message);
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (err) {
        this.#log.error({ err, event: event.kind }, 'an event listener failed');
      }
    }
  }
}
