// The immutable snapshot of a revision that the data plane reads, and how the store builds
// it from a stored configuration. The store hands every revision to a SnapshotTarget (the
// engine implements it): the arrow points from the engines to this package, never back.
import type { ConfigMap, StoredConfig, StoredRealServer, VirtualServiceSpec } from './model.js';
import type { ConfigChange } from './revision-log.js';
import { deriveServerIndex, serverIndex, type ServerIndex } from './server-index.js';
import { recordStep, replaceVips, vipOf } from './snapshot-step.js';

/** A real server inside a snapshot. */
export interface RealServerSnapshot extends Readonly<Omit<StoredRealServer, 'virtualServiceId'>> {
  readonly id: string;
}

/** A certificate inside a snapshot, with its key (the engine needs it; the API never shows it). */
export interface CertificateSnapshot {
  readonly id: string;
  readonly label: string;
  readonly chainPem: string;
  readonly keyPem: string;
  readonly fingerprintSha256: string;
}

/** A certificate a TLS VIP serves to clients asking for `serverName` (SNI). */
export interface SniCertificateSnapshot {
  readonly serverName: string;
  readonly certificate: CertificateSnapshot;
}

/** A virtual service inside a snapshot, with its certificates and real servers resolved. */
export interface VirtualServiceSnapshot extends Readonly<VirtualServiceSpec> {
  readonly id: string;
  readonly certificate: CertificateSnapshot | null;
  /** `tls.sniCertificates` resolved, in order (empty without a default certificate). */
  readonly sniCertificates: readonly SniCertificateSnapshot[];
  readonly realServers: readonly RealServerSnapshot[];
}

/** One configuration revision as the data plane sees it: deeply frozen. */
export interface ConfigSnapshot {
  readonly revision: number;
  readonly virtualServices: readonly VirtualServiceSnapshot[];
}

