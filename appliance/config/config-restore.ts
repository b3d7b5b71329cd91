// Restoring a whole configuration (replaceConfig, patchConfig, `lbappliance restore`): every
// certificate's material is resolved before the write is queued (parsing a PEM or generating
// an RSA key does not hold other writes), then the restored configuration is built inside the
// write from that material and the certificates the appliance already keeps. Either all of it
// is accepted or nothing changes.
import type { components } from '../../openapi/generated/types.js';
import { ApplianceError } from '../errors.js';
import { checkOneMaterial, materialFrom, storedCertificate, type CertificateMaterial } from './certificate-material.js';
import type { SelfSignedSpec, StoredCertificate, StoredConfig } from './model.js';
import type { MutationTools } from './store.js';

/** A whole configuration to restore, as the contract's `ConfigInput`. */
export type ConfigInput = components['schemas']['ConfigInput'];
type ConfigCertificate = components['schemas']['ConfigCertificate'];

/** Certificate material resolved before the write, by certificate id. */
export type RestoreMaterial = Map<string, CertificateMaterial>;

function reroot(err: unknown, prefix: string): unknown {
  return err instanceof ApplianceError ? err.withFieldPrefix(prefix) : err;
}

/** Material of the certificates that bring their own (pem, pfx). */
async function uploadedMaterial(certs: Record<string, ConfigCertificate>): Promise<RestoreMaterial> {
  const out: RestoreMaterial = new Map();
  for (const [id, entry] of Object.entries(certs)) {
    try {
      checkOneMaterial({ pem: entry.pem, pfx: entry.pfx, passphrase: entry.passphrase }, '');
      if (entry.pem !== undefined || entry.pfx !== undefined) out.set(id, await materialFrom({ pem: entry.pem, pfx: entry.pfx, passphrase: entry.passphrase }));
    } catch (err) {
      throw reroot(err, `/certificates/${id}`);
    }
  }
  return out;
}

/**
 * Resolves the material a restore brings: the certificates' pem or pfx, and new material for
 * self-signed certificates that have no kept twin in `current` (generated outside the write).
 */
export async function prepareRestore(input: ConfigInput, current: Readonly<StoredConfig>): Promise<RestoreMaterial> {
  const material = await uploadedMaterial(input.certificates);
  for (const [id, entry] of Object.entries(input.certificates)) {
    if (!material.has(id) && !current.certificates[id] && entry.selfSigned) {
      material.set(id, await materialFrom({ selfSigned: entry.selfSigned as SelfSignedSpec }).catch((err: unknown) => Promise.reject(reroot(err, `/certificates/${id}`))));
    }
  }
  return material;
}

/**
 * The configuration a restore makes, built inside the write from the material resolved before
 * it and the certificates kept in `tools.base`. A certificate that brings no material keeps the
 * kept one's (its fingerprint, when given, must match); one that has neither is refused.
 */
export function restoredConfig(input: ConfigInput, material: RestoreMaterial, tools: Pick<MutationTools, 'addKey' | 'base'>): StoredConfig {
  const certificates: Record<string, StoredCertificate> = {};
  for (const [id, entry] of Object.entries(input.certificates)) {
    const brought = material.get(id);
    const kept = tools.base.certificates[id];
    if (brought) {
      certificates[id] = storedCertificate(entry.label, brought, tools);
    } else if (kept) {
      if (entry.fingerprintSha256 !== undefined && entry.fingerprintSha256 !== kept.fingerprintSha256) {
        throw new ApplianceError('LB_CERTIFICATE_INVALID', `certificate ${id} has fingerprint ${kept.fingerprintSha256} here, not ${entry.fingerprintSha256}; give its pem or pfx`, {
          field: `/certificates/${id}/fingerprintSha256`,
        });
      }
      certificates[id] = { ...kept, label: entry.label };
    } else {
      throw new ApplianceError('LB_CERTIFICATE_INVALID', `certificate ${id} does not exist here and brings no pem, pfx or selfSigned material`, {
        field: `/certificates/${id}`,
      });
    }
  }
  return {
    virtualServices: structuredClone(input.virtualServices) as StoredConfig['virtualServices'],
    realServers: structuredClone(input.realServers) as StoredConfig['realServers'],
    certificates,
  };
}
