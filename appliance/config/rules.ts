// Rules beyond the schema. They run on every candidate configuration before it is stored,
// look only at the objects the write changed, and name the offending field as a JSON
// Pointer into the Config document (/virtualServices/<id>/ports/0); the API re-roots it
// under the request body.
import { isIP } from 'node:net';
import { createSecureContext } from 'node:tls';
import { realServerProblems, virtualServiceProblems } from '../../openapi/sdk/rules.js';
import { ApplianceError } from '../errors.js';
import { checkScriptsDir, resolveCheckScript } from './check-scripts.js';
import { canonicalJson } from './canonical-json.js';
import { checkIntegrationRules } from './integration-rules.js';
import type { StoredConfig, VirtualServiceSpec } from './model.js';
import type { ConfigChange } from './revision-log.js';
import { serversOf } from './server-index.js';

/** A TCP address:port the appliance itself uses and no VIP may take. */
export interface ReservedListener {
  address: string;
  port: number;
  what: string;
}

/** What the rules need to know about the node. */
export interface RuleEnvironment {
  reserved: ReservedListener[];
  /** Where `script` checks' programs must be (default: the appliance's `--check-scripts-dir`). */
  checkScriptsDir?: string;
}

function changedIds<T>(before: Record<string, T>, after: Record<string, T>, changed?: Readonly<Record<string, unknown>>): string[] {
  // The store shares the objects a write did not replace: the same object is unchanged, and
  // only replaced ones are compared (so a write costs what it changes). A write's draft says
  // which ids it replaced (`changed`); a whole configuration is compared id by id.
  const ids = changed ? Object.keys(changed).filter((id) => changed[id] !== null) : Object.keys(after);
  return ids.filter((id) => before[id] !== after[id] && (!(id in before) || canonicalJson(before[id]) !== canonicalJson(after[id])));
}

/** Whether `after` lacks an id `before` has (`change`, when given, says it without the comparison). */
function anyRemoved(before: Record<string, unknown>, after: Record<string, unknown>, change?: Readonly<Record<string, unknown>>): boolean {
  if (change) return Object.values(change).some((v) => v === null);
  return Object.keys(before).some((id) => !(id in after));
}

/** The canonical text of an IP address (IPv6 compressed, IPv4-mapped IPv6 as IPv4). */
export function normaliseIp(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1] ?? ip;
  try {
    return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  } catch {
    return ip.toLowerCase();
  }
}

function isWildcard(ip: string): boolean {
  return ip === '0.0.0.0' || ip === '::';
}

/** Whether two listen addresses overlap (equal, or one is a wildcard of the same family; `::` covers both). */
export function addressesOverlap(a: string, b: string): boolean {
  const na = normaliseIp(a);
  const nb = normaliseIp(b);
  if (na === nb) return true;
  if (na === '::' || nb === '::') return true;
  const fa = isIP(na);
  const fb = isIP(nb);
  return fa === fb && (isWildcard(na) || isWildcard(nb));
}

/** Whether this node's OpenSSL knows the VIP's cipher lists (both engines use the system OpenSSL). */
function cipherListProblem(tls: VirtualServiceSpec['tls'] | undefined): { field: string; message: string } | null {
  if (!tls) return null;
  const tries: [string, string | null, (v: string) => void][] = [
    ['/tls/ciphers', tls.ciphers, (v) => createSecureContext({ ciphers: `${v}:TLS_AES_128_GCM_SHA256` })],
    ['/tls/cipherSuites', tls.cipherSuites, (v) => createSecureContext({ ciphers: `${v}:ECDHE-RSA-AES128-GCM-SHA256` })],
  ];
  for (const [field, value, attempt] of tries) {
    if (value === null) continue;
    try {
      attempt(value);
    } catch (err) {
      return { field, message: `${value} names no cipher this appliance can use (${(err as Error).message})` };
    }
  }
  return null;
}

function vsField(id: string, field: string): string {
  return `/virtualServices/${id}${field}`;
}

