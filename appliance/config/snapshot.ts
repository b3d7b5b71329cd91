// Builds the immutable snapshot the engine reads from a stored configuration.
import type { StoredConfig } from './model.js';
import type { ConfigSnapshot, VirtualServiceSnapshot } from '../engine/types.js';

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** A deeply frozen snapshot of a configuration; `keyPem` resolves key references. */
export async function buildSnapshot(revision: number, config: StoredConfig, keyPem: (ref: string) => Promise<string>): Promise<ConfigSnapshot> {
  const virtualServices: VirtualServiceSnapshot[] = [];
  for (const [id, vs] of Object.entries(config.virtualServices)) {
    const cert = vs.certificateId ? config.certificates[vs.certificateId] : undefined;
    const realServers = Object.entries(config.realServers)
      .filter(([, rs]) => rs.virtualServiceId === id)
      .map(([rsId, rs]) => {
        const { virtualServiceId: _vs, ...rest } = rs;
        return { id: rsId, ...structuredClone(rest) };
      });
    virtualServices.push({
      id,
      ...structuredClone(vs),
      certificate:
        cert && vs.certificateId
          ? { id: vs.certificateId, label: cert.label, chainPem: cert.chainPem, keyPem: await keyPem(cert.keyRef), fingerprintSha256: cert.fingerprintSha256 }
          : null,
      realServers,
    });
  }
  return deepFreeze({ revision, virtualServices });
}
