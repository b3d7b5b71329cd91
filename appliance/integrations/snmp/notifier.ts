// SNMP notifications of the operational events (LBAPPLIANCE-MIB's NOTIFICATION-TYPEs) to
// every configured destination: a v2c destination gets a trap (sent once; lost while its
// receiver is down: SNMP traps are unacknowledged), a v3 destination an authPriv inform,
// which the receiver acknowledges and net-snmp sends again (`informRetries` times,
// `informTimeoutMs` apart) until it does; an inform never acknowledged is dropped and
// counted. Outcomes are counted per destination in lbappliance_snmp_notifications_total.
import snmp from 'net-snmp';
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import type { StoredSnmpSettings, StoredSnmpTrapDestination } from '../../config/snmp-settings.js';
import type { OperationalEvent } from '../../events/operational-events.js';
import { HEALTH, LB_NODE_NAME, LB_NOTIFICATIONS, LB_NOTIFY_OBJECTS, RS_COLUMNS, rsColumn, stringIndex, VS_COLUMNS, vsColumn } from './mib-tables.js';

type Session = ReturnType<typeof snmp.createSession>;
type Varbind = { oid: string; type: number; value: unknown };

const { ObjectType } = snmp;
const str = (oid: string, value: string): Varbind => ({ oid, type: ObjectType.OctetString, value });
const notify = (n: number, type: number, value: unknown): Varbind => ({ oid: `${LB_NOTIFY_OBJECTS}.${n}.0`, type, value });

/** The notification OID and varbinds of an event, or null when it has none. */
export function notificationOf(event: OperationalEvent, nodeName: string): { oid: string; varbinds: Varbind[] } | null {
  const message = notify(1, ObjectType.OctetString, event.message.slice(0, 255));
  switch (event.kind) {
    case 'real-server-health': {
      if (event.to === 'unknown') return null;
      const vs = stringIndex(event.virtualService.id);
      const rs = `${vs}.${stringIndex(event.realServer.id)}`;
      return {
        oid: `${LB_NOTIFICATIONS}.${event.to === 'down' ? 1 : 2}`,
        varbinds: [
          str(`${vsColumn(VS_COLUMNS.name)}.${vs}`, event.virtualService.name),
          str(`${rsColumn(RS_COLUMNS.name)}.${rs}`, event.realServer.name),
          str(`${rsColumn(RS_COLUMNS.address)}.${rs}`, event.realServer.address),
          { oid: `${rsColumn(RS_COLUMNS.port)}.${rs}`, type: ObjectType.Gauge, value: event.realServer.port ?? 0 },
          { oid: `${rsColumn(RS_COLUMNS.health)}.${rs}`, type: ObjectType.Integer, value: HEALTH[event.to] },
          message,
        ],
      };
    }
    case 'ha-transition':
      return {
        oid: `${LB_NOTIFICATIONS}.3`,
        varbinds: [str(LB_NODE_NAME, nodeName), notify(2, ObjectType.OctetString, event.from), notify(3, ObjectType.OctetString, event.to), message],
      };
    case 'certificate-expiry':
      return {
        oid: `${LB_NOTIFICATIONS}.4`,
        varbinds: [notify(4, ObjectType.OctetString, event.certificate.label), notify(5, ObjectType.OctetString, event.notAfter), notify(6, ObjectType.Integer, event.daysLeft), message],
      };
    default:
      return null;
  }
}

const AUTH = { sha: snmp.AuthProtocols.sha, sha256: snmp.AuthProtocols.sha256, sha512: snmp.AuthProtocols.sha512 } as const;

/** The net-snmp user of a stored v3 user (authPriv). */
export function usmUser(u: StoredSnmpSettings['users'][number]): snmp.User {
  return { name: u.name, level: snmp.SecurityLevel.authPriv, authProtocol: AUTH[u.authProtocol], authKey: u.authPassword, privProtocol: snmp.PrivProtocols.aes, privKey: u.privPassword };
}

/** Sends the notifications of one version of the settings; close it when they change. */
export class SnmpNotifier {
  readonly #sessions: { destination: StoredSnmpTrapDestination; session: Session }[] = [];
  readonly #log: Logger;
  readonly #outcomes: Counter<'destination' | 'outcome'>;
  readonly #upSince: number;

  constructor(settings: StoredSnmpSettings, options: { logger: Logger; outcomes: Counter<'destination' | 'outcome'>; upSince: number }) {
    this.#log = options.logger;
    this.#outcomes = options.outcomes;
    this.#upSince = options.upSince;
    for (const d of settings.trapDestinations) {
      const transport = d.address.includes(':') ? 'udp6' : 'udp4';
      if (d.version === 'v2c') {
        this.#sessions.push({ destination: d, session: snmp.createSession(d.address, d.community ?? '', { version: snmp.Version2c, trapPort: d.port, transport }) });
        continue;
      }
      const user = settings.users.find((u) => u.name === d.user);
      if (!user) continue;
      // `port` too: net-snmp 3.29 sends every inform after the first (engine discovery) to the
      // session's `port`, not its `trapPort`; this session only ever talks to the receiver.
      const session = snmp.createV3Session(d.address, usmUser(user), { version: snmp.Version3, port: d.port, trapPort: d.port, transport, timeout: settings.informTimeoutMs, retries: settings.informRetries } as snmp.SessionOptionsV3);
      this.#sessions.push({ destination: d, session });
    }
    for (const { destination, session } of this.#sessions) {
      session.on('error', (err: Error) => this.#log.warn({ destination: destination.name, err: { message: err.message } }, 'SNMP notification socket error'));
    }
  }

  /** Sends the event's notification to every destination (never throws; outcomes are counted). */
  send(event: OperationalEvent, nodeName: string): void {
    const n = notificationOf(event, nodeName);
    if (!n) return;
    const upTime = Math.floor((Date.now() - this.#upSince) / 10);
    for (const { destination, session } of this.#sessions) {
      const done = (outcome: string) => (err: Error | null) => {
        const result = err ? 'failed' : outcome;
        this.#outcomes.inc({ destination: destination.name, outcome: result });
        if (err) this.#log.warn({ destination: destination.name, address: destination.address, port: destination.port, event: event.kind, error: err.message }, 'SNMP notification not delivered');
        else this.#log.debug({ destination: destination.name, event: event.kind, outcome }, 'SNMP notification sent');
      };
      try {
        if (destination.version === 'v2c') session.trap(n.oid, n.varbinds as snmp.Varbind[], { upTime } as snmp.TrapOptions, done('sent'));
        else session.inform(n.oid, n.varbinds as snmp.Varbind[], { upTime } as snmp.InformOptions, done('acknowledged'));
      } catch (err) {
        done('sent')(err as Error);
      }
    }
  }

  close(): void {
    for (const { session } of this.#sessions) {
      try {
        session.close();
      } catch {
        // already closed
      }
    }
  }
}
