// Turns what a client sends (PEM bundle, PFX, or self-signed parameters) into a verified
// certificate chain, a PKCS#8 key and the public details the API returns. node:crypto parses
// and checks (X509Certificate, createPrivateKey, tls.createSecureContext); node-forge opens
// PKCS#12 files, which node:crypto cannot; @peculiar/x509 generates self-signed certificates.
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import forge from 'node-forge';
import { ApplianceError } from '../errors.js';
import type { CertificateSource, SelfSignedSpec, StoredCertificate } from './model.js';
import type { MutationTools } from './store.js';
import { checkJsonShape } from './json-shape.js';
import { generateSelfSigned } from './x509-generate.js';

/** Material ready to store: the chain, the key and the public details. */
export interface CertificateMaterial {
  source: CertificateSource;
  selfSigned: SelfSignedSpec | null;
  chainPem: string;
  keyPem: string;
  details: Omit<StoredCertificate, 'label' | 'source' | 'selfSigned' | 'chainPem' | 'keyRef'>;
}

/** The material fields of a certificate request. */
export interface MaterialInput {
  pem?: string;
  pfx?: string;
  passphrase?: string;
  selfSigned?: SelfSignedSpec | null;
}

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const KEY_BLOCK = /-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----[\s\S]+?-----END (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----/g;

function invalid(field: string, detail: string, cause?: unknown): ApplianceError {
  return new ApplianceError('LB_CERTIFICATE_INVALID', detail, { field, cause });
}

function keyTypeOf(key: KeyObject): string {
  const d = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa':
    case 'rsa-pss':
      return `${key.asymmetricKeyType}-${d.modulusLength ?? 0}`;
    case 'ec':
      return `ec-${d.namedCurve ?? 'unknown'}`;
    default:
      return String(key.asymmetricKeyType);
  }
}

function parseSans(text: string | undefined): string[] {
  if (!text) return [];
  return text
    .split(/,\s*/)
    .map((part) => {
      const m = /^(DNS|IP Address|URI|email):(.*)$/.exec(part.trim());
      return m ? (m[2] ?? '').trim() : part.trim();
    })
    .filter(Boolean);
}

/** Undoes RFC 4514 escaping (`\\,`, `\\#`, `\\0A` ...) of one attribute value as node:crypto prints it. */
export function unescapeDnValue(value: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const c = value[i] as string;
    const hex = c === '\\' ? /^[0-9A-Fa-f]{2}/.exec(value.slice(i + 1)) : null;
    if (hex) {
      bytes.push(parseInt(hex[0], 16));
      i += 2;
    } else if (c === '\\' && i + 1 < value.length) {
      bytes.push(...Buffer.from(value[i + 1] as string));
      i += 1;
    } else {
      bytes.push(...Buffer.from(c));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function dn(text: string): string {
  return text.split('\n').filter(Boolean).join(', ');
}

/** Checks a chain and key together and derives the public details. */
function finish(source: CertificateSource, selfSigned: SelfSignedSpec | null, certPems: string[], key: KeyObject, field: string): CertificateMaterial {
  if (certPems.length === 0) throw invalid(field, 'no certificate found (expected a PEM "CERTIFICATE" block)');
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(certPems[0] ?? '');
    for (const extra of certPems.slice(1)) new X509Certificate(extra);
  } catch (err) {
    throw invalid(field, `the certificate does not parse: ${(err as Error).message}`, err);
  }
  if (key.type !== 'private') throw invalid(field, 'the key is not a private key');
  if (!leaf.checkPrivateKey(key)) {
    throw new ApplianceError('LB_CERTIFICATE_KEY_MISMATCH', `the private key does not belong to the certificate ${dn(leaf.subject)}`, { field });
  }
  const chainPem = certPems.map((p) => p.trim()).join('\n') + '\n';
  const keyPem = key.export({ type: 'pkcs8', format: 'pem' }).toString();
  try {
    createSecureContext({ cert: chainPem, key: keyPem });
  } catch (err) {
    throw invalid(field, `TLS cannot use this certificate and key: ${(err as Error).message}`, err);
  }
  const cnMatch = /(?:^|\n)CN=([^\n]*)/.exec(leaf.subject);
  return {
    source,
    selfSigned,
    chainPem,
    keyPem,
    details: {
      subject: dn(leaf.subject),
      commonName: cnMatch ? unescapeDnValue(cnMatch[1] ?? '') : null,
      subjectAltNames: parseSans(leaf.subjectAltName),
      issuer: dn(leaf.issuer),
      notBefore: new Date(leaf.validFrom).toISOString(),
      notAfter: new Date(leaf.validTo).toISOString(),
      serialNumber: leaf.serialNumber.toUpperCase(),
      fingerprintSha256: leaf.fingerprint256.toUpperCase(),
      keyType: keyTypeOf(key),
    },
  };
}

function fromPem(pem: string, passphrase: string | undefined): CertificateMaterial {
  const certs = pem.match(CERT_BLOCK) ?? [];
  const keys = pem.match(KEY_BLOCK) ?? [];
  if (keys.length === 0) throw invalid('/pem', 'no private key found (expected a PEM "PRIVATE KEY" block)');
  if (keys.length > 1) throw invalid('/pem', 'more than one private key in the PEM text');
  let key: KeyObject;
  try {
    key = createPrivateKey(passphrase === undefined ? { key: keys[0] ?? '' } : { key: keys[0] ?? '', passphrase });
  } catch (err) {
    const encrypted = /ENCRYPTED/.test(keys[0] ?? '');
    throw invalid(encrypted ? '/passphrase' : '/pem', encrypted ? 'the private key is encrypted and the passphrase does not open it' : `the private key does not parse: ${(err as Error).message}`, err);
  }
  return finish('pem', null, certs, key, '/pem');
}

function fromPfx(pfxBase64: string, passphrase: string | undefined): CertificateMaterial {
  const der = Buffer.from(pfxBase64, 'base64');
  if (der.length === 0 || der.toString('base64').replace(/=+$/, '') !== pfxBase64.replace(/\s+/g, '').replace(/=+$/, '')) {
    throw invalid('/pfx', 'pfx is not valid base64');
  }
  let p12: forge.pkcs12.Pkcs12Pfx;
  try {
    p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(der.toString('binary')), passphrase ?? '');
  } catch (err) {
    const msg = (err as Error).message;
    if (/MAC could not be verified|Invalid password/i.test(msg)) throw invalid('/passphrase', 'the passphrase does not open the PFX file', err);
    throw invalid('/pfx', `the PFX file does not parse: ${msg}`, err);
  }
  const certPems: string[] = [];
  for (const bag of p12.getBags({ bagType: forge.pki.oids.certBag })[forge.pki.oids.certBag!] ?? []) {
    if (bag.cert) certPems.push(forge.pki.certificateToPem(bag.cert));
    else if (bag.asn1) {
      // node-forge cannot decode non-RSA certificates; the bag keeps the DER for us.
      const inner = bag.asn1 as forge.asn1.Asn1;
      const derBytes = forge.asn1.toDer(inner).getBytes();
      certPems.push(new X509Certificate(Buffer.from(derBytes, 'binary')).toString());
    }
  }
  const keyBags = [
    ...(p12.getBags({ bagType: forge.pki.oids.pkcs8ShroudedKeyBag })[forge.pki.oids.pkcs8ShroudedKeyBag!] ?? []),
    ...(p12.getBags({ bagType: forge.pki.oids.keyBag })[forge.pki.oids.keyBag!] ?? []),
  ];
  const bag = keyBags[0];
  if (!bag) throw invalid('/pfx', 'the PFX file holds no private key');
  let key: KeyObject;
  try {
    const keyDer = bag.key
      ? forge.asn1.toDer(forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(bag.key))).getBytes()
      : forge.asn1.toDer(bag.asn1 as forge.asn1.Asn1).getBytes();
    key = createPrivateKey({ key: Buffer.from(keyDer, 'binary'), format: 'der', type: 'pkcs8' });
  } catch (err) {
    throw invalid('/pfx', `the PFX private key does not parse: ${(err as Error).message}`, err);
  }
  // Put the leaf (the certificate the key belongs to) first.
  const leafIndex = certPems.findIndex((p) => {
    try {
      return new X509Certificate(p).checkPrivateKey(key);
    } catch {
      return false;
    }
  });
  if (leafIndex > 0) certPems.unshift(...certPems.splice(leafIndex, 1));
  return finish('pfx', null, certPems, key, '/pfx');
}

