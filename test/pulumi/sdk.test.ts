// The TypeScript SDK (lbappliance/pulumi) in a Pulumi program run under the SDK's mocks:
// tokens, the inputs the engine would receive, secrets (inputs made secret, outputs listed
// as additional secret outputs, the plugin version requested), a real server's dependency
// on its virtual service's id, lookups by id, and the ImagingVirtualServices component with
// the TeraRecon, AGFA and Insignia profiles.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as pulumi from '@pulumi/pulumi';
import { beforeAll, describe, expect, it } from 'vitest';
import * as lb from '../../provider/pulumi/sdk/index.js';
import { ROOT } from '../helpers/paths.js';

/** What the engine received for each registered resource, by name. */
interface Registration {
  type: string;
  inputs: Record<string, unknown>;
  secretOutputs: string[];
  dependencies: Record<string, string[]>;
  version: string;
  provider: string;
}
const registered = new Map<string, Registration>();
let counter = 0;

beforeAll(async () => {
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const id = args.id || `${args.type.split(':')[2]?.toLowerCase() ?? 'x'}-${String(++counter).padStart(12, '0')}`;
        registered.set(args.name, { ...(registered.get(args.name) as Registration), type: args.type, inputs: args.inputs });
        return { id, state: { ...args.inputs, ...(args.type === lb.Certificate.__pulumiType ? { fingerprintSha256: 'AA:BB' } : {}) } };
      },
      call: () => ({}),
    },
    'lbappliance-sdk-test',
    'dev',
    false,
  );
  // The mocks drop what a registration asks of the engine beyond its inputs; record it.
  const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource(req: RegisterRequest, cb: unknown): unknown };
  const original = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, cb) => {
    const dependencies: Record<string, string[]> = {};
    req.getPropertydependenciesMap().forEach((deps, key) => {
      dependencies[key] = deps.getUrnsList();
    });
    registered.set(req.getName(), { type: req.getType(), inputs: {}, secretOutputs: req.getAdditionalsecretoutputsList(), dependencies, version: req.getVersion(), provider: req.getProvider() });
    return original(req, cb);
  };
});

interface RegisterRequest {
  getName(): string;
  getType(): string;
  getVersion(): string;
  getProvider(): string;
  getAdditionalsecretoutputsList(): string[];
  getPropertydependenciesMap(): { forEach(fn: (deps: { getUrnsList(): string[] }, key: string) => void): void };
}

/** The value of an output. */
function value<T>(o: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => o.apply(resolve));
}

/** Waits until the runtime has sent every registration made so far. */
async function settled(...outputs: pulumi.Output<unknown>[]): Promise<void> {
  await Promise.all(outputs.map(value));
}

