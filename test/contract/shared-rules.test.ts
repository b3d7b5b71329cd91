// The appliance and the providers' plan-time checks cannot disagree: every combination of the
// settings the single-object rules read is written to a live appliance and checked by the
// Terraform/Pulumi resource definition, and both give the same code on the same field (or
// both accept it). Host names too: what the appliance refuses as an address, plan refuses.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplianceProblemError, isHostName, virtualServiceProblems } from '../../openapi/sdk/index.js';
import { realServer, validateAll, virtualService } from '../../provider/resources/index.js';
import type { ObjectValue } from '../../provider/resources/types.js';
import { UNKNOWN } from '../../provider/resources/types.js';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';

let app: TestAppliance;
let certId: string;

beforeAll(async () => {
  app = await startTestAppliance();
  certId = (await app.client().createCertificate({ label: 'rules-cert', selfSigned: { commonName: 'rules.example' } })).id;
});
afterAll(async () => app?.dispose());

const vsConfig = (over: ObjectValue): ObjectValue => ({
  id: null, label: 'v', ip_address: '127.0.51.1', ports: [80], protocol: 'http', forwarding: null, certificate_id: null, algorithm: null, persistence: null,
  health_check: null, force_https: null, redirect_code: null, forwarded_for: null, transparent: null, timeouts: null, fallback: null, limits: null, tls: null, enabled: null, ...over,
});

/** What the appliance answers for a body: null (accepted) or [code, field]. */
async function applianceVerdict(body: Record<string, unknown>): Promise<[string, string] | null> {
  try {
    await app.client().createVirtualService(body as never);
    return null;
  } catch (err) {
    if (!(err instanceof ApplianceProblemError)) throw err;
    return [err.code, err.field ?? ''];
  }
}