function checkVirtualService(config: StoredConfig, id: string, vs: VirtualServiceSpec, env: RuleEnvironment): void {
  for (const [otherId, other] of Object.entries(config.virtualServices)) {
    if (otherId === id) continue;
    if (other.label === vs.label) {
      throw new ApplianceError('LB_LABEL_IN_USE', `label "${vs.label}" is already used by virtual service ${otherId}`, { field: vsField(id, '/label') });
    }
    if (!addressesOverlap(vs.ipAddress, other.ipAddress)) continue;
    const index = vs.ports.findIndex((p) => other.ports.includes(p));
    if (index >= 0) {
      throw new ApplianceError(
        'LB_ADDRESS_IN_USE',
        `${vs.ipAddress}:${vs.ports[index]} overlaps virtual service ${other.label} (${otherId}) on ${other.ipAddress}:${vs.ports[index]}`,
        { field: vsField(id, `/ports/${index}`) },
      );
    }
  }
  for (const r of env.reserved) {
    const index = vs.ports.indexOf(r.port);
    if (index >= 0 && addressesOverlap(vs.ipAddress, r.address)) {
      throw new ApplianceError('LB_ADDRESS_IN_USE', `${vs.ipAddress}:${r.port} overlaps the appliance's ${r.what} (${r.address}:${r.port})`, {
        field: vsField(id, `/ports/${index}`),
      });
    }
  }
  if (vs.certificateId !== null && !(vs.certificateId in config.certificates)) {
    throw new ApplianceError('LB_UNKNOWN_REFERENCE', `certificate ${vs.certificateId} does not exist`, { field: vsField(id, '/certificateId') });
  }
  // The rules on the VIP alone are shared with the providers' plan-time checks.
  const [problem] = virtualServiceProblems(vs);
  if (problem) throw new ApplianceError(problem.code, problem.message, { field: vsField(id, problem.field) });
  (vs.tls?.sniCertificates ?? []).forEach((sni, i) => {
    if (!(sni.certificateId in config.certificates)) {
      throw new ApplianceError('LB_UNKNOWN_REFERENCE', `certificate ${sni.certificateId} does not exist`, { field: vsField(id, `/tls/sniCertificates/${i}/certificateId`) });
    }
  });
  // Only a program an administrator of the machine put in the check scripts directory runs.
  const script = vs.healthCheck.type === 'script' ? vs.healthCheck.script?.path : null;
  if (typeof script === 'string') {
    const resolved = resolveCheckScript(script, env.checkScriptsDir ?? checkScriptsDir());
    if (!resolved.ok) throw new ApplianceError('LB_UNSUPPORTED_VALUE', `healthCheck.script.path: ${resolved.reason}`, { field: vsField(id, '/healthCheck/script/path') });
  }
  const cipherProblem = cipherListProblem(vs.tls);
  if (cipherProblem) throw new ApplianceError('LB_UNSUPPORTED_VALUE', cipherProblem.message, { field: vsField(id, cipherProblem.field) });
}

/** The certificates a VIP serves: its default and its SNI ones. */
export function certificatesOf(vs: VirtualServiceSpec): string[] {
  return [...(vs.certificateId === null ? [] : [vs.certificateId]), ...(vs.tls?.sniCertificates ?? []).map((s) => s.certificateId)];
}

/** A VIP changed under its real servers (say to direct-routing): the servers it already has must still fit. */
function checkServersOf(before: StoredConfig, config: StoredConfig, id: string, vs: VirtualServiceSpec): void {
  const old = before.virtualServices[id];
  for (const [rsId, rs] of serversOf(config, id)) {
    const [problem] = realServerProblems(rs, vs);
    if (!problem) continue;
    const field = problem.field === '/port' && old !== undefined && old.forwarding === vs.forwarding ? '/ports' : '/forwarding';
    throw new ApplianceError(problem.code, `real server ${rs.label} (${rsId}): ${problem.message}`, { field: vsField(id, field) });
  }
}

