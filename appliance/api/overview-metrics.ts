// Gauges read from the System Overview at scrape time, so an alert fires on exactly the
// state the web page and `lbappliance status` show (a VIP `degraded`, a server `halt`ed).
// Each enum is one series per value, 1 for the current one and 0 for the others, so
// `== 1` selects and a state that ends shows as 0 rather than vanishing.
import { Gauge, type Registry } from 'prom-client';
import type { components } from '../../openapi/generated/types.js';

type Overview = components['schemas']['Overview'];

/** The states of a virtual service, as the overview names them. */
export const VIRTUAL_SERVICE_STATES = ['up', 'degraded', 'down', 'redirect', 'disabled', 'passive'] as const;
/** The administrative states of a real server. */
export const ADMIN_STATES = ['online', 'drain', 'halt'] as const;

/** Registers the overview gauges; `read` builds the overview (once per scrape). */
export function registerOverviewGauges(registry: Registry, read: () => Overview): void {
  // Every gauge of one scrape reads the same overview.
  let cached: Overview | null = null;
  const current = (): Overview => {
    if (!cached) {
      cached = read();
      setImmediate(() => (cached = null));
    }
    return cached;
  };
  new Gauge({
    name: 'lbappliance_virtual_service_state',
    help: 'State of the virtual service as the System Overview shows it (the series of the current state is 1).',
    labelNames: ['virtual_service', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const vs of current().virtualServices) {
        for (const state of VIRTUAL_SERVICE_STATES) this.set({ virtual_service: vs.label, state }, vs.state === state ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: 'lbappliance_virtual_service_info',
    help: 'Always 1: how the virtual service forwards (proxy, direct-routing, nat, snat) and its protocol, to join on virtual_service.',
    labelNames: ['virtual_service', 'forwarding', 'protocol'],
    registers: [registry],
    collect() {
      this.reset();
      for (const vs of current().virtualServices) this.set({ virtual_service: vs.label, forwarding: vs.forwarding, protocol: vs.protocol }, 1);
    },
  });
  new Gauge({
    name: 'lbappliance_real_server_admin_state',
    help: 'Administrative state of the real server: online, drain or halt (the series of the current state is 1).',
    labelNames: ['virtual_service', 'real_server', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const vs of current().virtualServices) {
        for (const rs of vs.realServers) {
          for (const state of ADMIN_STATES) this.set({ virtual_service: vs.label, real_server: rs.label, state }, rs.adminState === state ? 1 : 0);
        }
      }
    },
  });
  new Gauge({
    name: 'lbappliance_virtual_service_queued',
    help: 'Client connections and requests waiting now under the virtual service\'s or its real servers\' maxConnections.',
    labelNames: ['virtual_service'],
    registers: [registry],
    collect() {
      this.reset();
      for (const vs of current().virtualServices) this.set({ virtual_service: vs.label }, vs.queued);
    },
  });
  new Gauge({
    name: 'lbappliance_real_server_weight',
    help: 'Configured weight of the real server (0 takes no new traffic).',
    labelNames: ['virtual_service', 'real_server'],
    registers: [registry],
    collect() {
      this.reset();
      for (const vs of current().virtualServices) for (const rs of vs.realServers) this.set({ virtual_service: vs.label, real_server: rs.label }, rs.weight);
    },
  });
}
