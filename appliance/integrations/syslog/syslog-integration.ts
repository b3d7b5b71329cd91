// The syslog integration: every operational event (audit entries, real-server health, HA
// transitions, certificate expiry) goes, as an RFC 5424 message, to each collector of the
// stored configuration that wants its kind and severity. The collectors are read from the
// current revision (a write, a rollback or a revision replicated from the HA primary is seen
// within half a second); a collector whose address, port, transport or CA changed gets a new
// sender that takes over the old one's queue. Metrics: messages sent and dropped per
// collector, queue length and connection state as gauges.
import { Counter, Gauge } from 'prom-client';
import type { StoredSyslogCollector } from '../../config/model.js';
import type { EventSeverity, OperationalEvent } from '../../events/operational-events.js';
import type { Integration, IntegrationContext, IntegrationFactory } from '../integration.js';
import { formatMessage, octetCounted, SEVERITIES } from './rfc5424.js';
import { createSender, type SenderTarget, type SyslogSender } from './syslog-sender.js';

const STANDARD_PORT = { udp: 514, tcp: 514, tls: 6514 } as const;
/** How long a stop waits for queued messages to reach their collectors. */
const FLUSH_MS = 2000;

interface Running {
  spec: StoredSyslogCollector;
  sender: SyslogSender;
}

function targetOf(spec: StoredSyslogCollector): SenderTarget {
  return { host: spec.host, port: spec.port ?? STANDARD_PORT[spec.transport], transport: spec.transport, caPem: spec.caPem, queueSize: spec.queueSize };
}

function sameTarget(a: SenderTarget, b: SenderTarget): boolean {
  return a.host === b.host && a.port === b.port && a.transport === b.transport && a.caPem === b.caPem;
}

/** Whether a collector wants an event. */
export function wants(spec: StoredSyslogCollector, event: OperationalEvent): boolean {
  return (spec.events as string[]).includes(event.kind) && SEVERITIES[event.severity] <= SEVERITIES[spec.minSeverity as EventSeverity];
}

/** Starts the syslog integration. */
async function start(ctx: IntegrationContext): Promise<Integration> {
  const labels = ['collector'];
  const sent = new Counter({ name: 'lbappliance_syslog_messages_total', help: 'Syslog messages handed to a collector (UDP: sent; TCP/TLS: written to the connection).', labelNames: labels, registers: [ctx.registry] });
  const dropped = new Counter({ name: 'lbappliance_syslog_dropped_total', help: 'Syslog messages dropped: queue full, collector removed, or a UDP send that failed.', labelNames: labels, registers: [ctx.registry] });
  const running = new Map<string, Running>();
  const queue = new Gauge({
    name: 'lbappliance_syslog_queue_length',
    help: 'Syslog messages waiting for a TCP/TLS collector.',
    labelNames: labels,
    registers: [ctx.registry],
    collect() {
      this.reset();
      for (const r of running.values()) this.set({ collector: r.spec.label }, r.sender.queueLength);
    },
  });
  new Gauge({
    name: 'lbappliance_syslog_connected',
    help: 'Whether the connection to a TCP/TLS collector is up (1) or being re-established (0); UDP collectors are always 1.',
    labelNames: labels,
    registers: [ctx.registry],
    collect() {
      this.reset();
      for (const r of running.values()) this.set({ collector: r.spec.label }, r.sender.isConnected ? 1 : 0);
    },
  });
  void queue;

  const senderFor = (spec: StoredSyslogCollector, initial: Buffer[] = []): SyslogSender => {
    const collector = () => running.get(idOf(spec))?.spec.label ?? spec.label;
    return createSender(
      targetOf(spec),
      {
        sent: (n) => sent.inc({ collector: collector() }, n),
        dropped: (n, why) => {
          dropped.inc({ collector: collector() }, n);
          ctx.logger.warn({ collector: collector(), dropped: n, why }, 'syslog messages dropped');
        },
        connected: () => ctx.logger.info({ collector: collector() }, 'connected to the syslog collector'),
        disconnected: (err) => ctx.logger.warn({ collector: collector(), err: err?.message }, 'syslog collector unreachable; queueing and reconnecting'),
      },
      initial,
    );
  };
  const ids = new WeakMap<StoredSyslogCollector, string>();
  const idOf = (spec: StoredSyslogCollector) => ids.get(spec) ?? '';

  let seen: unknown = null;
  const reconcile = () => {
    const collectors = ctx.store.current.config.syslogCollectors ?? {};
    if (collectors === seen) return;
    seen = collectors;
    for (const [id, r] of [...running]) {
      if (collectors[id]) continue;
      running.delete(id);
      void r.sender.close(0).then((left) => left > 0 && dropped.inc({ collector: r.spec.label }, left));
    }
    for (const [id, spec] of Object.entries(collectors)) {
      ids.set(spec, id);
      const r = running.get(id);
      if (r?.spec === spec) continue;
      if (r && sameTarget(r.sender.target, targetOf(spec)) && r.sender.target.queueSize === spec.queueSize) {
        r.spec = spec;
        continue;
      }
      const initial = r ? r.sender.takeQueue() : [];
      if (r) void r.sender.close(0);
      running.set(id, { spec, sender: senderFor(spec, initial) });
    }
  };
  reconcile();
  const timer = setInterval(reconcile, 500);
  timer.unref();

  const unsubscribe = ctx.events.subscribe((event) => {
    reconcile();
    for (const r of running.values()) {
      if (!wants(r.spec, event)) continue;
      const message = formatMessage(event, { facility: r.spec.facility, hostname: ctx.nodeName });
      r.sender.send(message, octetCounted(message));
    }
  });

  return {
    name: 'syslog',
    async close() {
      unsubscribe();
      clearInterval(timer);
      await Promise.all([...running.values()].map((r) => r.sender.close(FLUSH_MS)));
      running.clear();
    },
  };
}

/** The syslog integration's factory (registered in ../registry.ts). */
export const syslogIntegration: IntegrationFactory = { name: 'syslog', start };
