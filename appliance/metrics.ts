// Prometheus metrics (prom-client): the control plane's own, and gauges read from the
// engine's live status at scrape time. Engines register their traffic counters on the same
// registry.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ConfigStore } from './config/store.js';
import type { Engine } from './engine/types.js';
import type { HaController } from './ha/controller.js';

/** The control plane's metrics. */
export interface ControlPlaneMetrics {
  registry: Registry;
  apiRequests: Counter<'operation' | 'status'>;
  apiDuration: Histogram<'operation'>;
}

/** Creates the registry and the control-plane metrics. */
export function createMetrics(): ControlPlaneMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'lbappliance_process_' });
  const apiRequests = new Counter({ name: 'lbappliance_api_requests_total', help: 'API requests answered, by operation and status.', labelNames: ['operation', 'status'], registers: [registry] });
  const apiDuration = new Histogram({
    name: 'lbappliance_api_request_duration_seconds',
    help: 'API request duration.',
    labelNames: ['operation'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  return { registry, apiRequests, apiDuration };
}

/** Registers the gauges that read the store, the engine and the HA pair at scrape time. */
export function registerStateGauges(registry: Registry, store: ConfigStore, engine: Engine, ha: () => HaController): void {
  const writes = new Histogram({
    name: 'lbappliance_config_write_duration_seconds',
    help: 'Configuration writes, from the store taking them to their acknowledgement (built, on disk, applied, replicated), by outcome.',
    labelNames: ['outcome'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  store.onWrite((seconds, ok) => writes.observe({ outcome: ok ? 'ok' : 'refused' }, seconds));
  new Gauge({
    name: 'lbappliance_config_log_flushes',
    help: 'fdatasync calls of the configuration log since start; fewer than the revisions written when writes arrived together (group commit).',
    registers: [registry],
    collect() {
      this.set(store.logStats.flushes);
    },
  });
  new Gauge({
    name: 'lbappliance_config_revision',
    help: 'The configuration revision this node runs.',
    registers: [registry],
    collect() {
      this.set(store.current.revision);
    },
  });
  new Gauge({
    name: 'lbappliance_config_apply_duration_seconds',
    help: 'How long the engine took to apply the last revision.',
    registers: [registry],
    collect() {
      this.set(store.lastApplyMs / 1000);
    },
  });
  new Gauge({
    name: 'lbappliance_config_last_change_timestamp_seconds',
    help: 'When the configuration revision this node runs was committed (Unix time).',
    registers: [registry],
    collect() {
      this.set(Date.parse(store.current.createdAt) / 1000);
    },
  });
  new Gauge({
    name: 'lbappliance_certificate_expiry_timestamp_seconds',
    help: 'When each certificate expires (its notAfter, Unix time): alert well before.',
    labelNames: ['certificate'],
    registers: [registry],
    collect() {
      this.reset();
      for (const cert of Object.values(store.current.config.certificates)) this.set({ certificate: cert.label }, Date.parse(cert.notAfter) / 1000);
    },
  });
  new Gauge({
    name: 'lbappliance_ha_active',
    help: '1 when this node owns the VIPs (active or standalone), 0 when passive.',
    registers: [registry],
    collect() {
      this.set(ha().summary().haState === 'passive' ? 0 : 1);
    },
  });
  new Gauge({
    name: 'lbappliance_ha_role',
    help: 'This node\'s HA role (the labelled series is 1).',
    labelNames: ['role'],
    registers: [registry],
    collect() {
      this.reset();
      this.set({ role: ha().summary().haRole }, 1);
    },
  });
  new Gauge({
    name: 'lbappliance_ha_peer_heartbeat_age_seconds',
    help: 'Seconds since the HA peer\'s last heartbeat (absent when standalone).',
    registers: [registry],
    collect() {
      this.reset();
      const age = ha().summary().peerHeartbeatAgeMs;
      if (age !== null) this.set(age / 1000);
    },
  });
  const labelsOf = (vsId: string) => ({ virtual_service: store.current.config.virtualServices[vsId]?.label ?? vsId });
  new Gauge({
    name: 'lbappliance_virtual_service_listening',
    help: '1 when every port of the virtual service is bound.',
    labelNames: ['virtual_service'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [vsId, rt] of engine.status().virtualServices) this.set(labelsOf(vsId), rt.listening ? 1 : 0);
    },
  });
  new Gauge({
    name: 'lbappliance_virtual_service_connections',
    help: 'Client connections open on the virtual service.',
    labelNames: ['virtual_service'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [vsId, rt] of engine.status().virtualServices) this.set(labelsOf(vsId), rt.connections);
    },
  });
  const rsLabels = (vsId: string, rsId: string) => ({ ...labelsOf(vsId), real_server: store.current.config.realServers[rsId]?.label ?? rsId });
  new Gauge({
    name: 'lbappliance_real_server_up',
    help: 'Health of the real server: 1 up, 0 down, -1 unknown.',
    labelNames: ['virtual_service', 'real_server'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [vsId, rt] of engine.status().virtualServices) {
        for (const [rsId, rs] of rt.realServers) this.set(rsLabels(vsId, rsId), rs.health === 'up' ? 1 : rs.health === 'down' ? 0 : -1);
      }
    },
  });
  new Gauge({
    name: 'lbappliance_real_server_connections',
    help: 'Connections open to the real server.',
    labelNames: ['virtual_service', 'real_server'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [vsId, rt] of engine.status().virtualServices) {
        for (const [rsId, rs] of rt.realServers) this.set(rsLabels(vsId, rsId), rs.connections);
      }
    },
  });
}