describe('single-object rules', () => {
  it('the appliance and plan agree on every combination of protocol, persistence, forceHttps, certificate and transparent', async () => {
    let n = 0;
    const disagreements: string[] = [];
    for (const protocol of ['http', 'http2', 'tcp'])
      for (const mode of ['none', 'http-cookie', 'source-ip'])
        for (const forceHttps of [false, true])
          for (const withCert of [false, true])
            for (const transparent of [false, true]) {
            n += 1;
            const body = { label: `r${n}`, ipAddress: '127.0.51.1', ports: [20000 + n], protocol, persistence: { mode }, forceHttps, certificateId: withCert ? certId : null, transparent };
            const appliance = await applianceVerdict(body);
            const plan = validateAll(virtualService, vsConfig({ label: `r${n}`, ports: [20000 + n], protocol, persistence: { mode, cookie_name: null, timeout: null }, force_https: forceHttps, certificate_id: withCert ? certId : null, transparent }));
            const first = plan[0];
            const planned = first ? [first.code, `/${first.path.map((p) => (typeof p === 'string' ? p.replace(/_(.)/g, (_m, c: string) => c.toUpperCase()) : p)).join('/')}`] : null;
            const sdk = virtualServiceProblems(body)[0];
            const shared = sdk ? [sdk.code, sdk.field] : null;
            if (JSON.stringify(appliance) !== JSON.stringify(planned) || JSON.stringify(appliance) !== JSON.stringify(shared)) {
              disagreements.push(`${JSON.stringify(body)}: appliance ${JSON.stringify(appliance)}, plan ${JSON.stringify(planned)}, sdk ${JSON.stringify(shared)}`);
            }
          }
    expect(disagreements).toEqual([]);
    expect(n).toBe(72);
  });

  it('the appliance and plan agree on layer 4 forwarding with every protocol, forwardedFor, persistence and algorithm (issue 14)', async () => {
    let n = 0;
    const disagreements: string[] = [];
    const camel = (p: (string | number)[]) => `/${p.map((x) => (typeof x === 'string' ? x.replace(/_(.)/g, (_m, c: string) => c.toUpperCase()) : x)).join('/')}`;
    for (const forwarding of [null, 'proxy', 'direct-routing', 'nat', 'snat'])
      for (const protocol of ['http', 'tcp', 'udp'])
        for (const forwardedFor of [null, false, true])
          for (const [mode, algorithm] of [['none', null], ['http-cookie', 'roundrobin'], ['source-ip', 'leastconn']] as const) {
            n += 1;
            const body: Record<string, unknown> = { label: `l4r${n}`, ipAddress: '127.0.230.9', ports: [21000 + n], protocol, persistence: { mode }, healthCheck: { type: 'connect', port: 104 } };
            if (forwarding !== null) body.forwarding = forwarding;
            if (forwardedFor !== null) body.forwardedFor = forwardedFor;
            if (algorithm !== null) body.algorithm = algorithm;
            const appliance = await applianceVerdict(body);
            const plan = validateAll(virtualService, vsConfig({
              label: `l4r${n}`, ip_address: '127.0.230.9', ports: [21000 + n], protocol, forwarding, forwarded_for: forwardedFor, algorithm,
              persistence: { mode, cookie_name: null, timeout: null }, health_check: { type: 'connect', port: 104, path: null, host: null, expect_status: null, interval: null, timeout: null, rise: null, fall: null },
            }));
            const first = plan[0];
            const planned = first ? [first.code, camel(first.path)] : null;
            const sdk = virtualServiceProblems({ ...body, forwarding, forwardedFor, algorithm } as never)[0];
            const shared = sdk ? [sdk.code, sdk.field] : null;
            if (JSON.stringify(appliance) !== JSON.stringify(planned) || JSON.stringify(appliance) !== JSON.stringify(shared)) {
              disagreements.push(`${JSON.stringify(body)}: appliance ${JSON.stringify(appliance)}, plan ${JSON.stringify(planned)}, sdk ${JSON.stringify(shared)}`);
            }
          }
    expect(disagreements).toEqual([]);
    expect(n).toBe(135);
  });

  it('the appliance and plan agree on every combination of protocol and fallback (mode, address, port)', async () => {
    let n = 0;
    const disagreements: string[] = [];
    for (const protocol of ['http', 'tcp'])
      for (const mode of ['none', 'server', 'page'])
        for (const address of [null, '127.0.218.20'])
          for (const port of [null, 8080]) {
            n += 1;
            const fallback = { mode, address, port };
            const body = { label: `f${n}`, ipAddress: '127.0.218.1', ports: [21000 + n], protocol, fallback };
            const appliance = await applianceVerdict(body);
            const plan = validateAll(virtualService, vsConfig({ label: `f${n}`, ip_address: '127.0.218.1', ports: [21000 + n], protocol, fallback }));
            const first = plan[0];
            const planned = first ? [first.code, `/${first.path.join('/')}`] : null;
            const sdk = virtualServiceProblems(body)[0];
            const shared = sdk ? [sdk.code, sdk.field] : null;
            if (JSON.stringify(appliance) !== JSON.stringify(planned) || JSON.stringify(appliance) !== JSON.stringify(shared)) {
              disagreements.push(`${JSON.stringify(body)}: appliance ${JSON.stringify(appliance)}, plan ${JSON.stringify(planned)}, sdk ${JSON.stringify(shared)}`);
            }
          }
    expect(disagreements).toEqual([]);
    expect(n).toBe(24);
  });

  it('the appliance and plan agree on TLS settings with and without a certificate, on http and tcp', async () => {
    const disagreements: string[] = [];
    const cases: [string, Record<string, unknown>, Record<string, unknown>][] = [
      ['minVersion', { minVersion: 'TLSv1.3' }, { min_version: 'TLSv1.3' }],
      ['hsts', { hstsMaxAge: 60 }, { hsts_max_age: 60 }],
      ['includeSubDomains alone', { hstsIncludeSubDomains: true }, { hsts_include_sub_domains: true }],
      ['sni twice', { sniCertificates: [{ serverName: 'a.test', certificateId: certId }, { serverName: 'A.TEST', certificateId: certId }] }, { sni_certificates: [{ server_name: 'a.test', certificate_id: certId }, { server_name: 'A.TEST', certificate_id: certId }] }],
    ];
    let n = 0;
    for (const protocol of ['http', 'tcp'])
      for (const withCert of [false, true])
        for (const [what, tls, tfTls] of cases) {
          n += 1;
          const body = { label: `t${n}`, ipAddress: '127.0.218.2', ports: [22000 + n], protocol, certificateId: withCert ? certId : null, tls };
          const appliance = await applianceVerdict(body);
          const tfConfig = { min_version: null, ciphers: null, cipher_suites: null, hsts_max_age: null, hsts_include_sub_domains: null, sni_certificates: null, ...tfTls };
          const plan = validateAll(virtualService, vsConfig({ label: `t${n}`, ip_address: '127.0.218.2', ports: [22000 + n], protocol, certificate_id: withCert ? certId : null, tls: tfConfig }));
          const first = plan[0];
          const planned = first ? [first.code, `/${first.path.map((p) => (typeof p === 'string' ? p.replace(/_(.)/g, (_m, c: string) => c.toUpperCase()) : p)).join('/')}`] : null;
          // The SDK's rules read what the appliance reads: the body with the contract's defaults.
          const tlsDefaults = { minVersion: 'TLSv1.2', ciphers: null, cipherSuites: null, hstsMaxAge: null, hstsIncludeSubDomains: false, sniCertificates: [] };
          const sdk = virtualServiceProblems({ ...body, tls: { ...tlsDefaults, ...tls } } as never)[0];
          const shared = sdk ? [sdk.code, sdk.field] : null;
          if (JSON.stringify(appliance) !== JSON.stringify(planned) || JSON.stringify(appliance) !== JSON.stringify(shared)) {
            disagreements.push(`${what} ${protocol} cert=${withCert}: appliance ${JSON.stringify(appliance)}, plan ${JSON.stringify(planned)}, sdk ${JSON.stringify(shared)}`);
          }
        }
    expect(disagreements).toEqual([]);
  });

  it('waits for unknown values: a certificate not created yet does not fail the plan', () => {
    expect(validateAll(virtualService, vsConfig({ protocol: 'http2', certificate_id: UNKNOWN }))).toEqual([]);
    expect(validateAll(virtualService, vsConfig({ protocol: UNKNOWN, persistence: { mode: 'http-cookie', cookie_name: null, timeout: null } }))).toEqual([]);
    // http-cookie on tcp, caught at plan on the nested attribute (it used to pass plan and fail at apply).
    expect(validateAll(virtualService, vsConfig({ protocol: 'tcp', persistence: { mode: 'http-cookie', cookie_name: null, timeout: null } })).map((i) => [i.path, i.code])).toEqual([
      [['persistence', 'mode'], 'LB_INVALID_COMBINATION'],
    ]);
  });
});

