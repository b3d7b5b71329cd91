// Private keys in a disaster-recovery backup (exportBackup, `lbappliance backup --passphrase-file`):
// encrypted under a passphrase the user gives, never in the clear, so a restore onto a new
// appliance brings back every certificate with its own key and fingerprint. Node's crypto
// only: one 256-bit key per backup from scrypt (a fresh random salt each time), then
// AES-256-GCM per private key with a fresh random IV, so a wrong passphrase or a changed byte
// is detected rather than yielding a wrong key. The passphrase is never stored or logged.
import { createCipheriv, createDecipheriv, randomBytes, scrypt, type BinaryLike } from 'node:crypto';
import type { components } from '../../openapi/generated/types.js';
import { ApplianceError } from '../errors.js';
import type { StoredCertificate } from './model.js';

/** How a backup's keys are encrypted, as the contract's `KeyEncryption`. */
export type KeyEncryption = components['schemas']['KeyEncryption'];

/** The scrypt cost of new backups (N; r = 8, p = 1): about 32 MiB and a tenth of a second. */
const COST = 32768;
const IV_BYTES = 12;
const TAG_BYTES = 16;

function deriveKey(passphrase: string, salt: BinaryLike, cost: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // scrypt needs 128 * N * r bytes; Node's default ceiling (32 MiB) is just below N = 32768.
    scrypt(passphrase, salt, 32, { N: cost, r: 8, p: 1, maxmem: 256 * cost * 8 }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** Encrypts the private keys of one backup under one passphrase. */
export interface KeySealer {
  /** What goes into the backup's `keyEncryption`. */
  readonly keyEncryption: KeyEncryption;
  /** One key PEM, encrypted (base64 of IV, ciphertext, tag). */
  seal(keyPem: string): string;
}

/** A sealer for a new backup: a fresh salt, the key derived once. */
export async function keySealer(passphrase: string): Promise<KeySealer> {
  const salt = randomBytes(16);
  const key = await deriveKey(passphrase, salt, COST);
  return {
    keyEncryption: { algorithm: 'scrypt-aes-256-gcm', salt: salt.toString('base64'), cost: COST },
    seal(keyPem) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(keyPem, 'utf8'), cipher.final()]);
      return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64');
    },
  };
}

/**
 * Opens the keys (and the sealed secrets, config/backup-secrets.ts) of a backup. A passphrase
 * that does not open one (or a key changed since) is LB_CERTIFICATE_INVALID on
 * `/keyPassphrase`, naming what it did not open (`what`; by default the private key of
 * certificate `certificate`): nothing is restored.
 */
export async function keyOpener(keyEncryption: KeyEncryption, passphrase: string): Promise<(sealed: string, certificate: string, what?: string) => string> {
  const key = await deriveKey(passphrase, Buffer.from(keyEncryption.salt, 'base64'), keyEncryption.cost);
  return (sealed, certificate, what = `the private key of certificate ${certificate}`) => {
    const bytes = Buffer.from(sealed, 'base64');
    try {
      if (bytes.length <= IV_BYTES + TAG_BYTES) throw new Error('too short');
      const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES));
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
      return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch (err) {
      throw new ApplianceError('LB_CERTIFICATE_INVALID', `the passphrase does not open ${what} (a wrong passphrase, or a backup changed since it was made); nothing was restored`, {
        field: '/keyPassphrase',
        cause: err,
      });
    }
  };
}

/**
 * The private keys of `certificates`, encrypted by `sealer` (one backup's: keySealer), by
 * certificate id, and how. `keyOf` reads a key from the keystore; a missing one is
 * LB_INTERNAL naming its certificate.
 */
export async function encryptedKeys(
  certificates: Readonly<Record<string, StoredCertificate>>,
  keyOf: (ref: string) => Promise<string>,
  sealer: KeySealer,
): Promise<{ keyEncryption: KeyEncryption; byId: Record<string, string> }> {
  const byId: Record<string, string> = {};
  for (const [id, cert] of Object.entries(certificates)) {
    const keyPem = await keyOf(cert.keyRef).catch((err: unknown) => {
      throw new ApplianceError('LB_INTERNAL', `the private key of certificate ${cert.label} (${id}) is missing from the keystore (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); replace the certificate`, { cause: err });
    });
    byId[id] = sealer.seal(keyPem);
  }
  return { keyEncryption: sealer.keyEncryption, byId };
}
