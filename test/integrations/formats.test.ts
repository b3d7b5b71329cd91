// The pure parts of the integrations: an RFC 5424 message's header, priority and escaped
// structured data (section 6.3.3: `"`, `\` and `]` in a value), the octet-counted frame, and
// which events open an incident mail, which close one, and which are no news.
import { describe, expect, it } from 'vitest';
import type { OperationalEvent } from '../../appliance/events/operational-events.js';
import { Incidents } from '../../appliance/integrations/mail/incidents.js';
import { formatMessage, octetCounted } from '../../appliance/integrations/syslog/rfc5424.js';

const health = (to: 'up' | 'down', detail = ''): OperationalEvent => ({
  kind: 'real-server-health',
  at: '2026-12-02T13:00:00.000Z',
  severity: to === 'down' ? 'error' : 'notice',
  message: `real server pacs-1 is ${to}`,
  virtualService: { id: 'vs-000000000001', name: 'PACS' },
  realServer: { id: 'rs-000000000001', name: 'pacs-1', address: '10.0.0.6', port: 104 },
  from: to === 'down' ? 'up' : 'down',
  to,
  detail,
});

describe('RFC 5424 messages', () => {
  it('puts facility and severity in PRI, the kind in MSGID, and escapes structured-data values', () => {
    const m = formatMessage(health('down', 'said "no" \\ [x]'), { facility: 'local3', hostname: 'lb a', procId: 7 });
    // local3 (19) * 8 + err (3) = 155; a space in the host name is not allowed in the header.
    expect(m).toBe(
      '<155>1 2026-12-02T13:00:00.000Z lb_a lbappliance 7 real-server-health [lbappliance@32473 kind="real-server-health" severity="error" virtualServiceId="vs-000000000001" virtualService="PACS" realServerId="rs-000000000001" realServer="pacs-1" address="10.0.0.6" port="104" from="up" to="down" detail="said \\"no\\" \\\\ [x\\]"] real server pacs-1 is down',
    );
  });

  it('frames a message with its length in octets, not characters', () => {
    expect(octetCounted('<14>1 - - - - - - é').toString('utf8')).toBe('20 <14>1 - - - - - - é');
  });
});

describe('incident mails', () => {
  it('mails a server down once and its recovery once; a server never reported down recovers silently', () => {
    const incidents = new Incidents();
    const wanted = ['real-server-health', 'ha-transition', 'certificate-expiry'];
    expect(incidents.mailFor(health('up'), 'lb-a', wanted)).toBeNull();
    expect(incidents.mailFor(health('down'), 'lb-a', wanted)?.subject).toBe('[lbappliance lb-a] DOWN: real server pacs-1 (10.0.0.6:104) of PACS');
    expect(incidents.mailFor(health('down'), 'lb-a', wanted)).toBeNull();
    expect(incidents.mailFor(health('up'), 'lb-a', wanted)?.subject).toMatch(/RECOVERED: real server pacs-1/);
    expect(incidents.mailFor(health('up'), 'lb-a', wanted)).toBeNull();
    expect(incidents.mailFor(health('down'), 'lb-a', ['certificate-expiry'])).toBeNull();
  });

  it('mails a takeover, not the old active node becoming passive', () => {
    const incidents = new Incidents();
    const ha = (from: string, to: string): OperationalEvent => ({ kind: 'ha-transition', at: '2026-12-02T13:00:00.000Z', severity: 'warning', message: `HA state ${from} -> ${to}`, from, to, reason: 'peer silent' });
    expect(incidents.mailFor(ha('passive', 'active'), 'lb-b', ['ha-transition'])?.subject).toBe('[lbappliance lb-b] TAKEOVER: lb-b is now active (was passive)');
    expect(incidents.mailFor(ha('active', 'passive'), 'lb-a', ['ha-transition'])).toBeNull();
  });
});