/** What the store hands each revision to: `check` before it is stored, `apply` after. */
export interface SnapshotTarget {
  /** Refuses a candidate it could not carry, with an ApplianceError; changes nothing. */
  check(snapshot: ConfigSnapshot): Promise<void>;
  /**
   * Refuses a client's write whose new listeners this host will not let the engine bind (a
   * port another program holds). Not asked for a revision an HA primary already accepted: a
   * secondary refusing it would split the pair, and it binds nothing while passive.
   */
  checkListeners(snapshot: ConfigSnapshot): Promise<void>;
  /** Makes the running data plane follow the snapshot. */
  apply(snapshot: ConfigSnapshot): Promise<{ listenersChanged: number }>;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** What a virtual service's snapshot was built from: reused while all of it is the same objects. */
interface Sources {
  spec: object;
  cert: object | undefined;
  servers: readonly object[];
  serverIds: readonly string[];
  sni: readonly (object | undefined)[];
}
const sourcesOf = new WeakMap<VirtualServiceSnapshot, Sources>();

function sameSources(a: Sources | undefined, spec: object, cert: object | undefined, servers: readonly (readonly [string, object])[], sni: readonly (object | undefined)[]): boolean {
  if (!a || a.spec !== spec || a.cert !== cert || a.servers.length !== servers.length) return false;
  if (a.sni.length !== sni.length || !sni.every((c, i) => a.sni[i] === c)) return false;
  return servers.every(([id, rs], i) => a.servers[i] === rs && a.serverIds[i] === id);
}

/** A write's configuration relative to the one the previous snapshot was built from. */
export interface SnapshotBase {
  config: StoredConfig;
  change: ConfigChange;
  /** The collections whose ids keep `config`'s order, new ones after them (draft.ts). */
  inOrder: ReadonlySet<ConfigMap>;
}

/** The configuration each snapshot was built from. */
const builtFrom = new WeakMap<ConfigSnapshot, StoredConfig>();

/**
 * A deeply frozen snapshot of a configuration; `keyPem` resolves key references. With the
 * `previous` snapshot, a virtual service whose stored objects (itself, its certificate, its
 * servers) are the very objects its previous snapshot was built from is reused as it is: a
 * revision costs what it changes (the store shares untouched objects between revisions).
 * With `base` (what `previous` was built from, and the write's change from it), a write that
 * adds, removes or reorders no VIP and touches no certificate looks only at the VIPs it
 * changed and those whose servers it changed, not at every VIP of the site (issue 17).
 */
export async function buildSnapshot(revision: number, config: StoredConfig, keyPem: (ref: string) => Promise<string>, previous?: ConfigSnapshot | null, base?: SnapshotBase): Promise<ConfigSnapshot> {
  const inPlace = previous && base ? await followInPlace(revision, config, keyPem, previous, base) : null;
  if (inPlace) return inPlace;
  // The same index the API's views use: the revision's servers are grouped once for both.
  const byVs = serverIndex(config);
  const before = new Map<string, VirtualServiceSnapshot>();
  for (const vs of previous?.virtualServices ?? []) before.set(vs.id, vs);
  const virtualServices: VirtualServiceSnapshot[] = [];
  for (const [id, vs] of Object.entries(config.virtualServices)) virtualServices.push(await vipSnapshot(id, vs, config, byVs, keyPem, before.get(id)));
  const snapshot: ConfigSnapshot = Object.freeze({ revision, virtualServices: Object.freeze(virtualServices) });
  builtFrom.set(snapshot, config);
  if (previous) recordStep(previous, snapshot);
  return snapshot;
}

/** The snapshot of `config` as `previous` with only the VIPs `base.change` touched rebuilt, or null when that is not exact. */
async function followInPlace(revision: number, config: StoredConfig, keyPem: (ref: string) => Promise<string>, previous: ConfigSnapshot, base: SnapshotBase): Promise<ConfigSnapshot | null> {
  const { change } = base;
  if (builtFrom.get(previous) !== base.config || !base.inOrder.has('virtualServices') || !base.inOrder.has('realServers')) return null;
  if (Object.keys(change.certificates).length > 0) return null;
  const touched = new Set<string>();
  for (const [id, vs] of Object.entries(change.virtualServices)) {
    // A VIP added or removed changes the list itself.
    if (vs === null || !(id in base.config.virtualServices)) return null;
    touched.add(id);
  }
  for (const [id, rs] of Object.entries(change.realServers)) {
    const old = base.config.realServers[id];
    if (old) touched.add(old.virtualServiceId);
    if (rs) touched.add(rs.virtualServiceId);
  }
  const byVs = deriveServerIndex(config, base.config, change.realServers);
  if (!byVs) return null;
  const replacements: VirtualServiceSnapshot[] = [];
  for (const id of touched) {
    const vs = config.virtualServices[id];
    const old = vipOf(previous, id);
    // A server naming a VIP that is not there is for the rules to refuse; not followed here.
    if (!old || !vs) return null;
    replacements.push(await vipSnapshot(id, vs, config, byVs, keyPem, old));
  }
  // The step it records lets every layer below follow only these VIPs (snapshot-step.ts).
  const snapshot = replaceVips(previous, revision, replacements);
  if (snapshot) builtFrom.set(snapshot, config);
  return snapshot;
}

/** One VIP's snapshot: `old` itself when it was built from the very same objects. */
async function vipSnapshot(id: string, vs: VirtualServiceSpec, config: StoredConfig, byVs: ServerIndex, keyPem: (ref: string) => Promise<string>, old: VirtualServiceSnapshot | undefined): Promise<VirtualServiceSnapshot> {
  const cert = vs.certificateId ? config.certificates[vs.certificateId] : undefined;
  const servers = byVs.get(id) ?? [];
  const sniSources = (vs.tls?.sniCertificates ?? []).map((sni) => config.certificates[sni.certificateId]);
  if (old && sameSources(sourcesOf.get(old), vs, cert, servers, sniSources)) return old;
  const realServers = servers.map(([rsId, rs]) => {
    const { virtualServiceId: _vs, ...rest } = rs;
    return { id: rsId, ...structuredClone(rest) };
  });
  const sniCertificates: SniCertificateSnapshot[] = [];
  for (const sni of vs.tls?.sniCertificates ?? []) {
    const c = config.certificates[sni.certificateId];
    if (!c || !cert) continue;
    sniCertificates.push({
      serverName: sni.serverName,
      certificate: { id: sni.certificateId, label: c.label, chainPem: c.chainPem, keyPem: await keyPem(c.keyRef), fingerprintSha256: c.fingerprintSha256 },
    });
  }
  const built: VirtualServiceSnapshot = deepFreeze({
    id,
    ...structuredClone(vs),
    sniCertificates,
    certificate:
      cert && vs.certificateId
        ? { id: vs.certificateId, label: cert.label, chainPem: cert.chainPem, keyPem: await keyPem(cert.keyRef), fingerprintSha256: cert.fingerprintSha256 }
        : null,
    realServers,
  });
  sourcesOf.set(built, { spec: vs, cert, servers: servers.map(([, rs]) => rs), serverIds: servers.map(([rsId]) => rsId), sni: sniSources });
  return built;
}
