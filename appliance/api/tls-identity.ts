// The API's TLS identity: a certificate given with --tls-cert/--tls-key, or a self-signed one
// generated into the data dir at first start and reused afterwards.
import { readFile } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../config/atomic-file.js';
import { generateSelfSigned } from '../config/x509-generate.js';

/** A certificate and key for the API listener. */
export interface TlsIdentity {
  cert: string;
  key: string;
  fingerprintSha256: string;
}

async function readIfExists(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** Loads the given identity, or the data dir's, generating that one on first start. */
export async function loadTlsIdentity(dataDir: string, listenHost: string, given?: { certFile: string; keyFile: string }): Promise<TlsIdentity & { generated: boolean }> {
  let cert: string | null;
  let key: string | null;
  let generated = false;
  if (given) {
    cert = await readFile(given.certFile, 'utf8');
    key = await readFile(given.keyFile, 'utf8');
  } else {
    const certPath = join(dataDir, 'tls', 'api.crt');
    const keyPath = join(dataDir, 'tls', 'api.key');
    cert = await readIfExists(certPath);
    key = await readIfExists(keyPath);
    if (!cert || !key) {
      const names = new Set(['localhost', '127.0.0.1', '::1', hostname()]);
      if (listenHost !== '0.0.0.0' && listenHost !== '::') names.add(listenHost);
      const made = await generateSelfSigned({ commonName: `lbappliance ${hostname()}`.slice(0, 64), subjectAltNames: [...names], days: 3650, keyType: 'ecdsa-p256' });
      await writeFileAtomic(keyPath, made.keyPem, 0o600);
      await writeFileAtomic(certPath, made.certPem, 0o644);
      cert = made.certPem;
      key = made.keyPem;
      generated = true;
    }
  }
  return { cert, key, fingerprintSha256: new X509Certificate(cert).fingerprint256, generated };
}
