// Secrets of the configuration (the SMTP password of the e-mail alerts) live in the keystore
// next to the private keys, never in a revision: a revision names one by its reference, so
// the secret is durable before the revision, replicated to the HA secondary with the keys
// a revision needs, kept for rollbacks and removed with the last revision naming it. The
// keystore names an entry by the SHA-256 of its content; the content carries a random nonce
// before the secret, so the reference (which is in every read of the revision log, and in
// backups of the data directory) says nothing about the secret.
import { randomBytes } from 'node:crypto';

const HEADER = 'lbappliance-secret v1';

/** The keystore content for a secret: a header, a random nonce, the secret. */
export function sealSecret(secret: string): string {
  return `${HEADER}\n${randomBytes(16).toString('hex')}\n${secret}`;
}

/** The secret in a keystore content written by sealSecret. */
export function openSecret(content: string): string {
  const first = content.indexOf('\n');
  const second = content.indexOf('\n', first + 1);
  if (content.slice(0, first) !== HEADER || second < 0) throw new Error('not a stored secret');
  return content.slice(second + 1);
}
