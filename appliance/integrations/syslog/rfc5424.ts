// One operational event as an RFC 5424 syslog message: the header (priority from the
// collector's facility and the event's severity, the event's time, this node's name,
// `lbappliance`, the process id, the event kind as MSGID), the event's fields as structured
// data under the appliance's SD-ID, and the one line a person reads. The SD-ID uses the
// private enterprise number 32473, the one RFC 5612 reserves for documentation: a site that
// has its own number may rewrite it at the collector; it is documented in docs/syslog.md.
import type { EventSeverity, OperationalEvent } from '../../events/operational-events.js';

/** The structured-data id of every message. */
export const SD_ID = 'lbappliance@32473';

/** RFC 5424 facility codes by name. */
export const FACILITIES = {
  kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, syslog: 5, lpr: 6, news: 7, uucp: 8, cron: 9, authpriv: 10, ftp: 11,
  local0: 16, local1: 17, local2: 18, local3: 19, local4: 20, local5: 21, local6: 22, local7: 23,
} as const;
export type Facility = keyof typeof FACILITIES;

/** RFC 5424 severity codes of the events' severities. */
export const SEVERITIES: Record<EventSeverity, number> = { critical: 2, error: 3, warning: 4, notice: 5, info: 6 };

/** An SD-PARAM value with `"`, `\` and `]` escaped (RFC 5424 section 6.3.3). */
function paramValue(value: unknown): string {
  const text = value === null || value === undefined ? '' : String(value);
  return text.replace(/[\\"\]]/g, (c) => `\\${c}`);
}

/** A header field: printable US-ASCII without spaces, at most `max` characters, `-` when empty. */
function headerField(value: string, max: number): string {
  const clean = value.replace(/[^\x21-\x7e]/g, '_').slice(0, max);
  return clean === '' ? '-' : clean;
}

/** The event's fields, flat, as structured-data parameters. */
export function eventParams(event: OperationalEvent): [string, unknown][] {
  const base: [string, unknown][] = [['kind', event.kind], ['severity', event.severity]];
  switch (event.kind) {
    case 'real-server-health':
      return [...base, ['virtualServiceId', event.virtualService.id], ['virtualService', event.virtualService.name], ['realServerId', event.realServer.id], ['realServer', event.realServer.name], ['address', event.realServer.address], ['port', event.realServer.port ?? ''], ['from', event.from], ['to', event.to], ['detail', event.detail]];
    case 'ha-transition':
      return [...base, ['from', event.from], ['to', event.to], ['reason', event.reason]];
    case 'certificate-expiry':
      return [...base, ['certificateId', event.certificate.id], ['certificate', event.certificate.label], ['commonName', event.certificate.commonName ?? ''], ['notAfter', event.notAfter], ['daysLeft', event.daysLeft], ['threshold', event.threshold]];
    case 'audit': {
      const e = event.entry;
      return [...base, ['seq', e.seq], ['user', e.user], ['address', e.address], ['method', e.method], ['path', e.path], ['operation', e.operation], ['status', e.status], ['revision', e.revision ?? ''], ['changes', e.changes?.length ?? 0]];
    }
  }
}

/** The message text of an event (an audit entry says who did what, with what result). */
function messageOf(event: OperationalEvent): string {
  if (event.kind !== 'audit') return event.message;
  const e = event.entry;
  return `${e.user} from ${e.address}: ${e.method} ${e.path} (${e.operation}) ${e.status}${e.revision ? ` revision ${e.revision}` : ''}`;
}

/** The RFC 5424 message of an event. */
export function formatMessage(event: OperationalEvent, options: { facility: Facility; hostname: string; procId?: number }): string {
  const pri = FACILITIES[options.facility] * 8 + SEVERITIES[event.severity];
  const sd = `[${SD_ID} ${eventParams(event).map(([k, v]) => `${k}="${paramValue(v)}"`).join(' ')}]`;
  const text = messageOf(event).replace(/[\r\n]+/g, ' ');
  return `<${pri}>1 ${event.at} ${headerField(options.hostname, 255)} lbappliance ${options.procId ?? process.pid} ${headerField(event.kind, 32)} ${sd} ${text}`;
}

/** An octet-counted frame (RFC 6587 section 3.4.1, RFC 5425 section 4.3): `LEN SP MSG`. */
export function octetCounted(message: string): Buffer {
  const body = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length} `), body]);
}
