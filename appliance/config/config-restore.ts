// Restoring a whole configuration (replaceConfig, patchConfig, `lbappliance restore`): every
// certificate's material is resolved before the write is queued (parsing a PEM, opening a
// backup's encrypted keys or generating an RSA key does not hold other writes), then the
// restored configuration is built inside the write from that material and the certificates
// the appliance already keeps. The operations settings (syslog collectors, e-mail alerts,
// SNMP; issue 18) are replaced when the document gives their section and kept when it leaves
// it out (a backup made before them), their secrets taken from the backup's opened
// `encryptedSecrets` or kept by name. Either all of it is accepted or nothing changes.
import type { components } from '../../openapi/generated/types.js';
import { ApplianceError } from '../errors.js';
import { keyOpener } from './backup-keys.js';
import type { BackupSecrets } from './backup-secrets.js';
import { checkOneMaterial, materialFrom, storedCertificate, type CertificateMaterial } from './certificate-material.js';
import { ALERT_MAIL_ID, type SelfSignedSpec, type StoredAlertMail, type StoredCertificate, type StoredConfig } from './model.js';
import { SNMP_SETTINGS_KEY, snmpSettingsOf, storedSnmpSettings } from './snmp-settings.js';
import { sealSecret } from './stored-secret.js';
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
 * Material of the certificates of a disaster-recovery backup (exportBackup): the chain it
 * exported and the private key it encrypted, opened with `keyPassphrase`. The certificate
 * comes back as it was: same key, same fingerprint, same source.
 */
async function backupMaterial(input: ConfigInput): Promise<RestoreMaterial> {
  const out: RestoreMaterial = new Map();
  const sealed = Object.entries(input.certificates).filter(([, c]) => c.encryptedPrivateKey !== undefined);
  if (input.keyPassphrase !== undefined && input.keyEncryption === undefined) {
    throw new ApplianceError('LB_VALIDATION', 'keyPassphrase goes with keyEncryption and the certificates\' encryptedPrivateKey (a backup from exportBackup)', { field: '/keyPassphrase' });
  }
  if (sealed.length === 0) return out;
  if (input.keyEncryption === undefined) {
    throw new ApplianceError('LB_VALIDATION', 'certificates bring an encryptedPrivateKey but the document has no keyEncryption (give the backup as exportBackup wrote it)', { field: '/keyEncryption' });
  }
  if (input.keyPassphrase === undefined) {
    throw new ApplianceError('LB_VALIDATION', 'the backup\'s private keys are encrypted: give keyPassphrase, the passphrase the backup was made with', { field: '/keyPassphrase' });
  }
  const open = await keyOpener(input.keyEncryption, input.keyPassphrase);
  for (const [id, entry] of sealed) {
    const at = `/certificates/${id}`;
    if (entry.pem !== undefined || entry.pfx !== undefined) {
      throw new ApplianceError('LB_VALIDATION', `give exactly one of pem, pfx or encryptedPrivateKey for certificate ${entry.label} (${id})`, { field: `${at}/encryptedPrivateKey` });
    }
    if (entry.chainPem === undefined) {
      throw new ApplianceError('LB_VALIDATION', `encryptedPrivateKey goes with the chainPem the backup holds (certificate ${entry.label} (${id}))`, { field: `${at}/chainPem` });
    }
    const keyPem = open(entry.encryptedPrivateKey as string, `${entry.label} (${id})`);
    const material = await materialFrom({ pem: `${entry.chainPem}\n${keyPem}` }).catch((err: unknown) => {
      throw err instanceof ApplianceError ? new ApplianceError(err.code, `certificate ${entry.label} (${id}): ${err.message}`, { field: `${at}/chainPem`, cause: err }) : err;
    });
    const selfSigned = entry.source === 'selfSigned' && entry.selfSigned ? (entry.selfSigned as SelfSignedSpec) : null;
    out.set(id, { ...material, source: selfSigned ? 'selfSigned' : (entry.source ?? material.source), selfSigned });
  }
  return out;
}

/**
 * Resolves the material a restore brings: the certificates' pem or pfx, a backup's encrypted
 * keys, and new material for self-signed certificates that have no kept twin in `current`
 * (generated outside the write).
 */
