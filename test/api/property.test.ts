// Property-based: request bodies generated from the contract's own schemas. Every valid one
// (adjusted only to satisfy the cross-object rules) is accepted and reads back as the input
// plus the schema's defaults; every one broken in one place gets a 400 naming that field,
// never a 5xx, and the revision does not move.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApplianceClient, ApplianceProblemError } from '../../openapi/sdk/index.js';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';
import { breakages, component, valid, withDefaults } from '../helpers/schema-arbitrary.js';

let app: TestAppliance;
let client: ApplianceClient;
let certId: string;
let apiPort: number;
let counter = 0;

beforeAll(async () => {
  app = await startTestAppliance();
  client = app.client();
  apiPort = Number(new URL(app.endpoint).port);
  certId = (await client.createCertificate({ label: 'prop-cert', selfSigned: { commonName: 'prop.example' } })).id;
});
afterAll(async () => app?.dispose());

/** Makes a schema-valid VIP satisfy the rules too: unique label and port, a real certificate where one is needed. */
function fixVip(raw: Record<string, unknown>): Record<string, unknown> {
  const n = ++counter;
  const vs: Record<string, unknown> = { ...raw, label: `p${n}-${String(raw.label)}`.slice(0, 64) };
  if (vs.protocol === 'udp') vs.protocol = 'tcp'; // udp is a layer 4 protocol (test/api/layer4-rules.test.ts)
  let port = 20000 + n;
  if (port === apiPort) port += 1;
  vs.ports = [port];
  vs.certificateId = vs.protocol === 'http2' ? certId : vs.certificateId === undefined ? undefined : null;
  if (vs.certificateId === undefined) delete vs.certificateId;
  const persistence = vs.persistence as { mode?: string } | undefined;
  if (vs.protocol === 'tcp' && persistence?.mode === 'http-cookie') persistence.mode = 'source-ip';
  // Source-IP table settings need a mode that keeps one (test/engine/proxy-persistence.test.ts).
  const p = persistence as { mode?: string; sourceIpFallback?: boolean; ipv4PrefixLength?: number; ipv6PrefixLength?: number } | undefined;
  if (p && p.mode !== 'http-cookie') delete p.sourceIpFallback;
  if (p && p.mode !== 'source-ip' && !(p.mode === 'http-cookie' && p.sourceIpFallback === true)) {
    delete p.ipv4PrefixLength;
    delete p.ipv6PrefixLength;
  }
  if (vs.protocol !== 'http') delete vs.forceHttps;
  // The rules joining several fields are the subject of their own suites (layer4-rules,
  // tls-policy, limits-fallback, application-checks): here a proxy VIP without them.
  vs.forwarding = 'proxy';
  delete vs.transparent;
  delete vs.fallback;
  const tls = vs.tls as { minVersion?: string } | undefined;
  if (tls === undefined || typeof vs.certificateId !== 'string') delete vs.tls;
  else vs.tls = tls.minVersion === undefined ? {} : { minVersion: tls.minVersion };
  const hc = vs.healthCheck as Record<string, unknown> | undefined;
  if (hc) delete hc.bodyMatch;
  // A script check needs a program in the check scripts directory (test/engine/script-agent-checks.test.ts).
  if (hc?.type === 'script') hc.type = 'connect';
  if (hc) delete hc.script;
  return vs;
}

function strip(v: Record<string, unknown>): Record<string, unknown> {
  const { id: _i, status: _s, virtualServiceId: _v, ...rest } = v;
  return rest;
}

async function expectRefused(write: () => Promise<unknown>, field: string): Promise<void> {
  const before = (await client.getConfig()).revision;
  const err = (await write().then(
    () => null,
    (e: unknown) => e,
  )) as ApplianceProblemError | null;
  expect(err, `accepted a body broken at ${field}`).not.toBeNull();
  expect(err?.status).toBe(400);
  expect(err?.code).toBe('LB_VALIDATION');
  expect(err?.problem.errors?.map((e) => e.field) ?? [err?.field]).toContain(field);
  expect((await client.getConfig()).revision).toBe(before);
}

