// Handlers of liveness, the contract document, the System Overview and the metrics.
import { keepsSourceTable } from '../../engine/client-network.js';
import { specYaml } from '../../../openapi/generated/spec.js';
import { serversOf } from '../../config/server-index.js';
import { liveState, type ApiContext } from '../api-context.js';
import type { Handlers } from '../handler-types.js';
import { realServerColour, realServerStatus, virtualServiceStatus } from '../views.js';
import type { components } from '../../../openapi/generated/types.js';

type SystemHandlers = Pick<Handlers, 'getHealth' | 'getOpenApiDocument' | 'getOverview' | 'getMetrics'>;

/** The System Overview document. */
export function overview(api: ApiContext): components['schemas']['Overview'] {
  const { revision, config } = api.store.current;
  const live = liveState(api);
  const ha = api.ha.summary();
  return {
    revision,
    generatedAt: new Date().toISOString(),
    node: { name: api.nodeName, version: api.version, engine: api.engine.kind, haRole: ha.haRole, haState: ha.haState, peerHeartbeatAgeMs: ha.peerHeartbeatAgeMs },
    virtualServices: Object.entries(config.virtualServices).map(([id, vs]) => {
      const status = virtualServiceStatus(config, id, live);
      const rt = live.engine.virtualServices.get(id);
      return {
        id,
        label: vs.label,
        ipAddress: vs.ipAddress,
        ports: vs.ports,
        protocol: vs.protocol,
        forwarding: vs.forwarding,
        persistence: vs.persistence.mode,
        checkType: vs.healthCheck.type,
        persistenceTable: keepsSourceTable(vs.persistence) ? persistenceBy(vs.persistence) : null,
        sendProxy: vs.sendProxy ?? 'off',
        acceptProxy: vs.acceptProxy ?? false,
        state: status.state,
        colour: status.colour,
        connections: status.connections,
        queued: status.queued,
        maxConnections: vs.limits?.maxConnections ?? null,
        fallback: vs.fallback?.mode ?? 'none',
        tlsMinVersion: vs.certificateId === null ? null : (vs.tls?.minVersion ?? 'TLSv1.2'),
        listening: status.listening,
        error: status.error ?? null,
        realServers: serversOf(config, id).map(([rsId, rs]) => {
            const st = realServerStatus(rt, rsId, vs.healthCheck);
            const live = rt?.realServers.get(rsId);
            return {
              id: rsId,
              label: rs.label,
              address: rs.address,
              port: rs.port,
              weight: rs.weight,
              // The engine's effective weight; a halted server takes nobody, a drained one no one new.
              effectiveWeight: rs.adminState === 'online' ? Math.min(live?.effectiveWeight ?? rs.weight, rs.weight) : 0,
              backup: rs.backup,
              adminState: rs.adminState,
              health: st.health,
              colour: realServerColour(rs.adminState, st.health),
              connections: st.connections,
              maxConnections: rs.maxConnections,
              lastCheck: st.lastCheck,
              agent: live?.agent ?? null,
            };
          }),
      };
    }),
    applyError: api.store.applyFailure,
  };
}

/** The system handlers. */
export function systemHandlers(api: ApiContext): SystemHandlers {
  return {
    async getHealth() {
      return { status: 200, body: { status: 'ok', version: api.version } };
    },
    async getOpenApiDocument() {
      return { status: 200, body: specYaml };
    },
    async getOverview() {
      return { status: 200, body: overview(api) };
    },
    async getMetrics() {
      return { status: 200, body: await api.metrics.metrics() };
    },
  };
}

/** What a source-IP table keeps clients by, as the overview says it: `address`, or the networks (`/24 /64`). */
function persistenceBy(p: { ipv4PrefixLength?: number; ipv6PrefixLength?: number }): string {
  const v4 = p.ipv4PrefixLength ?? 32;
  const v6 = p.ipv6PrefixLength ?? 128;
  if (v4 >= 32 && v6 >= 128) return 'address';
  return `${v4 < 32 ? `/${v4}` : '/32'} ${v6 < 128 ? `/${v6}` : '/128'}`;
}
