// The plugin's protocol pieces on their own: msgpack DynamicValues (unknowns, numbers, every
// attribute present), lossless raw state, cty types, the handshake rules, the DER of the TLS
// certificate, the planner's rules, and problem pointers as attribute paths.
import { X509Certificate } from 'node:crypto';
import { Encoder, ExtData } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { pathFromPointer } from '../../provider/resources/errors.js';
import { certificate, realServer, virtualService } from '../../provider/resources/index.js';
import type { Attributes, ObjectValue } from '../../provider/resources/types.js';
import { UNKNOWN } from '../../provider/resources/types.js';
import { ctyType, isNestedAttribute } from '../../provider/terraform/cty.js';
import { decodeObject, encodeObject } from '../../provider/terraform/dynamic-value.js';
import { handshakeLine, HandshakeError, MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE, negotiate } from '../../provider/terraform/handshake.js';
import { planObject, requiresReplace } from '../../provider/resources/plan.js';
import { parseRawState } from '../../provider/terraform/raw-state.js';
import { createTlsIdentity } from '../../provider/terraform/tls-identity.js';

const attrs: Attributes = {
  name: { type: { kind: 'string' }, description: '', required: true },
  port: { type: { kind: 'integer' }, description: '', optional: true },
  weight: { type: { kind: 'integer' }, description: '', optional: true, computed: true, default: 100 },
  tags: { type: { kind: 'list', element: { kind: 'string' } }, description: '', optional: true },
  secret: { type: { kind: 'string' }, description: '', optional: true, writeOnly: true, sensitive: true },
  id: { type: { kind: 'string' }, description: '', computed: true },
};

const encoder = new Encoder({ useBigInt64: true });

describe('DynamicValue (msgpack)', () => {
  it('encodes every attribute, null as nil, unknown as extension 0 (d4 00 00)', () => {
    const bytes = Buffer.from(encodeObject(attrs, { name: 'a', id: UNKNOWN }).msgpack);
    expect(bytes[0]).toBe(0x86); // a map of all 6 attributes
    expect(bytes.includes(Buffer.from([0xd4, 0x00, 0x00]))).toBe(true);
    expect(decodeObject(attrs, { msgpack: bytes })).toEqual({ name: 'a', port: null, weight: null, tags: null, secret: null, id: UNKNOWN });
  });

  it('decodes every extension type as unknown (refined unknowns are type 12)', () => {
    const raw = encoder.encode({ name: new ExtData(12, new Uint8Array([1, 2])), port: new ExtData(0, new Uint8Array([0])) });
    expect(decodeObject(attrs, { msgpack: raw })).toMatchObject({ name: UNKNOWN, port: UNKNOWN, weight: null });
  });

  it('takes numbers as ints, 64-bit ints, floats or decimal strings, exactly', () => {
    const raw = encoder.encode({ port: BigInt(443), weight: '100', tags: null, name: 'x' });
    expect(decodeObject(attrs, { msgpack: raw })).toMatchObject({ port: 443, weight: 100 });
    const odd = decodeObject(attrs, { msgpack: encoder.encode({ port: '0.1', weight: BigInt('18446744073709551615') }) })!;
    // Not representable exactly as a JS number: kept as the decimal text, so validation refuses it rather than rounding.
    expect(odd).toMatchObject({ port: '0.1', weight: '18446744073709551615' });
  });

  it('treats an empty DynamicValue as null, and reads JSON when that is what arrives', () => {
    expect(decodeObject(attrs, { msgpack: new Uint8Array(0) })).toBeNull();
    expect(decodeObject(attrs, { json: Buffer.from('{"name":"j","port":8080}') })).toMatchObject({ name: 'j', port: 8080, tags: null });
  });
});

describe('raw state (UpgradeResourceState)', () => {
  it('parses numbers losslessly and drops attributes the schema no longer has', () => {
    const state = parseRawState(attrs, Buffer.from('{"name":"s","port":443,"weight":12345678901234567890,"gone":true}'));
    expect(state).toEqual({ name: 's', port: 443, weight: '12345678901234567890', tags: null, secret: null, id: null });
    expect(Buffer.from(encodeObject(attrs, state).msgpack).toString('latin1')).toContain('12345678901234567890');
  });
});

describe('cty types', () => {
  it('maps value types to cty type JSON; objects the user may set become nested attributes', () => {
    expect(ctyType({ kind: 'list', element: { kind: 'integer' } })).toEqual(['list', 'number']);
    expect(ctyType({ kind: 'object', attributes: { a: { type: { kind: 'bool' }, description: '', computed: true } } })).toEqual(['object', { a: 'bool' }]);
    expect(isNestedAttribute(virtualService.attributes.health_check!)).toBe(true);
    expect(isNestedAttribute(virtualService.attributes.ports!)).toBe(false);
  });
});

