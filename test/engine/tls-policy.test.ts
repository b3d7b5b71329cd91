// TLS policy per VIP (issue 15, item 4), proven with `openssl s_client` against a real
// appliance process: a version under tls.minVersion is refused and the minimum accepted;
// TLS 1.2 ciphers and TLS 1.3 suites outside the VIP's lists are refused; SNI picks the
// certificate named for the server name (exact and `*.` names) and the VIP's own for any other
// name or none; HSTS is added to responses; a policy change reaches the live listener; each
// bad value is refused naming its field, the revision unchanged. Addresses 127.0.218.x
// (127.0.219.x when test/haproxy re-runs this file on the HAProxy engine) belong to this file.
import { execFile } from 'node:child_process';
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApplianceClient, ApplianceProblemError } from '../../openapi/sdk/index.js';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';
import { needProgram } from '../helpers/programs.js';
import { startHttpBackend, type HttpBackend } from './helpers/backends.js';
import { ENGINE, HAPROXY } from './helpers/engine-under-test.js';
import { createVip } from './helpers/vips.js';
import { until } from './helpers/wait.js';

needProgram('openssl');
const NET = HAPROXY ? '127.0.219' : '127.0.218';
const VIP = `${NET}.217`;
let app: TestAppliance;
let client: ApplianceClient;
let web: HttpBackend;
const certs: Record<string, string> = {};

/** What `openssl s_client` negotiated with `args`: the protocol and cipher, and the peer's subject, or null when the handshake failed. */
function handshake(port: number, args: string[]): Promise<{ protocol: string; cipher: string; subject: string; alpn: string | null } | null> {
  return new Promise((resolve) => {
    const child = execFile('openssl', ['s_client', '-connect', `${VIP}:${port}`, ...args], { timeout: 15_000 }, (_err, stdout) => {
      const protocol = /^\s*Protocol\s*:\s*(\S+)/m.exec(stdout)?.[1] ?? /^New, (TLSv[\d.]+), Cipher is/m.exec(stdout)?.[1];
      const cipher = /^New, TLSv[\d.]+, Cipher is (\S+)/m.exec(stdout)?.[1];
      const subject = /^subject=(.*)$/m.exec(stdout)?.[1] ?? '';
      const alpn = /^ALPN protocol: (\S+)/m.exec(stdout)?.[1] ?? null;
      resolve(protocol && cipher && cipher !== '(NONE)' ? { protocol, cipher, subject, alpn } : null);
    });
    child.stdin?.end();
  });
}

function httpsGet(port: number, servername: string): Promise<{ status: number; hsts: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: VIP, port, path: '/', servername, rejectUnauthorized: false, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, hsts: res.headers['strict-transport-security'] as string | undefined }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  app = await startTestAppliance({ engine: ENGINE, host: `${NET}.1` });
  client = app.client();
  web = await startHttpBackend({ name: 'web', host: `${NET}.6` });
  for (const name of ['default.test', 'a.test', 'wild.test']) {
    certs[name] = (await client.createCertificate({ label: name.replace('.', '-'), selfSigned: { commonName: name, subjectAltNames: [name], keyType: 'rsa-2048' } })).id;
  }
  await createVip(
    client,
    { label: 'tls13', ipAddress: VIP, ports: [8443], protocol: 'http', certificateId: certs['default.test'], tls: { minVersion: 'TLSv1.3', hstsMaxAge: 31536000, hstsIncludeSubDomains: true } },
    [{ label: 'web', address: web.host, port: web.port }],
  );
  await createVip(
    client,
    {
      label: 'ciphers',
      ipAddress: VIP,
      ports: [8444],
      protocol: 'http',
      certificateId: certs['default.test'],
      tls: { ciphers: 'ECDHE-RSA-AES128-GCM-SHA256', cipherSuites: 'TLS_AES_256_GCM_SHA384' },
    },
    [{ label: 'web', address: web.host, port: web.port }],
  );
  await createVip(
    client,
    {
      label: 'sni',
      ipAddress: VIP,
      ports: [8445],
      protocol: 'http2',
      certificateId: certs['default.test'],
      tls: { sniCertificates: [{ serverName: 'a.test', certificateId: certs['a.test'] as string }, { serverName: '*.wild.test', certificateId: certs['wild.test'] as string }] },
    },
    [{ label: 'web', address: web.host, port: web.port }],
  );
});