export async function prepareRestore(input: ConfigInput, current: Readonly<StoredConfig>): Promise<RestoreMaterial> {
  const material = await uploadedMaterial(input.certificates);
  for (const [id, m] of await backupMaterial(input)) material.set(id, m);
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
export function restoredConfig(
  input: ConfigInput,
  material: RestoreMaterial,
  tools: Pick<MutationTools, 'addKey' | 'base'>,
  secrets: BackupSecrets | null = null,
): Pick<StoredConfig, 'virtualServices' | 'realServers' | 'certificates'> & Partial<StoredConfig> {
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
      throw new ApplianceError(
        'LB_CERTIFICATE_INVALID',
        `certificate ${entry.label} (${id}) does not exist here and brings no pem, pfx or selfSigned material: restore a backup made with a passphrase (exportBackup; lbappliance backup --passphrase-file) with its keyPassphrase, or give the certificate's pem (certificate, chain and private key in one PEM) or pfx`,
        {
        field: `/certificates/${id}`,
      });
    }
  }
  return {
    virtualServices: structuredClone(input.virtualServices) as StoredConfig['virtualServices'],
    realServers: structuredClone(input.realServers) as StoredConfig['realServers'],
    certificates,
    ...restoredOperations(input, tools, secrets),
  };
}

/**
 * `next` with each object equal (as JSON) to the one `base` has under the same id replaced by
 * `base`'s: a restore that gives a section unchanged (a merge patch of other objects, the
 * same document again) changes nothing in it, so the integrations that follow their settings
 * by identity (the SNMP agent, the syslog connections) are not restarted.
 */
function keepingEqual<T>(base: Readonly<Record<string, T>>, next: Record<string, T>): Record<string, T> {
  for (const [id, v] of Object.entries(next)) if (base[id] !== undefined && JSON.stringify(base[id]) === JSON.stringify(v)) next[id] = base[id] as T;
  return next;
}

/** The syslog collectors, e-mail alert and SNMP settings a restore brings (only the sections it gives). */
function restoredOperations(input: ConfigInput, tools: Pick<MutationTools, 'addKey' | 'base'>, secrets: BackupSecrets | null): Partial<StoredConfig> {
  const out: Partial<StoredConfig> = {};
  const base = tools.base;
  if (input.syslogCollectors !== undefined) out.syslogCollectors = keepingEqual(base.syslogCollectors, structuredClone(input.syslogCollectors) as StoredConfig['syslogCollectors']);
  if (input.alertMail !== undefined) out.alertMail = input.alertMail === null ? {} : keepingEqual(base.alertMail, { [ALERT_MAIL_ID]: restoredAlertMail(input.alertMail, tools, secrets) });
  if (input.snmp !== undefined) {
    const s = secrets?.snmp;
    const given = structuredClone(input.snmp);
    // A backup's secrets fill the entries that do not bring their own; the rest are kept by name.
    for (const c of given.communities ?? []) c.community ??= s?.communities[c.name];
    for (const u of given.users ?? []) {
      u.authPassword ??= s?.users[u.name]?.authPassword;
      u.privPassword ??= s?.users[u.name]?.privPassword;
    }
    for (const t of given.trapDestinations ?? []) if (t.version === 'v2c') t.community ??= s?.trapDestinations[t.name];
    try {
      out.snmp = keepingEqual(base.snmp, { [SNMP_SETTINGS_KEY]: storedSnmpSettings(given, snmpSettingsOf(tools.base)) });
    } catch (err) {
      throw reroot(err, '/snmp');
    }
  }
  return out;
}

/** The stored e-mail alert settings of a restore: the password from the backup, the section, or the kept one. */
function restoredAlertMail(given: NonNullable<ConfigInput['alertMail']>, tools: Pick<MutationTools, 'addKey' | 'base'>, secrets: BackupSecrets | null): StoredAlertMail {
  const { password, passwordSet, ...spec } = structuredClone(given);
  const settings = spec as Omit<StoredAlertMail, 'passwordRef'>;
  const secret = password ?? secrets?.alertMail?.password ?? undefined;
  const old = tools.base.alertMail[ALERT_MAIL_ID];
  // As a write of the settings: left out, the stored password stays while the user name does.
  const passwordRef = secret !== undefined ? tools.addKey(sealSecret(secret)) : old && old.username === settings.username && settings.username !== null ? old.passwordRef : null;
  // A document that had a password (passwordSet) never loses it silently.
  if (passwordSet === true && passwordRef === null) {
    throw new ApplianceError('LB_VALIDATION', 'the e-mail alert settings had an SMTP password that this document does not bring and this appliance does not keep: restore a backup made with a passphrase (exportBackup) with its keyPassphrase, or give alertMail.password', {
      field: '/alertMail/password',
    });
  }
  return { ...settings, passwordRef };
}
