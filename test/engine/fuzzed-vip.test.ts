// Issue 19: one contract-valid write must never take the appliance down. VIPs with fuzzed
// but contract-valid values of every field (check paths and hosts, labels, cookie names,
// bounds; fast-check from the contract's own schemas, fixed seed, bounded budget) get real
// servers that answer; the checks run; the process stays up, and it restarts cleanly on the
// stored revision. Hand-picked extremes join the fuzzed ones. Addresses 127.0.150.x
// (127.0.151.x when test/haproxy re-runs it on the HAProxy engine) belong to this file.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplianceProblemError, type ApplianceClient } from '../../openapi/sdk/index.js';
import type { components } from '../../openapi/generated/types.js';
import { makeTestCert } from '../helpers/certs.js';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';
import { component, valid } from '../helpers/schema-arbitrary.js';
import { startHttpBackend, type HttpBackend } from './helpers/backends.js';
import { ENGINE, HAPROXY } from './helpers/engine-under-test.js';
import { get } from './helpers/traffic.js';
import { until } from './helpers/wait.js';

type VirtualServiceInput = components['schemas']['VirtualServiceInput'];
type RealServerInput = components['schemas']['RealServerInput'];

const NET = HAPROXY ? '127.0.151' : '127.0.150';
const SEED = 19_001;
// Every HAProxy write is checked with `haproxy -c` and most reload it: a smaller budget there keeps it under a minute.
const FUZZED = HAPROXY ? 16 : 32;
/** Refusals a valid body may still get: rules that join several fields. */
// A fuzzed reference (an SNI certificate id) names no certificate, and a fuzzed cipher list no cipher: refused, naming the field.
const RULE_CODES = new Set(['LB_INVALID_COMBINATION', 'LB_CERTIFICATE_REQUIRED', 'LB_UNSAFE_PATTERN', 'LB_UNKNOWN_REFERENCE', 'LB_UNSUPPORTED_VALUE']);

let app: TestAppliance;
let client: ApplianceClient;
let plain: HttpBackend;
let secure: HttpBackend;
let certId: string;

beforeAll(async () => {
  app = await startTestAppliance({ engine: ENGINE, host: `${NET}.1` });
  client = app.client();
  plain = await startHttpBackend({ name: 'plain', host: `${NET}.6` });
  const cert = makeTestCert('fuzz-backend');
  secure = await startHttpBackend({ name: 'secure', host: `${NET}.7`, tls: { cert: cert.certPem, key: cert.keyPem } });
  certId = (await client.createCertificate({ label: 'fuzz', selfSigned: { commonName: 'fuzz.test' } })).id;
});

afterAll(async () => {
  await app?.dispose();
  await Promise.all([plain?.close(), secure?.close()]);
});

/** A check path of every character the contract admits that HAProxy's configuration language means something by. */
const EDGE_PATH = "/it's/$HOME/%C7%85?a=(1)&b=*+,;=:@~";
/** A cookie name of the same kind. */
const EDGE_COOKIE = "a#b'c$HOME`|^~!%&*+.-_";

/** Contract-valid extremes fuzzing may miss: such characters, and bounds. */
function extremes(): Partial<VirtualServiceInput>[] {
  const pchars = "-._~!$&'()*+,;=:@%41/";
  return [
    { label: 'edge-path', protocol: 'http', healthCheck: { type: 'http', path: EDGE_PATH, interval: 1, host: '[::1]:80' } },
    { label: 'edge-cookie', protocol: 'http', persistence: { mode: 'http-cookie', cookieName: EDGE_COOKIE }, healthCheck: { type: 'connect', interval: 1 } },
    { protocol: 'http', healthCheck: { type: 'https', path: `/${pchars.repeat(Math.floor(1000 / pchars.length))}`, interval: 1, timeout: 300, host: '[' } },
    { protocol: 'http', healthCheck: { type: 'http', path: '/%C7%85', interval: 1, rise: 100, fall: 100, expectStatus: 599, port: 65535 } },
    { protocol: 'http', persistence: { mode: 'http-cookie', cookieName: "a#b'c$HOME`|^~!%&*+.-_", timeout: 604800 }, healthCheck: { type: 'http', path: '/', interval: 1, expectStatus: 100 } },
    { protocol: 'http', persistence: { mode: 'http-cookie', cookieName: 'x'.repeat(64) }, label: `L${'a'.repeat(63)}`, ports: Array.from({ length: 32 }, (_, i) => 40000 + i) },
    { protocol: 'tcp', persistence: { mode: 'source-ip', timeout: 1 }, healthCheck: { type: 'https', path: '/', interval: 1, host: 'a:b:c' } },
    { protocol: 'http', timeouts: { client: 86400, server: 86400, connect: 300, httpRequest: 300 }, healthCheck: { type: 'connect', interval: 3600, timeout: 1 } },
  ];
}