describe('the SDK classes', () => {
  it('register VirtualService with its token, camelCase inputs and the plugin version', async () => {
    const vs = new lb.VirtualService('avs-aqi', { label: 'AVS-AQI', ipAddress: '127.0.80.100', ports: [1200], protocol: 'tcp', persistence: { mode: 'source-ip' }, timeouts: { client: 92, server: 93 } });
    expect(await value(vs.id)).toMatch(/^virtualservice-/);
    expect(await value(vs.urn)).toMatch(/::lbappliance:index:VirtualService::avs-aqi$/);
    expect(await value(vs.timeouts)).toEqual({ client: 92, server: 93 });
    const r = registered.get('avs-aqi')!;
    expect(r).toMatchObject({ type: 'lbappliance:index:VirtualService', version: lb.PLUGIN_VERSION, secretOutputs: [] });
    expect(r.inputs).toEqual({ label: 'AVS-AQI', ipAddress: '127.0.80.100', ports: [1200], protocol: 'tcp', persistence: { mode: 'source-ip' }, timeouts: { client: 92, server: 93 } });
    expect(lb.VirtualService.isInstance(vs)).toBe(true);
    expect(lb.RealServer.isInstance(vs)).toBe(false);
  });

  it('make a RealServer depend on the id of its VirtualService', async () => {
    const vs = new lb.VirtualService('avs', { label: 'AVS-2', ipAddress: '127.0.80.101', ports: [8080], protocol: 'http' });
    const rs = new lb.RealServer('server1', { virtualServiceId: vs.id, label: 'SERVER1', address: '127.0.80.111', port: 8080 });
    await settled(rs.id);
    expect(await value(rs.virtualServiceId)).toBe(await value(vs.id));
    const r = registered.get('server1')!;
    expect(r.type).toBe('lbappliance:index:RealServer');
    expect(r.inputs.virtualServiceId).toBe(await value(vs.id));
    expect(r.dependencies.virtualServiceId).toEqual([await value(vs.urn)]);
  });

  it('send Certificate keys as secrets and list them as secret outputs', async () => {
    const cert = new lb.Certificate('tls', { label: 'avs-tls', certificatePem: 'CERT', privateKeyPem: 'KEY', passphrase: pulumi.secret('PASS'), privateKeyVersion: 1 });
    await settled(cert.id);
    expect(await pulumi.isSecret(cert.privateKeyPem)).toBe(true);
    expect(await pulumi.isSecret(cert.passphrase)).toBe(true);
    expect(await pulumi.isSecret(cert.certificatePem)).toBe(false);
    expect(await value(cert.fingerprintSha256)).toBe('AA:BB');
    expect(registered.get('tls')!.secretOutputs.sort()).toEqual(['passphrase', 'pfx', 'privateKeyPem']);
  });

  it('send the HA peer password as a secret', async () => {
    const pair = new lb.HAPair('pair', { peerEndpoint: 'https://127.0.80.120:9443', peerPassword: 'secondary-pw', deadTimeMs: 1500 });
    await settled(pair.id);
    expect(await pulumi.isSecret(pair.peerPassword)).toBe(true);
    expect(registered.get('pair')!.secretOutputs).toEqual(['peerPassword']);
  });

  it('refuse to construct without a required argument', () => {
    expect(() => new lb.RealServer('broken', { label: 'x' } as unknown as lb.RealServerArgs)).toThrow(/Missing required property 'virtualServiceId'/);
  });

  it('look an existing object up by id with get()', async () => {
    const vs = lb.VirtualService.get('existing', 'vs-0123456789ab');
    expect(await value(vs.id)).toBe('vs-0123456789ab');
    const rs = lb.RealServer.get('existing-rs', 'vs-0123456789ab/rs-0123456789ab');
    expect(await value(rs.id)).toBe('vs-0123456789ab/rs-0123456789ab');
  });

  it('register an explicit Provider whose password is a secret, and resources that use it', async () => {
    const provider = new lb.Provider('appliance', { endpoint: 'https://127.0.80.1:9443', password: 'admin-pw', insecure: true });
    const vs = new lb.VirtualService('via-provider', { label: 'P', ipAddress: '127.0.80.102', ports: [80], protocol: 'http' }, { provider });
    await settled(vs.id);
    const r = registered.get('appliance')!;
    expect(r.type).toBe('pulumi:providers:lbappliance');
    expect(r.inputs).toMatchObject({ endpoint: 'https://127.0.80.1:9443', insecure: true });
    expect(await pulumi.isSecret(provider.password as unknown as pulumi.Output<string>)).toBe(true);
    expect(registered.get('via-provider')!.provider).toMatch(/::pulumi:providers:lbappliance::appliance::/);
  });
});