describe('bodies generated from the contract', () => {
  it('accepts every valid virtual service and reads it back as input plus defaults', async () => {
    await fc.assert(
      fc.asyncProperty(valid(component('VirtualServiceInput')), async (raw) => {
        const body = fixVip(raw as Record<string, unknown>);
        const created = await client.createVirtualService(body as never);
        expect(strip(await client.getVirtualService(created.id))).toEqual(withDefaults(component('VirtualServiceInput'), body));
      }),
      { numRuns: 60 },
    );
  });

  it('refuses every virtual service broken in one place with a 400 naming the field', async () => {
    const base = fixVip({ label: 'base', ipAddress: '127.0.49.1', ports: [1], protocol: 'http' });
    await fc.assert(
      fc.asyncProperty(breakages(component('VirtualServiceInput'), base), async (b) => {
        await expectRefused(() => client.createVirtualService(b.body as never), b.field);
      }),
      { numRuns: 80 },
    );
  });

  it('accepts every valid real server and refuses every broken one', async () => {
    const vs = await client.createVirtualService({ label: 'rs-parent', ipAddress: '127.0.49.2', ports: [80], protocol: 'http' });
    await fc.assert(
      fc.asyncProperty(valid(component('RealServerInput')), async (raw) => {
        const body = { ...(raw as Record<string, unknown>), label: `r${++counter}` };
        const created = await client.createRealServer(vs.id, body as never);
        expect(strip(await client.getRealServer(vs.id, created.id))).toEqual(withDefaults(component('RealServerInput'), body));
      }),
      { numRuns: 60 },
    );
    await fc.assert(
      fc.asyncProperty(breakages(component('RealServerInput'), { label: 'x', address: '127.0.0.5', port: 8080 }), async (b) => {
        await expectRefused(() => client.createRealServer(vs.id, b.body as never), b.field);
      }),
      { numRuns: 60 },
    );
  });

  it('accepts every valid merge patch of a real server and refuses every broken one', async () => {
    const vs = await client.createVirtualService({ label: 'patch-parent', ipAddress: '127.0.49.3', ports: [80], protocol: 'http' });
    const rs = await client.createRealServer(vs.id, { label: 'patched', address: '127.0.49.30', port: 8080 });
    const spec = component('RealServerSpec');
    await fc.assert(
      fc.asyncProperty(valid({ ...spec, required: [] }), async (patch) => {
        const p = { ...(patch as Record<string, unknown>) };
        delete p.label;
        const before = strip(await client.getRealServer(vs.id, rs.id));
        const after = strip(await client.updateRealServer(vs.id, rs.id, p as never));
        expect(after).toEqual({ ...before, ...p });
      }),
      { numRuns: 40 },
    );
    await fc.assert(
      fc.asyncProperty(breakages({ ...spec, required: [] }, {}), async (b) => {
        await expectRefused(() => client.updateRealServer(vs.id, rs.id, b.body as never), b.field);
      }),
      { numRuns: 40 },
    );
  });

  it('accepts every valid self-signed certificate request and refuses every broken one', async () => {
    const selfSigned = { ...component('SelfSignedSpec') };
    const props = { ...(selfSigned.properties as Record<string, unknown>), keyType: { type: 'string', enum: ['ecdsa-p256', 'rsa-2048'] } };
    await fc.assert(
      fc.asyncProperty(valid({ ...selfSigned, properties: props }), async (spec) => {
        const cert = await client.createCertificate({ label: `cert${++counter}`, selfSigned: spec as never });
        expect(cert.selfSigned).toEqual(withDefaults(component('SelfSignedSpec'), spec));
        expect(cert.source).toBe('selfSigned');
      }),
      { numRuns: 15 },
    );
    await fc.assert(
      fc.asyncProperty(breakages(component('SelfSignedSpec'), { commonName: 'x.example' }), async (b) => {
        await expectRefused(() => client.createCertificate({ label: `bad${++counter}`, selfSigned: b.body as never }), `/selfSigned${b.field}`);
      }),
      { numRuns: 40 },
    );
  });
});
