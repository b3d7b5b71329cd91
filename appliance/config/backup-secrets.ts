// The secrets of the operations settings (issue 18: the SMTP password of the e-mail alerts,
// the SNMP communities and v3 keys, the directory's bind password) in a disaster-recovery
// backup: never in the clear, sealed under the backup's passphrase exactly as its private keys
// are (config/backup-keys.ts: the same scrypt key and AES-256-GCM), as one `encryptedSecrets`
// string holding a small JSON document. A restore opens it with `keyPassphrase` and checks its
// shape before anything is written, so a changed or foreign document is a 4xx, never a
// half-restored configuration.
import { ApplianceError } from '../errors.js';
import { keyOpener, type KeyEncryption, type KeySealer } from './backup-keys.js';
import { ALERT_MAIL_ID, type StoredConfig } from './model.js';
import { snmpSettingsOf } from './snmp-settings.js';
import { openSecret } from './stored-secret.js';

/** The plaintext of a backup's `encryptedSecrets` (the contract's EncryptedSecrets). */
export interface BackupSecrets {
  alertMail: { password: string | null } | null;
  directory: { bindPassword: string } | null;
  snmp: {
    communities: Record<string, string>;
    users: Record<string, { authPassword: string; privPassword: string }>;
    trapDestinations: Record<string, string>;
  };
}

/**
 * The secrets of `config` and of the directory settings (`bindPassword`, null without a
 * directory). `secretOf` reads a keystore entry; a missing one is LB_INTERNAL.
 */
export async function backupSecrets(config: StoredConfig, bindPassword: string | null, secretOf: (ref: string) => Promise<string>): Promise<BackupSecrets> {
  const mail = config.alertMail[ALERT_MAIL_ID];
  let password: string | null = null;
  if (mail?.passwordRef) {
    password = openSecret(
      await secretOf(mail.passwordRef).catch((err: unknown) => {
        throw new ApplianceError('LB_INTERNAL', `the SMTP password of the e-mail alerts is missing from the keystore (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); set the e-mail alerts again`, { cause: err });
      }),
    );
  }
  const snmp = snmpSettingsOf(config);
  return {
    alertMail: mail ? { password } : null,
    directory: bindPassword === null ? null : { bindPassword },
    snmp: {
      communities: Object.fromEntries(snmp.communities.map((c) => [c.name, c.community])),
      users: Object.fromEntries(snmp.users.map((u) => [u.name, { authPassword: u.authPassword, privPassword: u.privPassword }])),
      trapDestinations: Object.fromEntries(snmp.trapDestinations.flatMap((t) => (t.community === null ? [] : [[t.name, t.community]]))),
    },
  };
}

/** The secrets sealed for the backup's `encryptedSecrets`. */
export function sealSecrets(sealer: KeySealer, secrets: BackupSecrets): string {
  return sealer.seal(JSON.stringify(secrets));
}

const FIELD = '/encryptedSecrets';

function malformed(what: string): ApplianceError {
  return new ApplianceError('LB_VALIDATION', `encryptedSecrets opens but ${what}: give the backup as exportBackup wrote it`, { field: FIELD });
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** A secret as the contract admits it: 1 to 1024 characters (SNMP ones 8 to 64 printable, no space). */
const isSecret = (v: unknown): v is string => typeof v === 'string' && v.length >= 1 && v.length <= 1024;
const isSnmpSecret = (v: unknown): v is string => typeof v === 'string' && /^[\x21-\x7e]{8,64}$/.test(v);

/** Checks the shape of opened secrets (a document that is not one is refused, naming the part). */
function checked(value: unknown): BackupSecrets {
  if (!isObject(value)) throw malformed('is not an object');
  const { alertMail, directory, snmp } = value;
  if (alertMail !== null && !(isObject(alertMail) && (alertMail.password === null || isSecret(alertMail.password)))) throw malformed('alertMail is neither null nor {"password": ...}');
  if (directory !== null && !(isObject(directory) && isSecret(directory.bindPassword))) throw malformed('directory is neither null nor {"bindPassword": ...}');
  if (!isObject(snmp) || !isObject(snmp.communities) || !isObject(snmp.users) || !isObject(snmp.trapDestinations)) throw malformed('snmp lacks communities, users or trapDestinations');
  if (!Object.values(snmp.communities).every(isSnmpSecret)) throw malformed('an SNMP community is not 8 to 64 printable characters');
  if (!Object.values(snmp.trapDestinations).every(isSnmpSecret)) throw malformed('a trap destination community is not 8 to 64 printable characters');
  if (!Object.values(snmp.users).every((u) => isObject(u) && isSnmpSecret(u.authPassword) && isSnmpSecret(u.privPassword))) throw malformed('an SNMP user lacks its authPassword or privPassword');
  return value as unknown as BackupSecrets;
}

/** What a restore says about the backup's secrets (the contract's ConfigInput fields). */
export interface SealedSecretsInput {
  keyEncryption?: KeyEncryption;
  keyPassphrase?: string;
  encryptedSecrets?: string;
}

/**
 * The secrets of a backup, opened with its passphrase, or null when the document brings none
 * (a backup made before issue 18, or a document from getConfig). Without keyEncryption or
 * keyPassphrase, or with a passphrase that does not open them, it is a 422 naming the field.
 */
export async function openBackupSecrets(input: SealedSecretsInput): Promise<BackupSecrets | null> {
  if (input.encryptedSecrets === undefined) return null;
  if (input.keyEncryption === undefined) {
    throw new ApplianceError('LB_VALIDATION', 'encryptedSecrets goes with the keyEncryption of the backup it came from (give the backup as exportBackup wrote it)', { field: '/keyEncryption' });
  }
  if (input.keyPassphrase === undefined) {
    throw new ApplianceError('LB_VALIDATION', 'the backup\'s secrets are encrypted: give keyPassphrase, the passphrase the backup was made with', { field: '/keyPassphrase' });
  }
  const open = await keyOpener(input.keyEncryption, input.keyPassphrase);
  const text = open(input.encryptedSecrets, '', 'the secrets of the e-mail alert, SNMP and directory settings');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw malformed('is not JSON');
  }
  return checked(value);
}