describe('the package', () => {
  it("is importable as lbappliance/pulumi from a program's node_modules, and names its plugin", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lbappliance-program-'));
    try {
      await mkdir(join(dir, 'node_modules'));
      await symlink(ROOT, join(dir, 'node_modules', 'lbappliance'));
      await writeFile(join(dir, 'package.json'), '{"type":"module"}');
      const script = "const lb = await import('lbappliance/pulumi'); const { createRequire } = await import('node:module'); const pkg = createRequire(import.meta.url)('lbappliance/package.json'); console.log(JSON.stringify({ classes: ['VirtualService','RealServer','Certificate','HAPair','Provider','ImagingVirtualServices'].filter((n) => typeof lb[n] === 'function'), pulumi: pkg.pulumi, version: lb.PLUGIN_VERSION }));";
      await writeFile(join(dir, 'probe.mjs'), script);
      const { stdout } = await promisify(execFile)(process.execPath, ['probe.mjs'], { cwd: dir });
      const probe = JSON.parse(stdout) as { classes: string[]; pulumi: unknown; version: string };
      expect(probe.classes).toHaveLength(6);
      expect(probe.pulumi).toEqual({ resource: true, name: 'lbappliance', version: probe.version });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('ImagingVirtualServices', () => {
  it('deploys the TeraRecon table: redirect, HTTP/2 with the certificate, TCP with 92/93 s timeouts', async () => {
    const tr = new lb.ImagingVirtualServices('terarecon', {
      profile: lb.teraRecon,
      address: '127.0.80.217',
      certificateId: 'cert-0123456789ab',
      servers: [
        { label: 'SERVER1', address: '127.0.80.6' },
        { label: 'SERVER2', address: '127.0.80.7' },
      ],
    });
    await settled(...Object.values(tr.realServers).flat().map((r) => r.id));
    expect(registered.get('terarecon-avsRedirect')!.inputs).toEqual({ label: 'AVS-Redirect', ipAddress: '127.0.80.217', ports: [80], protocol: 'http', forceHttps: true, redirectCode: 301, healthCheck: { type: 'none' } });
    expect(registered.get('terarecon-avs')!.inputs).toEqual({ label: 'AVS', ipAddress: '127.0.80.217', ports: [443], protocol: 'http2', certificateId: 'cert-0123456789ab', persistence: { mode: 'http-cookie' }, healthCheck: { type: 'connect' } });
    expect(registered.get('terarecon-avsAqi')!.inputs).toMatchObject({ label: 'AVS-AQI', ports: [1200], protocol: 'tcp', persistence: { mode: 'source-ip' }, timeouts: { client: 92, server: 93 } });
    expect(tr.realServers.avsRedirect).toEqual([]);
    expect(tr.realServers.avs).toHaveLength(2);
    expect(registered.get('terarecon-avsAqi-SERVER2')!.inputs).toMatchObject({ virtualServiceId: await value(tr.virtualServices.avsAqi!.id), label: 'SERVER2', address: '127.0.80.7', backup: false });
  });

  it('needs its own address for the AGFA VIPs that reuse ports, and deploys all 21 with them', async () => {
    const servers = [{ label: 'EI1', address: '127.0.80.51' }];
    expect(() => new lb.ImagingVirtualServices('agfa-bad', { profile: lb.agfaEnterpriseImaging, address: '127.0.80.50', servers })).toThrow(/addresses\.vip20/);
    const addresses = { vip20: '127.0.80.70', vip21: '127.0.80.70' };
    expect(() => new lb.ImagingVirtualServices('agfa-no-web', { profile: lb.agfaEnterpriseImaging, address: '127.0.80.50', addresses, servers })).toThrow(/serverGroups\.web/);
    const web = [{ label: 'WEB1', address: '127.0.80.71' }];
    const agfa = new lb.ImagingVirtualServices('agfa', { profile: lb.agfaEnterpriseImaging, address: '127.0.80.50', addresses, servers, serverGroups: { web } });
    expect(Object.keys(agfa.virtualServices)).toHaveLength(21);
    await settled(...Object.values(agfa.realServers).flat().map((r) => r.id));
    expect(registered.get('agfa-vip4')!.inputs).toMatchObject({ label: 'CoreServer-443', ports: [81], healthCheck: { type: 'https' } });
    // VIP 4 listens on 81 and re-encrypts to the servers' HTTPS on 443; VIP 21 is served by the web servers.
    expect(registered.get('agfa-vip4-EI1')!.inputs).toMatchObject({ port: 443, reEncrypt: true });
    expect(registered.get('agfa-vip21')!.inputs).toMatchObject({ ipAddress: '127.0.80.70', ports: [80] });
    expect(registered.get('agfa-vip21-WEB1')!.inputs).toMatchObject({ address: '127.0.80.71', port: 80 });
  });

  it('makes every server but the first a backup in Insignia failover mode', async () => {
    const ins = new lb.ImagingVirtualServices('insignia', {
      profile: lb.insignia({ mode: 'failover' }),
      address: '127.0.80.60',
      servers: [
        { label: 'PRIMARY', address: '127.0.80.61' },
        { label: 'STANDBY', address: '127.0.80.62' },
      ],
    });
    await settled(...Object.values(ins.realServers).flat().map((r) => r.id));
    expect(registered.get('insignia-hl7-PRIMARY')!.inputs).toMatchObject({ backup: false });
    expect(registered.get('insignia-dicom-STANDBY')!.inputs).toMatchObject({ backup: true, address: '127.0.80.62' });
    expect(registered.get('insignia-dicom')!.inputs).toMatchObject({ protocol: 'tcp', ports: [104] });
  });

  it("puts Insignia's DICOM VIP on direct routing by default, as the guide says, and on proxy when asked; HL7 stays layer 7", async () => {
    const dr = new lb.ImagingVirtualServices('insignia-dr', { profile: lb.insignia(), address: '127.0.80.63', servers: [{ label: 'S1', address: '127.0.80.61' }] });
    const proxy = new lb.ImagingVirtualServices('insignia-px', { profile: lb.insignia({ dicomForwarding: 'proxy' }), address: '127.0.80.64', servers: [{ label: 'S1', address: '127.0.80.61' }] });
    await settled(...[dr, proxy].flatMap((c) => Object.values(c.virtualServices).map((v) => v.id)));
    expect(registered.get('insignia-dr-dicom')!.inputs).toMatchObject({ forwarding: 'direct-routing', forwardedFor: false, ports: [104] });
    expect(registered.get('insignia-dr-hl7')!.inputs.forwarding ?? 'proxy').toBe('proxy');
    expect(registered.get('insignia-px-dicom')!.inputs).toMatchObject({ forwarding: 'proxy', forwardedFor: true });
  });
});
