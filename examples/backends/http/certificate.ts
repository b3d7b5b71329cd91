// The TLS identity of one backend server: a self-signed certificate naming the server and
// its address, made with the project's own generator (appliance/config/x509-generate.ts) so
// no openssl binary is needed. The appliance re-encrypts to it; clients that pin it can
// tell which server answered from the certificate alone.
import { generateSelfSigned } from '../../../appliance/config/x509-generate.js';

/** A certificate and its private key, PEM. */
export interface ServerCertificate {
  certPem: string;
  keyPem: string;
}

/** Makes a self-signed ECDSA P-256 certificate for a server name and address (valid one year). */
export function makeServerCertificate(name: string, address: string): Promise<ServerCertificate> {
  return generateSelfSigned({ commonName: name, subjectAltNames: [name, address, 'localhost'], days: 365, keyType: 'ecdsa-p256' });
}
