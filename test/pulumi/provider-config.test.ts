// The plugin process itself and its settings: the port is the first stdout line, plugin info
// and schema, CheckConfig (explicit arguments, secrets, strings from stack config) and
// Configure from explicit arguments, `lbappliance:config:*` variables, PULUMI_CONFIG and the
// LBAPPLIANCE_* environment, DiffConfig, a provider whose settings are unknown in a preview,
// and what the engine sees for calls the provider does not offer.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerPb } from '../../provider/pulumi/proto.js';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';
import { ROOT } from '../helpers/paths.js';
import { isSecret, PLUGIN_BIN, rpcError, secret, startPlugin, T, UNKNOWN, type Plugin } from './helpers/plugin.js';

const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string; pulumi: { resource: boolean; name: string; version: string } };

let app: TestAppliance;
let plugin: Plugin;

beforeAll(async () => {
  [app, plugin] = await Promise.all([startTestAppliance(), startPlugin()]);
});
afterAll(async () => {
  await plugin?.stop();
  await app?.dispose();
});

/** Proves the provider reaches the appliance with working credentials: an import of a missing id answers "gone". */
async function reachesAppliance(p: Plugin): Promise<void> {
  expect(await p.read(T.vs, 'vs-0123456789ab')).toMatchObject({ id: '' });
}

