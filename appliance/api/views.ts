// API representations of stored objects, joined with the engine's live status: what reads
// return. Nothing here changes state.
import type { components } from '../../openapi/generated/types.js';
import { ALERT_MAIL_ID, type StoredCertificate, type StoredConfig, type StoredRealServer, type VirtualServiceSpec } from '../config/model.js';
import { snmpSettingsOf, snmpSettingsView } from '../config/snmp-settings.js';
import { serversOf } from '../config/server-index.js';
import type { EngineStatus, RealServerRuntime, VirtualServiceRuntime } from '../engine/types.js';

type Schemas = components['schemas'];

/** Live-state inputs of the views. */
export interface LiveState {
  engine: EngineStatus;
  /** False on the passive node of an HA pair. */
  active: boolean;
}

const UNKNOWN_RS: RealServerRuntime = { health: 'unknown', connections: 0, lastCheck: null };

/** The status of a real server. */
export function realServerStatus(vsRuntime: VirtualServiceRuntime | undefined, rsId: string, hc: VirtualServiceSpec['healthCheck'] | undefined): Schemas['RealServerStatus'] {
  const rt = vsRuntime?.realServers.get(rsId) ?? UNKNOWN_RS;
  const health = hc?.type === 'none' && rt.health === 'unknown' ? 'up' : rt.health;
  return { health, connections: rt.connections, lastCheck: rt.lastCheck };
}

/** The System Overview state and colour of a virtual service. */
export function virtualServiceStatus(config: StoredConfig, id: string, live: LiveState): Schemas['VirtualServiceStatus'] {
  const vs = config.virtualServices[id];
  const rt = live.engine.virtualServices.get(id);
  const base = { connections: rt?.connections ?? 0, queued: rt?.queued ?? 0, listening: rt?.listening ?? false, error: rt?.error ?? null };
  if (!vs || !vs.enabled) return { state: 'disabled', colour: 'grey', ...base };
  if (!live.active) return { state: 'passive', colour: 'grey', ...base };
  if (!base.listening) return { state: 'down', colour: 'red', ...base };
  if (vs.forceHttps) return { state: 'redirect', colour: 'green', ...base };
  const servers = serversOf(config, id).filter(([, rs]) => rs.adminState !== 'halt');
  const healthOf = (rsId: string) => realServerStatus(rt, rsId, vs.healthCheck).health;
  const primaries = servers.filter(([, rs]) => !rs.backup && rs.weight > 0);
  const backups = servers.filter(([, rs]) => rs.backup);
  const primariesUp = primaries.filter(([rsId]) => healthOf(rsId) === 'up').length;
  const backupsUp = backups.filter(([rsId]) => healthOf(rsId) === 'up').length;
  if (primaries.length > 0 && primariesUp === primaries.length) return { state: 'up', colour: 'green', ...base };
  if (primariesUp > 0 || backupsUp > 0) return { state: 'degraded', colour: 'yellow', ...base };
  return { state: 'down', colour: 'red', ...base };
}

/** A virtual service as the API returns it. */
export function virtualServiceView(config: StoredConfig, id: string, live: LiveState | null): Schemas['VirtualService'] {
  const vs = config.virtualServices[id] as VirtualServiceSpec;
  return live ? { id, ...vs, status: virtualServiceStatus(config, id, live) } : { id, ...vs };
}

/** A real server as the API returns it. */
export function realServerView(config: StoredConfig, id: string, live: LiveState | null): Schemas['RealServer'] {
  const rs = config.realServers[id] as StoredRealServer;
  const view: Schemas['RealServer'] = { id, ...rs };
  if (live) view.status = realServerStatus(live.engine.virtualServices.get(rs.virtualServiceId), id, config.virtualServices[rs.virtualServiceId]?.healthCheck);
  return view;
}

/** The public details of a stored certificate. */
export function certificatePublic(cert: StoredCertificate): Omit<Schemas['Certificate'], 'id' | 'usedBy'> {
  const { keyRef: _k, ...rest } = cert;
  return rest;
}

/** A certificate as the API returns it (never the key). */
export function certificateView(config: StoredConfig, id: string): Schemas['Certificate'] {
  const cert = config.certificates[id] as StoredCertificate;
  const usedBy = Object.entries(config.virtualServices)
    .filter(([, vs]) => vs.certificateId === id || (vs.tls?.sniCertificates ?? []).some((s) => s.certificateId === id))
    .map(([vsId]) => vsId);
  return { id, ...certificatePublic(cert), usedBy };
}

/** The whole configuration as the Config document. */
export function configView(revision: number, config: StoredConfig, directory?: Schemas['Directory'] | null): Schemas['Config'] {
  const mail = config.alertMail[ALERT_MAIL_ID];
  const alertMail = mail ? (({ passwordRef, ...settings }) => ({ ...structuredClone(settings), passwordSet: passwordRef !== null }))(mail) : null;
  return {
    revision,
    virtualServices: structuredClone(config.virtualServices),
    realServers: structuredClone(config.realServers),
    certificates: Object.fromEntries(Object.entries(config.certificates).map(([id, c]) => [id, certificatePublic(c)])),
    // The operations settings (issue 18), their secrets never: the views have none.
    syslogCollectors: structuredClone(config.syslogCollectors),
    alertMail,
    snmp: snmpSettingsView(snmpSettingsOf(config)),
    // The directory is kept with the users, not in a revision: only the current document has it.
    ...(directory === undefined ? {} : { directory }),
  };
}

/** The colour of a real server in the System Overview. */
export function realServerColour(adminState: string, health: string): Schemas['OverviewRealServer']['colour'] {
  if (adminState === 'halt') return 'blue';
  if (health === 'down') return 'red';
  if (adminState === 'drain') return 'yellow';
  if (health === 'up') return 'green';
  return 'grey';
}
