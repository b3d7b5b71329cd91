// The plugin as terraform starts it: refuses to run by hand, prints exactly one handshake
// line, serves health and the provider over mutual TLS (verifying the host's client
// certificate), ignores SIGINT, exits on the controller's Shutdown and on StopProvider, and
// starts quickly.
import { spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { createInterface } from 'node:readline';
import { credentials, makeGenericClientConstructor, type Client } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { certificate } from '../../provider/resources/index.js';
import { encodeObject } from '../../provider/terraform/dynamic-value.js';
import { serviceDefinition } from '../../provider/terraform/grpc-services.js';
import { MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE } from '../../provider/terraform/handshake.js';
import { createTlsIdentity, type TlsIdentity } from '../../provider/terraform/tls-identity.js';
import { ROOT } from '../helpers/paths.js';

const BIN = `${ROOT}bin/terraform-provider-lbappliance`;

interface Plugin {
  child: ChildProcess;
  line: string;
  stdout: string[];
  stderr: string[];
  ms: number;
  exited: Promise<number | null>;
}

const running: ChildProcess[] = [];
afterEach(() => {
  for (const c of running.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

async function start(host: TlsIdentity | null): Promise<Plugin> {
  const started = performance.now();
  const child = spawn(BIN, [], {
    env: { ...process.env, [MAGIC_COOKIE_KEY]: MAGIC_COOKIE_VALUE, PLUGIN_PROTOCOL_VERSIONS: '5,6', ...(host ? { PLUGIN_CLIENT_CERT: host.certPem } : {}), TF_LOG_PROVIDER: 'debug' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(child);
  const stdout: string[] = [];
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (l) => stderr.push(l));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (l) => {
      stdout.push(l);
      if (stdout.length === 1) resolve(l);
    });
    void exited.then((code) => reject(new Error(`plugin exited ${code}: ${stderr.join('\n')}`)));
  });
  return { child, line, stdout, stderr, ms: performance.now() - started, exited };
}

function client<T>(service: string, plugin: Plugin, host: TlsIdentity): Client & T {
  const [, , , address, , cert] = plugin.line.split('|');
  const der = Buffer.from(cert!, 'base64');
  const serverPem = new X509Certificate(der).toString();
  const Ctor = makeGenericClientConstructor(serviceDefinition(service), service);
  return new Ctor(address!, credentials.createSsl(Buffer.from(serverPem), Buffer.from(host.keyPem), Buffer.from(host.certPem)), { 'grpc.ssl_target_name_override': 'localhost' }) as unknown as Client & T;
}

function call<T>(c: Client, method: string, req: Record<string, unknown>): Promise<T> {
  return new Promise((resolve, reject) => (c as unknown as Record<string, (r: unknown, cb: (e: Error | null, v: T) => void) => void>)[method]!(req, (e, v) => (e ? reject(e) : resolve(v))));
}

describe('plugin process', () => {
  it('says it is a plugin and exits 1 when run by hand', async () => {
    const child = spawn(BIN, [], { env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    expect(err).toMatch(/This binary is a plugin/);
  });

  it('prints one handshake line, serves health and the provider over mutual TLS, ignores SIGINT, exits on Shutdown', async () => {
    const host = createTlsIdentity();
    const plugin = await start(host);
    expect(plugin.line).toMatch(/^1\|6\|tcp\|127\.0\.0\.1:\d+\|grpc\|[A-Za-z0-9+/]+$/);
    const health = client('grpc.health.v1.Health', plugin, host);
    expect(await call(health, 'Check', { service: 'plugin' })).toEqual({ status: 'SERVING' });
    const provider = client('tfplugin6.Provider', plugin, host);
    const schema = await call<{ resource_schemas: Record<string, unknown>; data_source_schemas: Record<string, unknown> }>(provider, 'GetProviderSchema', {});
    expect(Object.keys(schema.resource_schemas).sort()).toEqual(['lbappliance_alert_mail', 'lbappliance_certificate', 'lbappliance_directory', 'lbappliance_ha_pair', 'lbappliance_real_server', 'lbappliance_snmp', 'lbappliance_syslog_collector', 'lbappliance_virtual_service']);
    expect(Object.keys(schema.data_source_schemas).sort()).toEqual(['lbappliance_certificate', 'lbappliance_overview', 'lbappliance_virtual_service']);

    // A host without write-only support would store the private key: the plugin refuses it.
    const config = encodeObject(certificate.attributes, { label: 'c', certificate_pem: 'x', private_key_pem: 'k' });
    const refused = await call<{ diagnostics: { summary: string; attribute: unknown }[] }>(provider, 'ValidateResourceConfig', { type_name: 'lbappliance_certificate', config });
    expect(refused.diagnostics[0]).toMatchObject({ summary: 'Write-only attribute not supported by this Terraform', attribute: { steps: [{ attribute_name: 'private_key_pem' }] } });

    // A client certificate other than the one terraform announced is refused.
    const stranger = client('grpc.health.v1.Health', plugin, createTlsIdentity());
    await expect(call(stranger, 'Check', { service: 'plugin' })).rejects.toThrow();

    plugin.child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 200));
    expect(plugin.child.exitCode).toBeNull();
    expect(await call(health, 'Check', { service: 'plugin' })).toEqual({ status: 'SERVING' });

    const controller = client('plugin.GRPCController', plugin, host);
    await call(controller, 'Shutdown', {});
    expect(await plugin.exited).toBe(0);
    expect(plugin.stdout).toEqual([plugin.line]);
    for (const l of plugin.stderr) expect(JSON.parse(l)).toMatchObject({ '@level': expect.any(String), '@message': expect.any(String) });
    for (const c of [health, provider, stranger, controller]) c.close();
  });

  it('exits after StopProvider', async () => {
    const host = createTlsIdentity();
    const plugin = await start(host);
    const provider = client('tfplugin6.Provider', plugin, host);
    expect(await call(provider, 'StopProvider', {})).toEqual({ Error: '' });
    expect(await plugin.exited).toBe(0);
    provider.close();
  });

  it('starts fast: handshake, then the first answer (median of 5)', async () => {
    const handshake: number[] = [];
    const ready: number[] = [];
    for (let i = 0; i < 5; i++) {
      const host = createTlsIdentity();
      const started = performance.now();
      const plugin = await start(host);
      handshake.push(plugin.ms);
      const provider = client('tfplugin6.Provider', plugin, host);
      await call(provider, 'GetProviderSchema', {});
      ready.push(performance.now() - started);
      provider.close();
      plugin.child.kill('SIGKILL');
      await plugin.exited;
    }
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[2]!;
    console.log(`provider start-up, median of 5: handshake line ${Math.round(median(handshake))} ms, first GetProviderSchema answered ${Math.round(median(ready))} ms`);
    expect(median(handshake)).toBeLessThan(1000);
    expect(median(ready)).toBeLessThan(2000);
  });
});
