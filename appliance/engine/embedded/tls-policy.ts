// A VIP's TLS policy (tls.minVersion, ciphers, cipherSuites, sniCertificates) as node's TLS
// options: the secure context of each certificate, and the SNI choice of a certificate by
// the server name a client asks for. node takes the TLS 1.2 list and the TLS 1.3 suites in
// one `ciphers` string, and a string without TLS 1.3 suites would turn TLS 1.3 off (or
// without TLS 1.2 ciphers, TLS 1.2): each part the VIP leaves null keeps node's default.
// Every context carries the engine's session ticket keys, so a client resumes its TLS
// session whichever worker process, listener or SNI certificate takes the next connection.
import { randomBytes } from 'node:crypto';
import { createSecureContext, DEFAULT_CIPHERS, type SecureContext, type SecureContextOptions } from 'node:tls';
import type { CertificateSnapshot, VirtualServiceSnapshot } from '../types.js';

const DEFAULT_TLS13 = DEFAULT_CIPHERS.split(':').filter((c) => c.startsWith('TLS_')).join(':');
const DEFAULT_TLS12 = DEFAULT_CIPHERS.split(':').filter((c) => !c.startsWith('TLS_')).join(':');

/** TLS session ticket keys (48 bytes, node's format): made here, or the engine process's in a worker. */
let ticketKeys: Buffer<ArrayBuffer> = randomBytes(48);

/** This process's session ticket keys (the engine sends them to its workers). */
export function sessionTicketKeys(): Buffer<ArrayBuffer> {
  return ticketKeys;
}

/** Takes the engine process's ticket keys (a worker, before its first listener). */
export function useSessionTicketKeys(keys: Buffer<ArrayBuffer>): void {
  if (keys.length !== 48) throw new Error(`session ticket keys are 48 bytes, not ${keys.length}`);
  ticketKeys = keys;
}

/** The secure context options of one certificate under the VIP's policy. */
export function contextOptions(cert: CertificateSnapshot, tls: VirtualServiceSnapshot['tls']): SecureContextOptions {
  return {
    ticketKeys,
    cert: cert.chainPem,
    key: cert.keyPem,
    minVersion: tls.minVersion,
    ciphers: `${tls.cipherSuites ?? DEFAULT_TLS13}:${tls.ciphers ?? DEFAULT_TLS12}`,
    honorCipherOrder: true,
  };
}

/** What a live TLS listener must follow: certificates and policy (a change swaps its contexts). */
export function tlsSignature(vs: VirtualServiceSnapshot): string | null {
  if (!vs.certificate) return null;
  // Once per VIP snapshot (frozen, and reused by the store while the VIP is unchanged): every
  // revision asks it of every TLS listener.
  let signature = signatures.get(vs);
  if (signature === undefined) {
    const { sniCertificates: _s, ...policy } = vs.tls;
    signature = JSON.stringify([vs.certificate.fingerprintSha256, policy, vs.sniCertificates.map((s) => [s.serverName.toLowerCase(), s.certificate.fingerprintSha256])]);
    signatures.set(vs, signature);
  }
  return signature;
}
const signatures = new WeakMap<VirtualServiceSnapshot, string>();

/** The SNI certificates of a VIP as contexts, looked up by server name. */
export class SniContexts {
  readonly #exact = new Map<string, SecureContext>();
  readonly #wildcard = new Map<string, SecureContext>();

  constructor(vs: VirtualServiceSnapshot) {
    for (const sni of vs.sniCertificates) {
      const name = sni.serverName.toLowerCase();
      const context = createSecureContext(contextOptions(sni.certificate, vs.tls));
      if (name.startsWith('*.')) this.#wildcard.set(name.slice(2), context);
      else this.#exact.set(name, context);
    }
  }

  /** The context for a server name; undefined: the VIP's default certificate. */
  lookup(serverName: string): SecureContext | undefined {
    const name = serverName.toLowerCase().replace(/\.$/, '');
    const exact = this.#exact.get(name);
    if (exact) return exact;
    // `*.example.org` covers one label directly under example.org (RFC 6125 6.4.3).
    const dot = name.indexOf('.');
    return dot > 0 ? this.#wildcard.get(name.slice(dot + 1)) : undefined;
  }
}
