// The HA pair's own metrics, beside the role and state gauges of ../metrics.ts: what the
// heartbeat accepted and refused, every ownership transition, and replication.
import { Counter, Gauge, type Registry } from 'prom-client';

/** Counters the pair runtime updates. */
export interface HaMetrics {
  heartbeatsAccepted: Counter;
  heartbeatsRejected: Counter<'reason'>;
  transitions: Counter<'to' | 'reason'>;
  term: Gauge;
  peerBehind: Gauge;
}

/** Registers the HA metrics. */
export function createHaMetrics(registry: Registry): HaMetrics {
  return {
    heartbeatsAccepted: new Counter({ name: 'lbappliance_ha_heartbeats_accepted_total', help: 'Heartbeats of the peer accepted.', registers: [registry] }),
    heartbeatsRejected: new Counter({
      name: 'lbappliance_ha_heartbeats_rejected_total',
      help: 'Heartbeat datagrams that changed nothing, by reason (malformed, bad-mac, other-pair, own-role, stale-clock, replayed).',
      labelNames: ['reason'],
      registers: [registry],
    }),
    transitions: new Counter({ name: 'lbappliance_ha_transitions_total', help: 'Ownership transitions, by new state and reason.', labelNames: ['to', 'reason'], registers: [registry] }),
    term: new Gauge({ name: 'lbappliance_ha_term', help: 'The ownership term this node knows.', registers: [registry] }),
    peerBehind: new Gauge({ name: 'lbappliance_ha_peer_behind', help: '1 while the secondary lacks a revision or user change of the primary.', registers: [registry] }),
  };
}