afterAll(async () => {
  await app?.dispose();
  await web?.close();
});

describe('minimum version', () => {
  it('refuses TLS 1.2 on a VIP whose minimum is TLS 1.3, and negotiates TLS 1.3', async () => {
    expect(await handshake(8443, ['-tls1_2'])).toBeNull();
    expect(await handshake(8443, ['-tls1_3'])).toMatchObject({ protocol: 'TLSv1.3' });
  });

  it('accepts TLS 1.2 where the minimum is the default (TLS 1.2)', async () => {
    expect(await handshake(8444, ['-tls1_2'])).toMatchObject({ protocol: 'TLSv1.2' });
  });

  it('follows a policy change on the live listener', async () => {
    const vs = (await client.listVirtualServices({ query: { label: 'tls13' } })).items[0]!;
    await client.updateVirtualService(vs.id, { tls: { minVersion: 'TLSv1.2' } });
    await until('TLS 1.2 is accepted after the change', async () => (await handshake(8443, ['-tls1_2'])) !== null);
    await client.updateVirtualService(vs.id, { tls: { minVersion: 'TLSv1.3' } });
    await until('TLS 1.2 is refused again', async () => (await handshake(8443, ['-tls1_2'])) === null);
  });
});

describe('ciphers', () => {
  it('negotiates only the listed TLS 1.2 cipher', async () => {
    expect(await handshake(8444, ['-tls1_2', '-cipher', 'ECDHE-RSA-AES256-GCM-SHA384'])).toBeNull();
    expect(await handshake(8444, ['-tls1_2', '-cipher', 'ECDHE-RSA-AES128-GCM-SHA256'])).toMatchObject({ cipher: 'ECDHE-RSA-AES128-GCM-SHA256' });
  });

  it('negotiates only the listed TLS 1.3 suite', async () => {
    expect(await handshake(8444, ['-tls1_3', '-ciphersuites', 'TLS_AES_128_GCM_SHA256'])).toBeNull();
    expect(await handshake(8444, ['-tls1_3', '-ciphersuites', 'TLS_AES_256_GCM_SHA384'])).toMatchObject({ cipher: 'TLS_AES_256_GCM_SHA384' });
  });
});

describe('SNI', () => {
  it('picks the certificate named for the server name, and the VIP\'s own for any other name or none', async () => {
    expect((await handshake(8445, ['-servername', 'a.test']))?.subject).toContain('CN = a.test');
    expect((await handshake(8445, ['-servername', 'pacs.wild.test']))?.subject).toContain('CN = wild.test');
    expect((await handshake(8445, ['-servername', 'deeper.pacs.wild.test']))?.subject).toContain('CN = default.test');
    expect((await handshake(8445, ['-servername', 'other.test']))?.subject).toContain('CN = default.test');
    expect((await handshake(8445, ['-noservername']))?.subject).toContain('CN = default.test');
  });

  it('carries HTTP/2 (ALPN) on an SNI certificate', async () => {
    const h2 = await handshake(8445, ['-servername', 'a.test', '-alpn', 'h2']);
    expect(h2?.subject).toContain('CN = a.test');
    expect(h2?.alpn).toBe('h2');
  });
});

describe('HSTS', () => {
  it('adds Strict-Transport-Security to responses of a VIP that sets hstsMaxAge, none elsewhere', async () => {
    expect(await httpsGet(8443, 'default.test')).toEqual({ status: 200, hsts: 'max-age=31536000; includeSubDomains' });
    expect(await httpsGet(8444, 'default.test')).toEqual({ status: 200, hsts: undefined });
  });
});

