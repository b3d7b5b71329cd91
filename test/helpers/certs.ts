// Test certificates made with the openssl command line (a real, independent implementation),
// so the appliance's parsing is checked against material it did not produce itself.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { needProgram } from './programs.js';

/** A certificate and its key as PEM, plus a PFX of both. */
export interface TestCert {
  certPem: string;
  keyPem: string;
  /** certificate followed by key */
  bundlePem: string;
  pfxBase64: string;
  pfxPassphrase: string;
}

/** Makes a self-signed certificate with openssl (EC P-256 or RSA 2048). */
export function makeTestCert(commonName: string, kind: 'ec' | 'rsa' = 'ec', sans: string[] = [commonName]): TestCert {
  needProgram('openssl');
  const dir = mkdtempSync(join(tmpdir(), 'lbcert-'));
  try {
    const key = join(dir, 'k.pem');
    const crt = join(dir, 'c.pem');
    const pfx = join(dir, 'c.pfx');
    const keyArgs = kind === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-newkey', 'rsa:2048'];
    const san = sans.map((s) => (/^[\d.]+$|:/.test(s) ? `IP:${s}` : `DNS:${s}`)).join(',');
    execFileSync('openssl', ['req', '-x509', ...keyArgs, '-nodes', '-keyout', key, '-out', crt, '-days', '30', '-subj', `/CN=${commonName}`, '-addext', `subjectAltName=${san}`], { stdio: 'ignore' });
    execFileSync('openssl', ['pkcs12', '-export', '-in', crt, '-inkey', key, '-out', pfx, '-passout', 'pass:pfx-secret'], { stdio: 'ignore' });
    const certPem = readFileSync(crt, 'utf8');
    const keyPem = readFileSync(key, 'utf8');
    return { certPem, keyPem, bundlePem: certPem + keyPem, pfxBase64: readFileSync(pfx).toString('base64'), pfxPassphrase: 'pfx-secret' };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
