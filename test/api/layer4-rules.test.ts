// Layer 4 VIPs (issue 14): every combination the kernel cannot honour is a 422 naming the
// field, the revision does not move, and the SDK's shared rules say the same thing before
// the write. A VIP that becomes layer 4 under servers that no longer fit is refused too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { realServerProblems, virtualServiceProblems, type ApplianceClient, type ApplianceProblemError } from '../../openapi/sdk/index.js';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';
import { refusedWrite } from '../helpers/refused-write.js';

let app: TestAppliance;
let client: ApplianceClient;
let certId: string;

beforeAll(async () => {
  app = await startTestAppliance();
  client = app.client();
  certId = (await client.createCertificate({ label: 'l4-cert', selfSigned: { commonName: 'l4.example' } })).id;
});
afterAll(async () => app?.dispose());

/** A write that must be refused, changing nothing (test/helpers/refused-write.ts). */
const refused = (write: () => Promise<unknown>): Promise<ApplianceProblemError> => refusedWrite(client, write);

const base = { label: 'l4', ipAddress: '127.0.230.1', ports: [104], protocol: 'tcp', forwarding: 'direct-routing', forwardedFor: false } as const;

describe('layer 4 virtual services', () => {
  it('accepts every layer 4 method for tcp and udp, and stores forwarding (proxy by default)', async () => {
    let n = 0;
    for (const forwarding of ['direct-routing', 'nat', 'snat'] as const) {
      for (const protocol of ['tcp', 'udp'] as const) {
        n += 1;
        const vs = await client.createVirtualService({
          ...base, label: `ok-${n}`, ports: [1000 + n], forwarding, protocol,
          ...(protocol === 'udp' ? { healthCheck: { type: 'connect', port: 1000 } } : {}),
          persistence: { mode: 'source-ip', timeout: 60 },
        });
        expect(vs).toMatchObject({ forwarding, protocol, forwardedFor: false });
      }
    }
    const proxy = await client.createVirtualService({ label: 'proxy', ipAddress: '127.0.230.2', ports: [80], protocol: 'http' });
    expect(proxy.forwarding).toBe('proxy');
    const overview = await client.getOverview();
    expect(overview.virtualServices.find((v) => v.id === proxy.id)?.forwarding).toBe('proxy');
    expect(overview.virtualServices.filter((v) => v.forwarding === 'nat')).toHaveLength(2);
  });

  const cases: [string, Record<string, unknown>, string][] = [
    ['udp on a proxy VIP', { forwarding: 'proxy', protocol: 'udp', forwardedFor: true }, '/protocol'],
    ['udp with the default (proxy) forwarding', { forwarding: undefined, protocol: 'udp', healthCheck: { type: 'none' } }, '/protocol'],
    ['http on direct routing', { protocol: 'http' }, '/protocol'],
    ['http2 on nat', { forwarding: 'nat', protocol: 'http2', certificateId: 'CERT' }, '/protocol'],
    ['TLS on snat', { forwarding: 'snat', certificateId: 'CERT' }, '/certificateId'],
    ['http-cookie persistence on nat', { forwarding: 'nat', persistence: { mode: 'http-cookie' } }, '/persistence/mode'],
    ['forceHttps on direct routing', { forceHttps: true }, '/forceHttps'],
    ['forwardedFor left at its default on snat', { forwarding: 'snat', forwardedFor: undefined }, '/forwardedFor'],
    ['forwardedFor true on nat', { forwarding: 'nat', forwardedFor: true }, '/forwardedFor'],
    ['leastconn on direct routing', { algorithm: 'leastconn' }, '/algorithm'],
    ['a wildcard address on nat', { forwarding: 'nat', ipAddress: '0.0.0.0' }, '/ipAddress'],
    ['an IPv6 address on direct routing', { ipAddress: '::1' }, '/ipAddress'],
    ['udp checked by TCP on its own port', { protocol: 'udp' }, '/healthCheck/port'],
    ['a maintenance page on direct routing', { fallback: { mode: 'page' } }, '/fallback/mode'],
    ['a fallback server on nat', { forwarding: 'nat', fallback: { mode: 'server', address: '127.0.230.30' } }, '/fallback/mode'],
    ['a connection limit on snat', { forwarding: 'snat', limits: { maxConnections: 100 } }, '/limits/maxConnections'],
  ];
  for (const [what, over, field] of cases) {
    it(`422 on ${field} for ${what} (the SDK's rules agree)`, async () => {
      const body: Record<string, unknown> = { ...base, label: `bad-${field.replace(/\W/g, '')}`, ports: [2104], ...over };
      for (const [k, v] of Object.entries(body)) {
        if (v === undefined) delete body[k];
        if (v === 'CERT') body[k] = certId;
      }
      const err = await refused(() => client.createVirtualService(body as never));
      expect(err).toMatchObject({ status: 422, code: 'LB_INVALID_COMBINATION', field });
      expect(virtualServiceProblems({ ...body, forwarding: (body.forwarding as string | undefined) ?? null, forwardedFor: (body.forwardedFor as boolean | undefined) ?? null, healthCheck: body.healthCheck ?? null, fallback: body.fallback ?? null, limits: body.limits ?? null } as never)[0]).toMatchObject({ code: 'LB_INVALID_COMBINATION', field });
    });
  }

  it('a real server behind direct routing keeps the VIP port (no port translation), is an IPv4 address and does not re-encrypt', async () => {
    const vs = await client.createVirtualService({ ...base, label: 'dr', ipAddress: '127.0.230.3', ports: [11112] });
    const translated = await refused(() => client.createRealServer(vs.id, { label: 'S1', address: '127.0.230.20', port: 8080 }));
    expect(translated).toMatchObject({ status: 422, code: 'LB_INVALID_COMBINATION', field: '/port' });
    const named = await refused(() => client.createRealServer(vs.id, { label: 'S1', address: 'pacs1.hospital.example', port: null }));
    expect(named).toMatchObject({ status: 422, field: '/address' });
    const tls = await refused(() => client.createRealServer(vs.id, { label: 'S1', address: '127.0.230.20', reEncrypt: true }));
    expect(tls).toMatchObject({ status: 422, field: '/reEncrypt' });
    const limited = await refused(() => client.createRealServer(vs.id, { label: 'S1', address: '127.0.230.20', maxConnections: 10 }));
    expect(limited).toMatchObject({ status: 422, field: '/maxConnections' });
    await client.createRealServer(vs.id, { label: 'S1', address: '127.0.230.20', port: 11112 });
    const rs = await client.createRealServer(vs.id, { label: 'S2', address: '127.0.230.21' });
    const patched = await refused(() => client.updateRealServer(vs.id, rs.id, { port: 11113 }));
    expect(patched).toMatchObject({ status: 422, field: '/port' });
    // Changing the VIP's port under a server pinned to the old one is refused on /ports.
    const moved = await refused(() => client.updateVirtualService(vs.id, { ports: [11113] }));
    expect(moved).toMatchObject({ status: 422, field: '/ports' });
    expect(realServerProblems({ address: '127.0.230.20', port: 8080 }, { forwarding: 'direct-routing', ports: [11112] })[0]).toMatchObject({ field: '/port' });
    expect(realServerProblems({ address: '127.0.230.20', port: 8080 }, { forwarding: 'nat', ports: [11112] })).toEqual([]);
  });

  it('nat translates ports; turning a proxy VIP with a translating server into direct routing is refused on /forwarding', async () => {
    const vs = await client.createVirtualService({ label: 'was-proxy', ipAddress: '127.0.230.4', ports: [80], protocol: 'tcp' });
    await client.createRealServer(vs.id, { label: 'S1', address: '127.0.230.22', port: 8080 });
    const err = await refused(() => client.updateVirtualService(vs.id, { forwarding: 'direct-routing', forwardedFor: false }));
    expect(err).toMatchObject({ status: 422, code: 'LB_INVALID_COMBINATION', field: '/forwarding' });
    await expect(client.updateVirtualService(vs.id, { forwarding: 'nat', forwardedFor: false })).resolves.toMatchObject({ forwarding: 'nat' });
    // A whole-configuration write is held to the same rules.
    const config = await client.getConfig();
    const vsInConfig = (config.virtualServices as Record<string, Record<string, unknown>>)[vs.id] as Record<string, unknown>;
    vsInConfig.forwarding = 'direct-routing';
    const whole = await refused(() => client.replaceConfig(config as never));
    expect(whole).toMatchObject({ status: 422, code: 'LB_INVALID_COMBINATION' });
    expect(whole.field).toContain('/forwarding');
  });
});