async function fromSelfSigned(spec: SelfSignedSpec): Promise<CertificateMaterial> {
  // The ASN.1 encoder throws a URIError on a name that is not valid Unicode: name the field instead.
  checkJsonShape(spec, '/selfSigned');
  const generated = await generateSelfSigned(spec);
  return finish('selfSigned', spec, [generated.certPem], createPrivateKey(generated.keyPem), '/selfSigned');
}

/** Whether a request carries material (pem, pfx or selfSigned). */
export function hasMaterial(input: MaterialInput): boolean {
  return input.pem !== undefined || input.pfx !== undefined || (input.selfSigned !== undefined && input.selfSigned !== null);
}

/** Checks that exactly one kind of material is given. */
export function checkOneMaterial(input: MaterialInput, prefix = ''): void {
  const given = (['pem', 'pfx', 'selfSigned'] as const).filter((k) => input[k] !== undefined && input[k] !== null);
  if (given.length > 1) {
    throw new ApplianceError('LB_VALIDATION', `give exactly one of pem, pfx or selfSigned (got ${given.join(' and ')})`, { field: `${prefix}/${given[1]}` });
  }
  if (input.passphrase !== undefined && input.pem === undefined && input.pfx === undefined) {
    throw new ApplianceError('LB_VALIDATION', 'passphrase goes with pem or pfx', { field: `${prefix}/passphrase` });
  }
}

/** Builds verified material from a request (exactly one of pem, pfx, selfSigned). */
export async function materialFrom(input: MaterialInput): Promise<CertificateMaterial> {
  checkOneMaterial(input);
  if (input.pem !== undefined) return fromPem(input.pem, input.passphrase);
  if (input.pfx !== undefined) return fromPfx(input.pfx, input.passphrase);
  if (input.selfSigned) return fromSelfSigned(input.selfSigned);
  throw new ApplianceError('LB_VALIDATION', 'give exactly one of pem, pfx or selfSigned', { field: '/pem' });
}

/** A stored certificate from verified material, its key staged in the write (`tools.addKey`). */
export function storedCertificate(label: string, material: CertificateMaterial, tools: Pick<MutationTools, 'addKey'>): StoredCertificate {
  return { label, source: material.source, selfSigned: material.selfSigned, chainPem: material.chainPem, keyRef: tools.addKey(material.keyPem), ...material.details };
}
