// SyslogCollector and AlertMail through the real plugin process (issue 18 item 5): Check
// refuses inconsistent settings per property, create fills the contract's defaults, a clean
// diff, an update in place, drift, import by id, delete. The SMTP password is a secret in
// every answer the plugin gives and never in its log.
import { describe, expect, it } from 'vitest';
import type { ApplianceClient } from '../../openapi/sdk/index.js';
import type { TestAppliance } from '../helpers/appliance-process.js';
import { isSecret, plainStrings, secret, pluginOnAppliance, T, type Bag, type Plugin } from './helpers/plugin.js';

const PASSWORD = 'smtp-Password-pulumi-5c1e';
let app: TestAppliance;
let client: ApplianceClient;
let plugin: Plugin;

pluginOnAppliance((started) => ({ app, client, plugin } = started));

describe('SyslogCollector', () => {
  let id: string;
  let state: Bag;
  let inputs: Bag;

  it('fails Check on a tls collector without caPem', async () => {
    const { failures } = await plugin.check(T.syslog, { label: 'noc', host: '127.0.250.1', transport: 'tls' });
    expect(failures).toEqual([{ property: 'caPem', reason: expect.stringMatching(/needs ca_pem|needs caPem|\[LB_INVALID_COMBINATION\]/) }]);
  });

  it('creates one with the defaults, diffs clean, updates in place, reads drift, imports and deletes', async () => {
    const created = await plugin.checkAndCreate(T.syslog, { label: 'noc', host: '127.0.250.1', port: 15540, transport: 'tcp' });
    ({ id, properties: state, inputs } = created);
    expect(id).toMatch(/^syslog-[0-9a-f]{12}$/);
    expect(state).toMatchObject({ label: 'noc', transport: 'tcp', facility: 'local0', minSeverity: 'info', queueSize: 10000 });
    expect((await plugin.diff(T.syslog, id, state, inputs)).changes).toBe('none');
    const news = { ...inputs, facility: 'local5' };
    expect((await plugin.diff(T.syslog, id, state, news)).detailed).toEqual({ facility: 'UPDATE' });
    state = (await plugin.update(T.syslog, id, state, news)).properties;
    inputs = news;
    expect(await client.getSyslogCollector(id)).toMatchObject({ facility: 'local5' });
    const { id: _id, ...spec } = await client.getSyslogCollector(id);
    await client.replaceSyslogCollector(id, { ...spec, minSeverity: 'warning' });
    const read = await plugin.read(T.syslog, id, state, inputs);
    expect(read.properties).toMatchObject({ minSeverity: 'warning' });
    expect((await plugin.diff(T.syslog, id, read.properties, inputs)).changes).toBe('some');
    const imported = await plugin.read(T.syslog, id);
    expect(imported.properties).toMatchObject({ label: 'noc', facility: 'local5' });
    await plugin.delete(T.syslog, id, state);
    expect((await client.listSyslogCollectors()).items).toEqual([]);
  });
});

describe('AlertMail', () => {
  it('sets the alerts with the password as a secret, updates, imports and deletes', async () => {
    const bad = await plugin.check(T.mail, { host: '127.0.250.10', from: 'lb@lbappliance.test', to: ['oncall@hospital.test'], password: secret(PASSWORD) });
    expect(bad.failures.map((f) => f.property)).toEqual(['password']);
    const created = await plugin.checkAndCreate(T.mail, { host: '127.0.250.10', port: 2599, username: 'alerts', password: secret(PASSWORD), from: 'lb@lbappliance.test', to: ['oncall@hospital.test'] });
    expect(created.id).toBe('alert-mail');
    expect(created.properties).toMatchObject({ host: '127.0.250.10', security: 'starttls', maxPerHour: 30, passwordSet: true });
    expect(isSecret(created.properties.password)).toBe(true);
    expect(await client.getAlertMail()).toMatchObject({ enabled: true, passwordSet: true, username: 'alerts' });
    const news = { ...created.inputs, maxPerHour: 5 };
    const updated = (await plugin.update(T.mail, created.id, created.properties, news)).properties;
    expect(updated).toMatchObject({ maxPerHour: 5, passwordSet: true });
    const imported = await plugin.read(T.mail, 'alert-mail');
    expect(imported.properties).toMatchObject({ maxPerHour: 5 });
    expect(imported.properties).not.toHaveProperty('password');
    await plugin.delete(T.mail, created.id, updated);
    expect(await client.getAlertMail()).toEqual({ enabled: false, passwordSet: false });
  });

  it('never answered the password in plain text, and never logged it', () => {
    expect(plugin.answers.flatMap(plainStrings).join('\n')).not.toContain(PASSWORD);
    expect(plugin.stderr.join('\n')).not.toContain(PASSWORD);
  });
});
