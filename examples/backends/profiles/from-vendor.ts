// A VIP plan from a row of the package's vendor profile (provider/pulumi/sdk/profiles): the
// row says what the VIP is (label, ports, protocol, persistence, check, timeouts, redirect,
// the servers' port and TLS); the backend plan adds where it runs here and what listens
// behind it. So each vendor's table is written once, and the examples deployed from the
// vendor profile and the backends started from these plans cannot disagree.
import type { Input } from '@pulumi/pulumi';
import type { VipProfile } from '../../../provider/pulumi/sdk/vendor-profile.js';
import type { BackendKind } from '../service.js';
import type { GuideRow, HealthCheckPlan, HostPlan, VipPlan } from './types.js';

/** What the backend plan adds to a vendor row. */
export interface VipPlacement {
  /** The guide's reference ("VIP 3"). */
  ref: string;
  ipAddress: string;
  /** The hosts behind the VIP, in order (none for a redirect-only row). */
  hosts: HostPlan[];
  /** What listens on each host's server port. */
  kind: BackendKind;
  guide: GuideRow;
  /** Failover mode: every host after the first is a backup. */
  failover?: boolean;
  mode?: VipPlan['mode'];
}

// Profile rows are literal data; their types allow Pulumi inputs, which never occur there.
function plain<T>(value: Input<T> | undefined): T | undefined {
  if (value !== null && typeof value === 'object' && ('then' in value || 'apply' in value)) throw new Error('a vendor profile row holds a computed value');
  return value as T | undefined;
}

function healthCheckOf(row: VipProfile): HealthCheckPlan {
  const hc = plain(row.settings?.healthCheck);
  const type = (plain(hc?.type) ?? 'connect') as HealthCheckPlan['type'];
  const port = plain(hc?.port) ?? null;
  if (type !== 'http' && type !== 'https') return { type, port };
  return { type, port, path: plain(hc?.path) ?? '/', expectStatus: plain(hc?.expectStatus) ?? 200 };
}

/** The backend plan of one vendor row placed on an address in front of hosts. */
export function vipFromVendorRow(row: VipProfile, placement: VipPlacement): VipPlan {
  const s = row.settings ?? {};
  const persistence = (plain(plain(s.persistence)?.mode) ?? 'none') as VipPlan['persistence'];
  const timeouts = plain(s.timeouts);
  const serverPort = row.serverPort ?? row.ports[0]!;
  const redirect = plain(s.forceHttps) ? ((plain(s.redirectCode) ?? 301) as VipPlan['forceHttps']) : undefined;
  const client = plain(timeouts?.client);
  const server = plain(timeouts?.server);
  return {
    ref: placement.ref,
    label: row.label,
    ipAddress: placement.ipAddress,
    ports: [...row.ports],
    protocol: row.protocol,
    persistence,
    healthCheck: healthCheckOf(row),
    realServers: row.noServers
      ? []
      : placement.hosts.map((h, i) => ({ label: h.id, host: h.id, address: h.address, port: serverPort, kind: placement.kind, reEncrypt: row.reEncrypt === true, backup: placement.failover === true && i > 0 })),
    guide: placement.guide,
    ...(row.tls ? { terminatesTls: true } : {}),
    ...(redirect !== undefined ? { forceHttps: redirect } : {}),
    ...(client !== undefined || server !== undefined ? { timeouts: { ...(client !== undefined ? { client } : {}), ...(server !== undefined ? { server } : {}) } } : {}),
    ...(placement.mode ? { mode: placement.mode } : {}),
    ...(row.note ? { note: row.note } : {}),
  };
}