/** The fuzzed VIPs, made addressable: each on its own address, with a real certificate when it names one. */
function vips(): VirtualServiceInput[] {
  const fuzzed = fc.sample(valid(component('VirtualServiceInput')), { seed: SEED, numRuns: FUZZED }) as VirtualServiceInput[];
  const base = (i: number): VirtualServiceInput => ({ label: `edge-${i}`, ipAddress: '', ports: [8080], protocol: 'http' });
  const all = [...fuzzed, ...extremes().map((e, i) => ({ ...base(i), ...e }) as VirtualServiceInput)];
  // Labels stay unique (a clash is a rule refusal, not what this test is about).
  return all.map((vs, i) => {
    // Three in four fuzzed VIPs listen and check their servers with HTTP(S) (the rest keep what
    // fast-check chose), so that the fuzzed check settings are exercised, not parked.
    const exercised = i < FUZZED && i % 4 !== 0;
    const hc = vs.healthCheck ?? {};
    return {
      ...vs,
      label: `${vs.label.slice(0, 60)}-${i}`,
      ipAddress: `${NET}.${20 + i}`,
      certificateId: vs.certificateId || vs.protocol === 'http2' ? certId : null,
      // The embedded engine refuses transparent by design (Node.js has no IP_TRANSPARENT
      // sockets; test/haproxy/transparent.test.ts); layer 4 VIPs belong to the kernel suites.
      transparent: ENGINE === 'haproxy' ? vs.transparent : false,
      forwarding: 'proxy',
      // TLS policy on a terminating VIP only, without fuzzed cipher names (refused as unknown
      // to OpenSSL) or SNI certificate ids (refused as unknown references): test/engine/tls-policy.test.ts.
      tls: (vs.certificateId || vs.protocol === 'http2') && vs.tls?.minVersion ? { minVersion: vs.tls.minVersion } : undefined,
      // A fallback server needs its address and the page an HTTP VIP (test/engine/limits-fallback.test.ts).
      fallback: undefined,
      // Source-IP table settings only where a table is kept (test/engine/proxy-persistence.test.ts).
      persistence: fittingPersistence(vs.persistence),
      ...(exercised ? { enabled: true, forceHttps: false, healthCheck: { ...hc, type: i % 2 ? 'http' : 'https', interval: 1 } } : {}),
    } as VirtualServiceInput;
  });
}

/** A fuzzed persistence without source-IP table settings its mode keeps no table for. */
function fittingPersistence(p: VirtualServiceInput['persistence']): VirtualServiceInput['persistence'] {
  if (!p) return p;
  const out = { ...p };
  if (out.mode !== 'http-cookie') delete out.sourceIpFallback;
  if (out.mode !== 'source-ip' && !(out.mode === 'http-cookie' && out.sourceIpFallback === true)) {
    delete out.ipv4PrefixLength;
    delete out.ipv6PrefixLength;
  }
  return out;
}

/** Two fuzzed real servers per VIP pointed at the backends (a check of another port simply fails); a plain one for the extremes. */
function servers(count: number): RealServerInput[][] {
  const sampled = fc.sample(valid(component('RealServerInput')), { seed: SEED + 1, numRuns: FUZZED * 2 }) as RealServerInput[];
  return Array.from({ length: count }, (_, v) => {
    if (v >= FUZZED) return [{ label: 'edge', address: plain.host, port: plain.port }];
    return sampled.slice(v * 2, v * 2 + 2).map((rs, j) => {
      const backend = rs.reEncrypt ? secure : plain;
      return { ...rs, label: `${rs.label.slice(0, 60)}-${j}`, address: backend.host, port: (v + j) % 3 === 0 ? null : backend.port };
    });
  });
}

async function alive(a: TestAppliance): Promise<void> {
  expect(a.process.exitCode, a.output.slice(-20).join('\n')).toBeNull();
  expect(a.process.signalCode).toBeNull();
  const o = await a.client().getOverview();
  expect(o.node.engine).toBe(ENGINE);
  // Every contract-valid revision applies, on both engines.
  expect(o.applyError).toBeNull();
}

describe(`fuzzed contract-valid VIPs (${ENGINE} engine)`, () => {
  it('keeps the appliance up while their checks run, and restarts cleanly on them', async () => {
    const wanted = vips();
    const rs = servers(wanted.length);
    const accepted: string[] = [];
    const refused: string[] = [];
    for (const [i, vs] of wanted.entries()) {
      try {
        const created = await client.createVirtualService(vs);
        accepted.push(created.id);
        for (const server of rs[i] ?? []) await client.createRealServer(created.id, server);
      } catch (err) {
        // A contract-valid body may only meet a rule joining several fields; never the engine, never a 5xx.
        if (!(err instanceof ApplianceProblemError)) throw err;
        expect(RULE_CODES.has(err.code), `${JSON.stringify(vs)}: ${err.message}`).toBe(true);
        refused.push(err.code);
      }
    }
    expect(accepted.length).toBeGreaterThanOrEqual(wanted.length / 2);
    // Every check (interval 1 s at the least, first one within 200 ms) runs a few times.
    await new Promise((r) => setTimeout(r, 2500));
    await alive(app);
    const overview = await client.getOverview();
    for (const id of accepted) expect(overview.virtualServices.some((v) => v.id === id)).toBe(true);
    const revision = overview.revision;
    // Both engines send the check path byte for byte and set the cookie under its very name.
    expect(plain.seen.map((r) => r.url)).toContain(EDGE_PATH);
    const cookieVip = wanted.find((v) => v.label.startsWith('edge-cookie')) as VirtualServiceInput;
    const res = await get(`http://${cookieVip.ipAddress}:8080/`);
    expect(res.status).toBe(200);
    expect(String(res.headers['set-cookie'])).toMatch(new RegExp(`^${EDGE_COOKIE.replace(/[$^|*+.]/g, '\\$&')}=`));

    app = await app.restart();
    client = app.client();
    await until('the restarted appliance runs the stored revision', async () => (await client.getOverview()).revision === revision);
    await new Promise((r) => setTimeout(r, 2500));
    await alive(app);
    // The checks ran again after the restart: a server with an http check on the plain backend is seen by it.
    expect(plain.seen.length).toBeGreaterThan(0);
  }, 90_000);
});
