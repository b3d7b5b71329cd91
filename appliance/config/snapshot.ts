// The immutable snapshot of a revision that the data plane reads, and how the store builds
// it from a stored configuration. The store hands every revision to a SnapshotTarget (the
// engine implements it): the arrow points from the engines to this package, never back.
import type { StoredConfig, StoredRealServer, VirtualServiceSpec } from './model.js';
import { serverIndex } from './server-index.js';

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

/**
 * A deeply frozen snapshot of a configuration; `keyPem` resolves key references. With the
 * `previous` snapshot, a virtual service whose stored objects (itself, its certificate, its
 * servers) are the very objects its previous snapshot was built from is reused as it is: a
 * revision costs what it changes (the store shares untouched objects between revisions).
 */
export async function buildSnapshot(revision: number, config: StoredConfig, keyPem: (ref: string) => Promise<string>, previous?: ConfigSnapshot | null): Promise<ConfigSnapshot> {
  // The same index the API's views use: the revision's servers are grouped once for both.
  const byVs = serverIndex(config);
  const before = new Map<string, VirtualServiceSnapshot>();
  for (const vs of previous?.virtualServices ?? []) before.set(vs.id, vs);
  const virtualServices: VirtualServiceSnapshot[] = [];
  for (const [id, vs] of Object.entries(config.virtualServices)) {
    const cert = vs.certificateId ? config.certificates[vs.certificateId] : undefined;
    const servers = byVs.get(id) ?? [];
    const sniSources = (vs.tls?.sniCertificates ?? []).map((sni) => config.certificates[sni.certificateId]);
    const old = before.get(id);
    if (old && sameSources(sourcesOf.get(old), vs, cert, servers, sniSources)) {
      virtualServices.push(old);
      continue;
    }
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
    virtualServices.push(built);
  }
  return Object.freeze({ revision, virtualServices: Object.freeze(virtualServices) });
}
