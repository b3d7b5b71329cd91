// Directory through the real plugin process against a real appliance: Check per property
// (the shared StartTLS rule, the contract's enums), the bind password kept a secret input
// and never in an answer's plain text or a log line, create, no diff on the same inputs,
// update in place, drift read back, import by `directory`, and delete.
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApplianceClient } from '../../openapi/sdk/index.js';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';
import { makeTestCert } from '../helpers/certs.js';
import { isSecret, plainStrings, rpcError, secret, startPlugin, T, type Bag, type Plugin } from './helpers/plugin.js';

const BIND_PASSWORD = 'pulumi-bind-secret-Kd3-never-plain';

let app: TestAppliance;
let client: ApplianceClient;
let plugin: Plugin;
let args: Bag;

beforeAll(async () => {
  [app, plugin] = await Promise.all([startTestAppliance(), startPlugin()]);
  client = app.client();
  await plugin.configureFor(app);
  args = {
    url: 'ldaps://127.0.248.70:636',
    caPem: makeTestCert('hospital test CA').certPem,
    bindDn: 'cn=svc-lbappliance,ou=service,dc=hospital,dc=test',
    bindPassword: secret(BIND_PASSWORD),
    userBaseDn: 'ou=people,dc=hospital,dc=test',
    roleMappings: [{ group: 'cn=lb-operators,ou=groups,dc=hospital,dc=test', role: 'operator' }],
  };
});
afterAll(async () => {
  await plugin?.stop();
  await app?.dispose();
});

describe('Directory', () => {
  let inputs: Bag;
  let state: Bag;

  it('fails Check per property and keeps the bind password a secret', async () => {
    const role = await plugin.check(T.dir, { ...args, roleMappings: [{ group: 'cn=x', role: 'root' }], timeoutMs: 10 });
    expect([...new Set(role.failures.map((f) => f.property))].sort()).toEqual(['roleMappings[0].role', 'timeoutMs']);
    // The appliance's own rule (openapi/sdk/rules.ts), once the schema holds.
    const plain = await plugin.check(T.dir, { ...args, url: 'ldap://127.0.248.70:389' });
    expect(plain.failures.map((f) => f.property)).toEqual(['startTls']);
    expect(plain.failures[0]?.reason).toContain('LB_INVALID_COMBINATION');
    const good = await plugin.check(T.dir, { ...args, bindPassword: BIND_PASSWORD });
    expect(good.failures).toEqual([]);
    expect(isSecret(good.inputs.bindPassword)).toBe(true);
    expect(good.inputs).toMatchObject({ startTls: false, groupSearch: 'member', timeoutMs: 5000, cacheSeconds: 60 });
    inputs = good.inputs;
  });

  it('creates the settings, and diffs the same inputs as no change', async () => {
    const created = await plugin.create(T.dir, inputs);
    expect(created.id).toBe('directory');
    state = created.properties;
    expect(await client.getDirectory()).toMatchObject({ url: 'ldaps://127.0.248.70:636', roleMappings: [{ role: 'operator' }] });
    expect((await plugin.diff(T.dir, 'directory', state, inputs)).changes).toBe('none');
    const changed = await plugin.diff(T.dir, 'directory', state, { ...inputs, timeoutMs: 2000 });
    expect(changed).toMatchObject({ replaces: [], detailed: { timeoutMs: 'UPDATE' } });
  });

  it('updates in place, reads drift back and imports by id', async () => {
    const updated = await plugin.update(T.dir, 'directory', state, { ...inputs, timeoutMs: 2000 });
    expect(updated.properties).toMatchObject({ timeoutMs: 2000 });
    expect((await client.getDirectory()).timeoutMs).toBe(2000);
    const { updatedAt: _u, ...current } = await client.getDirectory();
    await client.replaceDirectory({ ...current, cacheSeconds: 5, bindPassword: 'by-hand-0000' });
    const read = await plugin.read(T.dir, 'directory', updated.properties, inputs);
    expect(read.properties).toMatchObject({ cacheSeconds: 5 });
    const imported = await plugin.read(T.dir, 'directory');
    expect(imported.id).toBe('directory');
    expect(imported.properties).toMatchObject({ url: 'ldaps://127.0.248.70:636', timeoutMs: 2000 });
    const bad = await rpcError(plugin.read(T.dir, 'ldap'));
    expect(bad.code).toBe(status.INVALID_ARGUMENT);
  });

  it('deletes: directory logins stop, and a second delete finds it already gone', async () => {
    await plugin.delete(T.dir, 'directory', state);
    await expect(client.getDirectory()).rejects.toMatchObject({ status: 404 });
    await plugin.delete(T.dir, 'directory', state);
    expect((await plugin.read(T.dir, 'directory')).id).toBe('');
  });

  it('never answered or logged the bind password in plain text', () => {
    expect(plugin.answers.flatMap(plainStrings)).not.toContain(BIND_PASSWORD);
    expect(plugin.stderr.join('\n')).not.toContain(BIND_PASSWORD);
  });
});