describe('the plugin process', () => {
  it('prints its port as the first line of stdout and nothing else', () => {
    expect(plugin.stdout).toEqual([String(plugin.port)]);
    expect(plugin.port).toBeGreaterThan(0);
    expect(plugin.startupMs).toBeLessThan(10_000);
  });

  it('reports the package version, which the package.json pulumi block names', async () => {
    expect(pkg.pulumi).toEqual({ resource: true, name: 'lbappliance', version: pkg.version });
    expect(await plugin.getPluginInfo()).toBe(pkg.version);
  });

  it('serves the schema that is committed as provider/pulumi/schema.json', async () => {
    const schema = await plugin.getSchema();
    expect(schema).toEqual(JSON.parse(await readFile(join(ROOT, 'provider/pulumi/schema.json'), 'utf8')));
    expect(Object.keys(schema.resources as object).sort()).toEqual([T.cert, T.ha, T.rs, T.vs, T.syslog, T.mail, T.dir, T.snmp].sort());
  });

  it('answers UNIMPLEMENTED for what it does not offer, and names unknown types', async () => {
    const invoke = await rpcError(plugin.rpc('invoke', new providerPb.InvokeRequest()));
    expect(invoke.code).toBe(status.UNIMPLEMENTED);
    const unknown = await rpcError(plugin.check('lbappliance:index:Pool', {}));
    expect(unknown.code).toBe(status.INVALID_ARGUMENT);
    expect(unknown.details).toMatch(/unknown resource type "lbappliance:index:Pool"/);
  });

  it('writes a plugin folder for `pulumi plugin install --file` whose launcher starts the plugin', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lbappliance-plugin-'));
    try {
      await promisify(execFile)(process.execPath, [PLUGIN_BIN, '--write-plugin-folder', dir]);
      const launcher = join(dir, 'pulumi-resource-lbappliance');
      expect(await readFile(launcher, 'utf8')).toMatch(/^#!\/bin\/sh\n/);
      const { stdout } = await promisify(execFile)(launcher, ['--version']);
      expect(stdout).toBe(`${pkg.version}\n`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('CheckConfig', () => {
  it('accepts explicit arguments, parses config strings and returns the password as a secret', async () => {
    const { inputs, failures } = await plugin.checkConfig({ endpoint: app.endpoint, password: app.password, insecure: 'true', version: '0.1.0' });
    expect(failures).toEqual([]);
    expect(inputs).toMatchObject({ endpoint: app.endpoint, insecure: true, version: '0.1.0' });
    expect(isSecret(inputs.password) && inputs.password.value).toBe(app.password);
    const again = await plugin.checkConfig({ endpoint: app.endpoint, password: secret(app.password) });
    expect(isSecret(again.inputs.password)).toBe(true);
  });

  it('fails per setting: a bad endpoint, a missing password, an unknown setting', async () => {
    const bad = await plugin.checkConfig({ endpoint: 'http://127.0.0.1:9443', password: secret('x'), region: 'eu' });
    expect(bad.failures.map((f) => f.property).sort()).toEqual(['endpoint', 'region']);
    const missing = await plugin.checkConfig({ endpoint: app.endpoint });
    expect(missing.failures).toEqual([{ property: 'password', reason: expect.stringMatching(/LBAPPLIANCE_PASSWORD.*\[LBP_CONFIGURATION\]$/) }]);
    const unknown = await plugin.checkConfig({ endpoint: UNKNOWN });
    expect(unknown.failures).toEqual([]);
  });

  it('diffs settings without ever replacing the provider', async () => {
    const olds = { endpoint: app.endpoint, password: secret('a') };
    expect((await plugin.diffConfig(olds, olds)).changes).toBe('none');
    const changed = await plugin.diffConfig(olds, { ...olds, password: secret('b'), insecure: 'true' });
    expect(changed).toMatchObject({ changes: 'some', replaces: [], detailed: { password: 'UPDATE', insecure: 'ADD' } });
  });
});

describe('Configure', () => {
  it('takes explicit arguments with a secret password, accepting secrets and previews', async () => {
    const answer = await plugin.configure({ endpoint: app.endpoint, password: secret(app.password), insecure: true });
    expect(answer).toEqual({ acceptSecrets: true, supportsPreview: true, acceptResources: false });
    await reachesAppliance(plugin);
  });

  it('refuses a wrong password at the first call, with the appliance code', async () => {
    await plugin.configure({ endpoint: app.endpoint, password: secret('wrong-password-000'), insecure: 'true' });
    const err = await rpcError(plugin.read(T.vs, 'vs-0123456789ab'));
    expect(err.code).toBe(status.UNAUTHENTICATED);
    expect(err.details).toMatch(/\[LB_/);
  });

  it('names caPem and insecure when the appliance\'s certificate is not trusted, rather than "cannot reach"', async () => {
    await plugin.configure({ endpoint: app.endpoint, password: secret(app.password) });
    const err = await rpcError(plugin.read(T.vs, 'vs-0123456789ab'));
    expect(err.code).toBe(status.UNAVAILABLE);
    expect(err.details).toMatch(/does not trust \(DEPTH_ZERO_SELF_SIGNED_CERT\): set lbappliance:caPem .* or lbappliance:insecure true/);
    expect(err.details).toMatch(/\[LB_SDK_UNTRUSTED_CERTIFICATE\]/);
    expect(err.details).not.toMatch(/cannot reach/);
    await plugin.configure({ endpoint: app.endpoint, password: secret(app.password), caPem: await readFile(join(app.dataDir, 'tls', 'api.crt'), 'utf8') });
    await reachesAppliance(plugin);
  });

  it('takes the stack config variables of the default provider', async () => {
    await plugin.configure({}, { 'lbappliance:config:endpoint': app.endpoint, 'lbappliance:config:password': app.password, 'lbappliance:config:insecure': 'true' });
    await reachesAppliance(plugin);
  });

  it('fails with every missing setting named when nothing supplies them', async () => {
    const err = await rpcError(plugin.configure({}));
    expect(err.code).toBe(status.FAILED_PRECONDITION);
    expect(err.details).toMatch(/LBAPPLIANCE_ENDPOINT.*LBAPPLIANCE_PASSWORD/);
  });

  it('answers previews when a setting is unknown, and refuses to create until it is known', async () => {
    await plugin.configure({ endpoint: UNKNOWN, password: secret(app.password), insecure: true });
    const { inputs } = await plugin.check(T.vs, { label: 'pu-cfg', ipAddress: '127.0.81.1', ports: [80], protocol: 'http' });
    expect((await plugin.create(T.vs, inputs, { preview: true })).id).toBe('');
    const err = await rpcError(plugin.create(T.vs, inputs));
    expect(err.code).toBe(status.FAILED_PRECONDITION);
    expect(err.details).toMatch(/endpoint is not known yet/);
  });

  it('falls back to LBAPPLIANCE_* environment variables, and to PULUMI_CONFIG', async () => {
    const fromEnv = await startPlugin({ env: { LBAPPLIANCE_ENDPOINT: app.endpoint, LBAPPLIANCE_PASSWORD: app.password, LBAPPLIANCE_INSECURE: '1' } });
    const fromConfig = await startPlugin({ env: { PULUMI_CONFIG: JSON.stringify({ 'lbappliance:endpoint': app.endpoint, 'lbappliance:password': app.password, 'lbappliance:insecure': 'true' }) } });
    try {
      expect((await fromEnv.checkConfig({})).failures).toEqual([]);
      await fromEnv.configure({});
      await reachesAppliance(fromEnv);
      await fromConfig.configure({});
      await reachesAppliance(fromConfig);
    } finally {
      await Promise.all([fromEnv.stop(), fromConfig.stop()]);
    }
  });

  it('never writes the password to its log, even at debug level', () => {
    expect(plugin.stderr.length).toBeGreaterThan(0);
    expect(plugin.stderr.join('\n')).not.toContain(app.password);
  });
});