describe('bad values', () => {
  async function refused(write: () => Promise<unknown>): Promise<ApplianceProblemError> {
    const before = (await client.getConfig()).revision;
    const err = (await write().then(
      () => null,
      (e: unknown) => e,
    )) as ApplianceProblemError | null;
    expect(err, 'the write was accepted').not.toBeNull();
    expect((await client.getConfig()).revision).toBe(before);
    return err as ApplianceProblemError;
  }
  const base = { label: 'bad', ipAddress: VIP, ports: [8500], protocol: 'http' as const };

  it('refuses each bad TLS setting naming the field, the revision unchanged', async () => {
    const cert = certs['default.test'] as string;
    expect(await refused(() => client.createVirtualService({ ...base, tls: { minVersion: 'TLSv1.3' } }))).toMatchObject({ status: 422, code: 'LB_INVALID_COMBINATION', field: '/tls/minVersion' });
    expect(await refused(() => client.createVirtualService({ ...base, protocol: 'tcp', certificateId: cert, tls: { hstsMaxAge: 60 } }))).toMatchObject({ status: 422, field: '/tls/hstsMaxAge' });
    expect(await refused(() => client.createVirtualService({ ...base, certificateId: cert, tls: { hstsIncludeSubDomains: true } }))).toMatchObject({ status: 422, field: '/tls/hstsIncludeSubDomains' });
    expect(await refused(() => client.createVirtualService({ ...base, certificateId: cert, tls: { ciphers: 'NO-SUCH-CIPHER' } }))).toMatchObject({ status: 422, code: 'LB_UNSUPPORTED_VALUE', field: '/tls/ciphers' });
    expect(await refused(() => client.createVirtualService({ ...base, certificateId: cert, tls: { cipherSuites: 'TLS_NO_SUCH_SUITE' } }))).toMatchObject({ status: 422, code: 'LB_UNSUPPORTED_VALUE', field: '/tls/cipherSuites' });
    expect(await refused(() => client.createVirtualService({ ...base, certificateId: cert, tls: { ciphers: 'A B' } }))).toMatchObject({ status: 400, field: '/tls/ciphers' });
    expect(await refused(() => client.createVirtualService({ ...base, certificateId: cert, tls: { minVersion: 'TLSv1.1' as never } }))).toMatchObject({ status: 400, field: '/tls/minVersion' });
    const twice = [
      { serverName: 'a.test', certificateId: certs['a.test'] as string },
      { serverName: 'A.test', certificateId: certs['wild.test'] as string },
    ];
    expect(await refused(() => client.createVirtualService({ ...base, certificateId: cert, tls: { sniCertificates: twice } }))).toMatchObject({ status: 422, field: '/tls/sniCertificates/1/serverName' });
    expect(await refused(() => client.createVirtualService({ ...base, certificateId: cert, tls: { sniCertificates: [{ serverName: 'x.test', certificateId: 'cert-0123456789ab' }] } }))).toMatchObject({
      status: 422,
      code: 'LB_UNKNOWN_REFERENCE',
      field: '/tls/sniCertificates/0/certificateId',
    });
    expect(await refused(() => client.createVirtualService({ ...base, certificateId: cert, tls: { sniCertificates: [{ serverName: 'bad name', certificateId: cert }] } }))).toMatchObject({ status: 400, field: '/tls/sniCertificates/0/serverName' });
    // A certificate that only an SNI entry uses is in use.
    expect(await refused(() => client.deleteCertificate(certs['a.test'] as string))).toMatchObject({ status: 409, code: 'LB_CERTIFICATE_IN_USE' });
    expect((await client.getCertificate(certs['a.test'] as string)).usedBy).toHaveLength(1);
  });
});