/**
 * Checks the objects a write changed (in `after` relative to `before`) against the whole
 * candidate configuration. Throws the first violation as an ApplianceError. `change` (from
 * the write's draft) names what changed, so that the check costs what the write changed.
 */
export function checkRules(before: StoredConfig, after: StoredConfig, env: RuleEnvironment, change?: ConfigChange): void {
  checkIntegrationRules(before, after);
  for (const id of changedIds(before.virtualServices, after.virtualServices, change?.virtualServices)) {
    const vs = after.virtualServices[id];
    if (vs) {
      checkVirtualService(after, id, vs, env);
      checkServersOf(before, after, id, vs);
    }
  }
  // A changed certificate (or a VIP pointing at one) may now clash with labels.
  for (const id of changedIds(before.certificates, after.certificates, change?.certificates)) {
    const cert = after.certificates[id];
    if (!cert) continue;
    for (const [otherId, other] of Object.entries(after.certificates)) {
      if (otherId !== id && other.label === cert.label) {
        throw new ApplianceError('LB_LABEL_IN_USE', `label "${cert.label}" is already used by certificate ${otherId}`, { field: `/certificates/${id}/label` });
      }
    }
  }
  // References are checked on every object when a VIP went (its servers must not stay behind),
  // else on the servers the write changed.
  const vipRemoved = anyRemoved(before.virtualServices, after.virtualServices, change?.virtualServices);
  const changedServers = changedIds(before.realServers, after.realServers, change?.realServers);
  for (const [id, rs] of vipRemoved ? Object.entries(after.realServers) : changedServers.map((i) => [i, after.realServers[i]] as const)) {
    if (rs && !(rs.virtualServiceId in after.virtualServices)) {
      throw new ApplianceError('LB_UNKNOWN_REFERENCE', `virtual service ${rs.virtualServiceId} does not exist`, { field: `/realServers/${id}/virtualServiceId` });
    }
  }
  // A server's label is checked among its siblings only, found with the revision's server index
  // (the candidate is final here; the snapshot and the views then use the same index).
  for (const id of changedServers) {
    const rs = after.realServers[id];
    if (!rs) continue;
    const vs = after.virtualServices[rs.virtualServiceId];
    if (!vs) continue;
    for (const [otherId, other] of serversOf(after, rs.virtualServiceId)) {
      if (otherId !== id && other.label === rs.label) {
        throw new ApplianceError('LB_LABEL_IN_USE', `label "${rs.label}" is already used by real server ${otherId} of this virtual service`, {
          field: `/realServers/${id}/label`,
        });
      }
    }
    // What the kernel cannot do for a layer 4 VIP (port translation in DR, host names, TLS).
    const [problem] = realServerProblems(rs, vs);
    if (problem) throw new ApplianceError(problem.code, problem.message, { field: `/realServers/${id}${problem.field}` });
    const ports = rs.port === null ? vs.ports : [rs.port];
    if (isIP(rs.address) && addressesOverlap(rs.address, vs.ipAddress) && !isWildcard(normaliseIp(rs.address)) && ports.some((p) => vs.ports.includes(p))) {
      throw new ApplianceError('LB_INVALID_COMBINATION', `real server ${rs.address} port ${ports.join(',')} is the virtual service's own address: traffic would loop`, {
        field: `/realServers/${id}/${rs.port === null ? 'address' : 'port'}`,
      });
    }
  }
  // Deleting a certificate some VIP still uses is refused (checked here too for whole-config writes).
  const certRemoved = anyRemoved(before.certificates, after.certificates, change?.certificates);
  for (const [id, vs] of certRemoved ? Object.entries(after.virtualServices) : []) {
    for (const certId of certificatesOf(vs)) {
      if (!(certId in after.certificates) && certId in before.certificates) {
        throw new ApplianceError('LB_CERTIFICATE_IN_USE', `certificate ${certId} is used by virtual service ${vs.label} (${id})`, { field: `/certificates/${certId}` });
      }
    }
  }
}
