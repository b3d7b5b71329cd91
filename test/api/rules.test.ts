// Rules beyond the schema: each refused write answers its status, code and field, and the
// configuration revision does not move.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApplianceClient, ApplianceProblemError } from '../../openapi/sdk/index.js';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';
import { makeTestCert } from '../helpers/certs.js';
import { refusedWrite } from '../helpers/refused-write.js';

let app: TestAppliance;
let client: ApplianceClient;

beforeAll(async () => {
  app = await startTestAppliance();
  client = app.client();
});
afterAll(async () => app?.dispose());

/** A write that must be refused, changing nothing (test/helpers/refused-write.ts). */
const refused = (write: () => Promise<unknown>): Promise<ApplianceProblemError> => refusedWrite(client, write);

describe('rules', () => {
  it('409 LB_ADDRESS_IN_USE for two VIPs on the same address and port, naming the port', async () => {
    await client.createVirtualService({ label: 'first', ipAddress: '127.0.44.1', ports: [80, 443], protocol: 'http' });
    const err = await refused(() => client.createVirtualService({ label: 'second', ipAddress: '127.0.44.1', ports: [8080, 443], protocol: 'tcp' }));
    expect(err).toMatchObject({ status: 409, code: 'LB_ADDRESS_IN_USE', field: '/ports/1' });
  });

  it('409 LB_ADDRESS_IN_USE when a wildcard VIP overlaps a specific one (and for IPv6 spellings)', async () => {
    await client.createVirtualService({ label: 'v6', ipAddress: '::1', ports: [9000], protocol: 'tcp' });
    const wildcard = await refused(() => client.createVirtualService({ label: 'any', ipAddress: '0.0.0.0', ports: [80], protocol: 'http' }));
    expect(wildcard).toMatchObject({ status: 409, code: 'LB_ADDRESS_IN_USE', field: '/ports/0' });
    const v6 = await refused(() => client.createVirtualService({ label: 'v6-again', ipAddress: '0:0:0:0:0:0:0:1', ports: [9000], protocol: 'tcp' }));
    expect(v6).toMatchObject({ code: 'LB_ADDRESS_IN_USE' });
  });

  it('409 LB_ADDRESS_IN_USE for a VIP on the management API address and port', async () => {
    const url = new URL(app.endpoint);
    const err = await refused(() => client.createVirtualService({ label: 'api-clash', ipAddress: url.hostname, ports: [Number(url.port)], protocol: 'tcp' }));
    expect(err).toMatchObject({ status: 409, code: 'LB_ADDRESS_IN_USE', field: '/ports/0' });
  });

  it('409 LB_LABEL_IN_USE for a duplicate VIP label, and for a duplicate real server label within a VIP', async () => {
    const vs = await client.createVirtualService({ label: 'dup', ipAddress: '127.0.44.2', ports: [80], protocol: 'http' });
    const err = await refused(() => client.createVirtualService({ label: 'dup', ipAddress: '127.0.44.3', ports: [80], protocol: 'http' }));
    expect(err).toMatchObject({ status: 409, code: 'LB_LABEL_IN_USE', field: '/label' });
    await client.createRealServer(vs.id, { label: 'SERVER1', address: '127.0.44.20', port: 80 });
    const rsErr = await refused(() => client.createRealServer(vs.id, { label: 'SERVER1', address: '127.0.44.21', port: 80 }));
    expect(rsErr).toMatchObject({ status: 409, code: 'LB_LABEL_IN_USE', field: '/label' });
    // The same real server label under another VIP is fine (every guide names its servers SERVER1, SERVER2).
    const other = await client.createVirtualService({ label: 'dup-2', ipAddress: '127.0.44.4', ports: [80], protocol: 'http' });
    await expect(client.createRealServer(other.id, { label: 'SERVER1', address: '127.0.44.22', port: 80 })).resolves.toMatchObject({ label: 'SERVER1' });
  });

  it('409 on a rename that takes another VIP\'s label through PATCH and PUT', async () => {
    const a = await client.createVirtualService({ label: 'rename-a', ipAddress: '127.0.44.5', ports: [80], protocol: 'http' });
    await client.createVirtualService({ label: 'rename-b', ipAddress: '127.0.44.6', ports: [80], protocol: 'http' });
    expect(await refused(() => client.updateVirtualService(a.id, { label: 'rename-b' }))).toMatchObject({ status: 409, field: '/label' });
    expect(await refused(() => client.replaceVirtualService(a.id, { label: 'rename-b', ipAddress: '127.0.44.5', ports: [80], protocol: 'http' }))).toMatchObject({
      status: 409,
      field: '/label',
    });
  });

  it('422 LB_UNKNOWN_REFERENCE for a certificate that does not exist', async () => {
    const err = await refused(() => client.createVirtualService({ label: 'no-cert', ipAddress: '127.0.44.7', ports: [443], protocol: 'http2', certificateId: 'cert-0000000000ff' }));
    expect(err).toMatchObject({ status: 422, code: 'LB_UNKNOWN_REFERENCE', field: '/certificateId' });
  });

  it('422 LB_CERTIFICATE_REQUIRED for http2 without a certificate', async () => {
    const err = await refused(() => client.createVirtualService({ label: 'h2-bare', ipAddress: '127.0.44.8', ports: [443], protocol: 'http2' }));
    expect(err).toMatchObject({ status: 422, code: 'LB_CERTIFICATE_REQUIRED', field: '/certificateId' });
  });

  it('422 LB_INVALID_COMBINATION for cookie persistence on tcp and for forceHttps on a TLS VIP', async () => {
    const cookie = await refused(() => client.createVirtualService({ label: 'tcp-cookie', ipAddress: '127.0.44.9', ports: [1200], protocol: 'tcp', persistence: { mode: 'http-cookie' } }));
    expect(cookie).toMatchObject({ status: 422, code: 'LB_INVALID_COMBINATION', field: '/persistence/mode' });
    const redirectTcp = await refused(() => client.createVirtualService({ label: 'tcp-redirect', ipAddress: '127.0.44.9', ports: [80], protocol: 'tcp', forceHttps: true }));
    expect(redirectTcp).toMatchObject({ status: 422, code: 'LB_INVALID_COMBINATION', field: '/forceHttps' });
  });

  it('422 LB_INVALID_COMBINATION for a real server that is the VIP itself', async () => {
    const vs = await client.createVirtualService({ label: 'loop', ipAddress: '127.0.44.10', ports: [80], protocol: 'http' });
    const err = await refused(() => client.createRealServer(vs.id, { label: 'self', address: '127.0.44.10', port: 80 }));
    expect(err).toMatchObject({ status: 422, code: 'LB_INVALID_COMBINATION', field: '/port' });
  });

  it('422 for a certificate that does not parse, 422 LB_CERTIFICATE_KEY_MISMATCH for a key of another certificate', async () => {
    const a = makeTestCert('a.hospital.example');
    const b = makeTestCert('b.hospital.example');
    const garbage = await refused(() => client.createCertificate({ label: 'garbage', pem: '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n' + a.keyPem }));
    expect(garbage).toMatchObject({ status: 422, code: 'LB_CERTIFICATE_INVALID', field: '/pem' });
    const noKey = await refused(() => client.createCertificate({ label: 'no-key', pem: a.certPem }));
    expect(noKey).toMatchObject({ status: 422, code: 'LB_CERTIFICATE_INVALID', field: '/pem' });
    const mismatch = await refused(() => client.createCertificate({ label: 'mismatch', pem: a.certPem + b.keyPem }));
    expect(mismatch).toMatchObject({ status: 422, code: 'LB_CERTIFICATE_KEY_MISMATCH', field: '/pem' });
    const badPfx = await refused(() => client.createCertificate({ label: 'bad-pfx', pfx: a.pfxBase64, passphrase: 'wrong' }));
    expect(badPfx).toMatchObject({ status: 422, code: 'LB_CERTIFICATE_INVALID', field: '/passphrase' });
    const two = await refused(() => client.createCertificate({ label: 'two', pem: a.bundlePem, selfSigned: { commonName: 'x' } }));
    expect(two).toMatchObject({ status: 400, code: 'LB_VALIDATION', field: '/selfSigned' });
  });

  it('409 LB_CERTIFICATE_IN_USE when deleting a certificate a VIP uses', async () => {
    const cert = await client.createCertificate({ label: 'in-use', selfSigned: { commonName: 'in-use.example' } });
    const vs = await client.createVirtualService({ label: 'uses-cert', ipAddress: '127.0.44.11', ports: [443], protocol: 'http2', certificateId: cert.id });
    const err = await refused(() => client.deleteCertificate(cert.id));
    expect(err).toMatchObject({ status: 409, code: 'LB_CERTIFICATE_IN_USE', field: 'certificateId' });
    expect(err.problem.detail).toContain(vs.id);
    expect((await client.getCertificate(cert.id)).usedBy).toEqual([vs.id]);
  });

  it('413 LB_PAYLOAD_TOO_LARGE for a request body over 1 MiB', async () => {
    const err = await refused(() => client.createCertificate({ label: 'huge', pem: 'x'.repeat(1024 * 1024 + 10) }));
    expect(err).toMatchObject({ status: 413, code: 'LB_PAYLOAD_TOO_LARGE' });
  });

  it('reports several schema violations at once, each with its field', async () => {
    const err = await refused(() =>
      client.createVirtualService({ label: '-bad label', ipAddress: '300.1.1.1', ports: [70000], protocol: 'ftp' as 'tcp', healthCheck: { interval: 0 } } as never),
    );
    expect(err).toMatchObject({ status: 400, code: 'LB_VALIDATION' });
    const fields = (err.problem.errors ?? []).map((e) => e.field).sort();
    expect(fields).toEqual(['/healthCheck/interval', '/ipAddress', '/label', '/ports/0', '/protocol']);
  });
});
