// Self-signed certificate generation with @peculiar/x509 (a maintained X.509 library on
// WebCrypto, ECDSA and RSA). It needs the reflect-metadata polyfill loaded first.
import 'reflect-metadata';
import { AsnConvert } from '@peculiar/asn1-schema';
import { AttributeTypeAndValue, AttributeValue, Name as AsnName, RelativeDistinguishedName } from '@peculiar/asn1-x509';
import * as x509 from '@peculiar/x509';
import { webcrypto, randomBytes } from 'node:crypto';
import { isIP as netIsIP } from 'node:net';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/** Key types the appliance can generate. */
export type GeneratedKeyType = 'ecdsa-p256' | 'rsa-2048' | 'rsa-4096';

/** What to put in a self-signed certificate. */
export interface SelfSignedRequest {
  commonName: string;
  subjectAltNames: string[];
  days: number;
  keyType: GeneratedKeyType;
  /** Add the serverAuth extended key usage (default true). */
  serverAuth?: boolean;
}

/** A generated certificate and key, both PEM. */
export interface GeneratedCertificate {
  certPem: string;
  keyPem: string;
}

function algorithmOf(keyType: GeneratedKeyType): webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams {
  switch (keyType) {
    case 'ecdsa-p256':
      return { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as webcrypto.EcKeyGenParams;
    case 'rsa-2048':
    case 'rsa-4096':
      return {
        name: 'RSASSA-PKCS1-v1_5',
        hash: 'SHA-256',
        publicExponent: new Uint8Array([1, 0, 1]),
        modulusLength: keyType === 'rsa-2048' ? 2048 : 4096,
      };
  }
}

const OID_COMMON_NAME = '2.5.4.3';

/**
 * The DER of a subject with one common name as a UTF8String. Built as ASN.1 rather than as
 * RFC 4514 text, because the text form gives meaning to a leading '#', quotes and commas.
 */
function subjectDer(commonName: string): ArrayBuffer {
  const rdn = new RelativeDistinguishedName([new AttributeTypeAndValue({ type: OID_COMMON_NAME, value: new AttributeValue({ utf8String: commonName }) })]);
  return AsnConvert.serialize(new AsnName([rdn]));
}

/** Generates a self-signed certificate (SANs: IPs as iPAddress, the rest as dNSName). */
export async function generateSelfSigned(req: SelfSignedRequest): Promise<GeneratedCertificate> {
  const alg = algorithmOf(req.keyType);
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(notBefore.getTime() + req.days * 86_400_000);
  const sans = req.subjectAltNames.map((name) => ({ type: netIsIP(name) ? 'ip' : 'dns', value: name }) as x509.JsonGeneralName);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
  ];
  if (req.serverAuth !== false) extensions.push(new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]));
  if (sans.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(sans));
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f; // a positive INTEGER
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial.toString('hex'),
    name: new x509.Name(subjectDer(req.commonName)),
    notBefore,
    notAfter,
    signingAlgorithm: alg,
    keys,
    extensions,
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END PRIVATE KEY-----\n`;
  return { certPem: cert.toString('pem') + '\n', keyPem };
}
