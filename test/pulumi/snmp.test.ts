// Snmp through the real plugin process against a real appliance: Check refuses a community
// without its string (per property) and keeps every secret a secret; Create puts the
// settings (the agent answers snmpget with the community sent); Read shows a change made
// over the API (drift) and reads `snmp` for import; Delete turns SNMP off. No secret is
// ever answered or logged in plain text.
import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import type { ApplianceClient } from '../../openapi/sdk/index.js';
import type { TestAppliance } from '../helpers/appliance-process.js';
import { snmpTool } from '../helpers/snmp-tools.js';
import { isSecret, plainStrings, rpcError, secret, pluginOnAppliance, type Bag, type Plugin } from './helpers/plugin.js';

const SNMP = 'lbappliance:index:Snmp';
const AGENT = '127.0.252.40';
const AGENT_PORT = 16181;
const COMMUNITY = 'pulumi-community-8a7b';
const AUTH = 'pulumi-auth-secret-61';
const PRIV = 'pulumi-priv-secret-62';
const SECRETS = [COMMUNITY, AUTH, PRIV];

let app: TestAppliance;
let client: ApplianceClient;
let plugin: Plugin;

pluginOnAppliance((started) => ({ app, client, plugin } = started));

const ARGS: Bag = {
  enabled: true,
  listenAddress: AGENT,
  port: AGENT_PORT,
  location: 'Data centre A',
  communities: ['noc'],
  communityStrings: secret({ noc: COMMUNITY }),
  users: [{ name: 'nocv3', authProtocol: 'sha', privProtocol: 'aes' }],
  userAuthPasswords: secret({ nocv3: AUTH }),
  userPrivPasswords: secret({ nocv3: PRIV }),
};

describe('Snmp', () => {
  let created: { id: string; properties: Bag; inputs: Bag };

  it('fails Check on a community without its string and keeps the secrets secret', async () => {
    const bad = await plugin.check(SNMP, { ...ARGS, communityStrings: secret({}) });
    expect(bad.failures.map((f) => f.property)).toEqual(['communityStrings']);
    const good = await plugin.check(SNMP, { ...ARGS, communityStrings: { noc: COMMUNITY } });
    expect(good.failures).toEqual([]);
    expect(isSecret(good.inputs.communityStrings)).toBe(true);
    expect(good.inputs).toMatchObject({ port: AGENT_PORT, informRetries: 3, trapDestinations: [] });
  });

  it('creates the settings; the agent answers with the community sent', async () => {
    created = await plugin.checkAndCreate(SNMP, ARGS);
    expect(created.id).toBe('snmp');
    expect(created.properties).toMatchObject({ enabled: true, port: AGENT_PORT, communities: ['noc'] });
    expect(await client.getSnmpSettings()).toMatchObject({ enabled: true, communities: [{ name: 'noc' }], users: [{ name: 'nocv3' }] });
    const end = Date.now() + 30_000;
    let answer = await snmpTool('snmpget', `udp:${AGENT}:${AGENT_PORT}`, { community: COMMUNITY }, ['LBAPPLIANCE-MIB::lbVsCount.0']);
    while (!answer.ok && Date.now() < end) answer = await snmpTool('snmpget', `udp:${AGENT}:${AGENT_PORT}`, { community: COMMUNITY }, ['LBAPPLIANCE-MIB::lbVsCount.0']);
    expect(answer.stdout).toContain('Gauge32: 0');
  });

  it('reads a change made over the API as drift, and diffs it as an update', async () => {
    const { revision: _r, ...rest } = await client.getSnmpSettings();
    await client.replaceSnmpSettings({ ...rest, location: 'moved by hand' });
    const read = await plugin.read(SNMP, 'snmp', created.properties, created.inputs);
    expect(read.properties.location).toBe('moved by hand');
    const diff = await plugin.diff(SNMP, 'snmp', read.properties, created.inputs, { oldInputs: read.inputs ?? created.inputs });
    expect(diff.changes).toBe('some');
    expect(diff.detailed).toMatchObject({ location: 'UPDATE' });
    const imported = await plugin.read(SNMP, 'snmp');
    expect(imported.properties).toMatchObject({ location: 'moved by hand', communities: ['noc'] });
    const bad = await rpcError(plugin.read(SNMP, 'snmp-1'));
    expect(bad.code).toBe(status.INVALID_ARGUMENT);
  });

  it('deletes: SNMP off, nothing left', async () => {
    await plugin.delete(SNMP, 'snmp', created.properties);
    expect(await client.getSnmpSettings()).toMatchObject({ enabled: false, communities: [], users: [] });
  });

  it('never answered or logged a secret in plain text', () => {
    const plain = plugin.answers.flatMap(plainStrings);
    for (const s of SECRETS) {
      expect(plain).not.toContain(s);
      expect(plugin.stderr.join('\n')).not.toContain(s);
    }
  });
});