describe('handshake', () => {
  const env = { [MAGIC_COOKIE_KEY]: MAGIC_COOKIE_VALUE };

  it('refuses to start without the magic cookie, and negotiates protocol 6', () => {
    expect(() => negotiate({})).toThrow(HandshakeError);
    expect(negotiate({ ...env, PLUGIN_PROTOCOL_VERSIONS: '5,6' })).toBe(6);
    expect(() => negotiate({ ...env, PLUGIN_PROTOCOL_VERSIONS: '5' })).toThrow(/speaks only version 6/);
  });

  it('prints the certificate as unpadded standard base64 DER', () => {
    const { certDer } = createTlsIdentity();
    const line = handshakeLine(6, '127.0.0.1:1234', certDer);
    expect(line).toMatch(/^1\|6\|tcp\|127\.0\.0\.1:1234\|grpc\|[A-Za-z0-9+/]+\n$/);
    expect(Buffer.from(line.trim().split('|')[5]!, 'base64').equals(certDer)).toBe(true);
  });

  it('makes a self-signed P-256 certificate for DNS name localhost', () => {
    const id = createTlsIdentity();
    const cert = new X509Certificate(id.certDer);
    expect(cert.subjectAltName).toContain('DNS:localhost');
    expect(cert.publicKey.asymmetricKeyType).toBe('ec');
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.ca).toBe(true);
    expect(new X509Certificate(id.certPem).fingerprint256).toBe(cert.fingerprint256);
  });
});

describe('planner', () => {
  it('plans configured values as given, defaults for unset optional+computed ones, unknown ids on create, null write-only values', () => {
    const planned = planObject(attrs, { name: 'a', port: null, weight: null, tags: ['x'], secret: 's', id: null }, null, true);
    expect(planned).toEqual({ name: 'a', port: null, weight: 100, tags: ['x'], secret: null, id: UNKNOWN });
  });

  it('keeps computed values on update, and asks for replacement when a replace-on-change attribute changes', () => {
    const prior = { id: 'rs-0123456789ab', virtual_service_id: 'vs-000000000001', label: 'A', address: 'h', port: null, weight: 100, re_encrypt: false, backup: false, admin_state: 'online', drain_timeout: 30 };
    const config: ObjectValue = { ...prior, id: null, virtual_service_id: UNKNOWN, weight: null, re_encrypt: null, backup: null, admin_state: null, drain_timeout: null };
    const planned = planObject(realServer.attributes, config, prior, false);
    expect(planned).toMatchObject({ id: 'rs-0123456789ab', virtual_service_id: UNKNOWN, weight: 100, admin_state: 'online' });
    expect(requiresReplace(realServer.attributes, planned, prior)).toEqual([['virtual_service_id']]);
  });

  it('plans the certificate details unknown when the material changes, and keeps them otherwise', () => {
    const prior = Object.fromEntries(Object.keys(certificate.attributes).map((k) => [k, null])) as Record<string, null | string>;
    Object.assign(prior, { id: 'cert-0123456789ab', label: 'c', certificate_pem: 'A', fingerprint_sha256: 'F' });
    const same = planObject(certificate.attributes, { ...prior, id: null, fingerprint_sha256: null, private_key_pem: 'k' }, prior, false);
    expect(same).toMatchObject({ fingerprint_sha256: 'F', private_key_pem: null });
    const rotated = planObject(certificate.attributes, { ...prior, id: null, fingerprint_sha256: null, certificate_pem: 'B' }, prior, false);
    expect(rotated).toMatchObject({ fingerprint_sha256: UNKNOWN, id: 'cert-0123456789ab' });
  });
});

describe('problem field pointers', () => {
  it('name the attribute that carried the offending value', () => {
    expect(pathFromPointer(virtualService.attributes, '/ports/0')).toEqual(['ports', 0]);
    expect(pathFromPointer(virtualService.attributes, '/healthCheck/expectStatus')).toEqual(['health_check', 'expect_status']);
    expect(pathFromPointer(certificate.attributes, '/selfSigned/commonName')).toEqual(['self_signed', 'common_name']);
    expect(pathFromPointer(certificate.attributes, '/pem')).toEqual(['certificate_pem']);
    expect(pathFromPointer(virtualService.attributes, '/nothing')).toEqual([]);
    expect(pathFromPointer(virtualService.attributes, 'id')).toEqual([]);
  });
});