describe('host names', () => {
  const cases: [string, boolean][] = [
    ['pacs1.hospital.example', true],
    ['pacs1', true],
    ['pacs-1.example.', true],
    ['300.1.1.1', false],
    ['10.10.40', false],
    ['1.2.3.4.5', false],
    ['-pacs.example', false],
    ['pacs..example', false],
    ['a'.repeat(64), false],
    ['123.example', true],
  ];

  it('one rule: the SDK, the appliance and plan refuse a mistyped address as a host name', async () => {
    const vs = await app.client().createVirtualService({ label: 'hosts', ipAddress: '127.0.51.2', ports: [8080], protocol: 'http' });
    for (const [host, ok] of cases) {
      expect([host, isHostName(host)]).toEqual([host, ok]);
      const planned = validateAll(realServer, { id: null, virtual_service_id: vs.id, label: 's', address: host, port: 80, weight: null, backup: null, admin_state: null, reencrypt: null, drain_timeout: null });
      expect([host, planned.map((i) => i.path.join('.'))]).toEqual([host, ok ? [] : ['address']]);
      const accepted = await app
        .client()
        .createRealServer(vs.id, { label: `s${cases.findIndex((c) => c[0] === host)}`, address: host, port: 80 })
        .then(() => true, (e: unknown) => (e as ApplianceProblemError).field === '/address' ? false : Promise.reject(e));
      expect([host, accepted]).toEqual([host, ok]);
    }
  });
});
