// The plugin's TLS identity for go-plugin's AutoMTLS: a fresh P-256 key and a self-signed
// certificate for DNS name `localhost` (and 127.0.0.1), made with node:crypto at every
// start. The host trusts exactly this certificate, which it reads from the handshake line.
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { bitString, boolean, contextTag, integer, octetString, oid, sequence, set, utcTime, utf8 } from './der.js';

/** A certificate (DER and PEM) and its private key (PEM). */
export interface TlsIdentity {
  certDer: Buffer;
  certPem: string;
  keyPem: string;
}

const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
const COMMON_NAME = '2.5.4.3';
const SUBJECT_ALT_NAME = '2.5.29.17';
const BASIC_CONSTRAINTS = '2.5.29.19';
const KEY_USAGE = '2.5.29.15';
const EXT_KEY_USAGE = '2.5.29.37';
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return sequence(oid(id), ...(critical ? [boolean(true)] : []), octetString(value));
}

/** Makes a self-signed ECDSA P-256 certificate for `localhost`, valid from a minute ago for a day. */
export function createTlsIdentity(now = new Date()): TlsIdentity {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const name = sequence(set(sequence(oid(COMMON_NAME), utf8('localhost'))));
  const algorithm = sequence(oid(ECDSA_WITH_SHA256));
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f;
  const extensions = sequence(
    extension(SUBJECT_ALT_NAME, false, sequence(contextTag(2, Buffer.from('localhost'), false), contextTag(7, Buffer.from([127, 0, 0, 1]), false))),
    // go-plugin's own certificates are their own CA; the host puts ours in its root pool.
    extension(BASIC_CONSTRAINTS, true, sequence(boolean(true))),
    // digitalSignature (bit 0) and keyCertSign (bit 5).
    extension(KEY_USAGE, true, bitString(Buffer.from([0x84]), 2)),
    extension(EXT_KEY_USAGE, false, sequence(oid(SERVER_AUTH), oid(CLIENT_AUTH))),
  );
  const tbs = sequence(
    contextTag(0, integer(2), true),
    integer(serial),
    algorithm,
    name,
    sequence(utcTime(new Date(now.getTime() - 60_000)), utcTime(new Date(now.getTime() + 86_400_000))),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    contextTag(3, extensions, true),
  );
  const signature = sign('sha256', tbs, privateKey);
  const certDer = sequence(tbs, algorithm, bitString(signature));
  const certPem = `-----BEGIN CERTIFICATE-----\n${certDer.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END CERTIFICATE-----\n`;
  return { certDer, certPem, keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}
