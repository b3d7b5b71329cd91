// Which operational events are worth a mail, and which mail: one when an incident opens (a
// real server goes down, a node takes over, a certificate crosses an expiry threshold) and
// one when a real server that was reported down comes back. Everything else (a server seen
// up for the first time, the old active node becoming passive, a repeat of an open incident)
// is no news. Pure: the integration keeps the instance and sends what it returns.
import type { OperationalEvent } from '../../events/operational-events.js';

/** A mail to send. */
export interface AlertMessage {
  subject: string;
  text: string;
}

/** The open incidents and the decision for each event. */
export class Incidents {
  /** Real servers reported down (by `vip/rs`), with when. */
  readonly #down = new Map<string, string>();

  /** The mail an event calls for, or null. */
  mailFor(event: OperationalEvent, node: string, wanted: readonly string[]): AlertMessage | null {
    if (!wanted.includes(event.kind)) return null;
    switch (event.kind) {
      case 'real-server-health': {
        const key = `${event.virtualService.id}/${event.realServer.id}`;
        const where = `${event.realServer.name} (${event.realServer.address}${event.realServer.port === null ? '' : `:${event.realServer.port}`}) of ${event.virtualService.name}`;
        if (event.to === 'down') {
          if (this.#down.has(key)) return null;
          this.#down.set(key, event.at);
          return { subject: `[lbappliance ${node}] DOWN: real server ${where}`, text: `${event.message}\n\nSeen at ${event.at} on ${node}. One more mail follows when it is back up.\n` };
        }
        const since = this.#down.get(key);
        if (event.to !== 'up' || since === undefined) return null;
        this.#down.delete(key);
        return { subject: `[lbappliance ${node}] RECOVERED: real server ${where}`, text: `${event.message}\n\nDown from ${since} to ${event.at} on ${node}.\n` };
      }
      case 'ha-transition':
        if (event.to !== 'active') return null;
        return { subject: `[lbappliance ${node}] TAKEOVER: ${node} is now active (was ${event.from})`, text: `${event.message}\n\nAt ${event.at}, ${node} took over the virtual services. Reason: ${event.reason || 'not given'}.\n` };
      case 'certificate-expiry':
        return {
          subject: `[lbappliance ${node}] ${event.threshold === 0 ? 'EXPIRED' : 'EXPIRING'}: certificate ${event.certificate.label}`,
          text: `${event.message}\n\nCertificate ${event.certificate.label} (${event.certificate.id}, ${event.certificate.commonName ?? 'no common name'}) is valid until ${event.notAfter}. Replace it before then.\n`,
        };
      default:
        return null;
    }
  }
}
