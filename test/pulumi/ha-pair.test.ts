// HAPair through the real plugin process, against one appliance: the steps that need a
// formed pair run against the state such a pair has: Check, Diff (update in place, replace
// with delete-before-replace), previews, and the appliance's refusal (its peer cannot be
// reached: LB_PEER_UNREACHABLE) surfacing with its code and without the password; Read,
// import and Delete run against the real, standalone appliance. Pairing two real appliances
// is tested in test/ha/.
import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import type { ApplianceClient } from '../../openapi/sdk/index.js';
import type { TestAppliance } from '../helpers/appliance-process.js';
import { isSecret, plainStrings, rpcError, secret, pluginOnAppliance, T, UNKNOWN, type Bag, type Plugin } from './helpers/plugin.js';

const PEER_PASSWORD = 'secondary-password-0123';

let app: TestAppliance;
let client: ApplianceClient;
let plugin: Plugin;

pluginOnAppliance((started) => ({ app, client, plugin } = started));

const ARGS: Bag = { peerEndpoint: 'https://127.0.80.60:9443', peerPassword: secret(PEER_PASSWORD), deadTimeMs: 2000 };

/** The state of a formed pair, as Create would have returned it. */
const PAIRED: Bag = {
  peerEndpoint: 'https://127.0.80.60:9443',
  peerPassword: secret(PEER_PASSWORD),
  peerFingerprintSha256: 'AA:BB',
  localAddress: '127.0.80.59',
  heartbeatPort: 6694,
  replicationPort: 7778,
  heartbeatIntervalMs: 300,
  deadTimeMs: 2000,
  preferPrimary: false,
  state: 'paired',
  role: 'primary',
  localEndpoint: 'https://127.0.80.59:9443',
  peerAddress: '127.0.80.60',
  pairedAt: '2026-11-01T00:00:00Z',
};

describe('HAPair', () => {
  let inputs: Bag;

  it('fails Check per property and keeps the peer password a secret', async () => {
    const bad = await plugin.check(T.ha, { peerEndpoint: 'http://127.0.80.60:9443', deadTimeMs: -1 });
    expect([...new Set(bad.failures.map((f) => f.property))].sort()).toEqual(['deadTimeMs', 'peerEndpoint', 'peerPassword']);
    const good = await plugin.check(T.ha, { ...ARGS, peerPassword: PEER_PASSWORD });
    expect(good.failures).toEqual([]);
    expect(isSecret(good.inputs.peerPassword)).toBe(true);
    expect(good.inputs).toMatchObject({ heartbeatPort: 6694, replicationPort: 7778, deadTimeMs: 2000, preferPrimary: false });
    inputs = good.inputs;
  });

  it('previews pairing with an unknown peer without touching the appliance', async () => {
    const before = (await client.listVirtualServices()).revision;
    const planned = await plugin.create(T.ha, { ...inputs, peerEndpoint: UNKNOWN }, { preview: true });
    expect(planned.properties).toMatchObject({ peerEndpoint: UNKNOWN, state: UNKNOWN, deadTimeMs: 2000 });
    expect(isSecret(planned.properties.peerPassword)).toBe(true);
    const update = await plugin.update(T.ha, 'ha-pair', PAIRED, { ...inputs, deadTimeMs: UNKNOWN }, { preview: true });
    expect(update.properties).toMatchObject({ deadTimeMs: UNKNOWN, state: 'paired', peerFingerprintSha256: 'AA:BB' });
    expect((await client.getHaPair()).state).toBe('standalone');
    expect((await client.listVirtualServices()).revision).toBe(before);
  });

  it('diffs timers in place, a new peer as a replacement that must delete first, and ignores the used password', async () => {
    expect((await plugin.diff(T.ha, 'ha-pair', PAIRED, inputs)).changes).toBe('none');
    const timers = await plugin.diff(T.ha, 'ha-pair', PAIRED, { ...inputs, deadTimeMs: 3000, preferPrimary: true });
    expect(timers).toMatchObject({ replaces: [], detailed: { deadTimeMs: 'UPDATE', preferPrimary: 'UPDATE' } });
    const peer = await plugin.diff(T.ha, 'ha-pair', PAIRED, { ...inputs, peerEndpoint: 'https://127.0.80.61:9443' });
    expect(peer).toMatchObject({ replaces: ['peerEndpoint'], detailed: { peerEndpoint: 'UPDATE_REPLACE' }, deleteBeforeReplace: true });
    expect((await plugin.diff(T.ha, 'ha-pair', PAIRED, { ...inputs, peerPassword: secret('another-password-99') })).changes).toBe('none');
  });

  it("surfaces the appliance's refusal to pair with its code, never the password", async () => {
    const err = await rpcError(plugin.create(T.ha, inputs));
    expect(err.code).toBe(status.UNKNOWN);
    expect(err.details).toMatch(/^creating HAPair: .*\[LB_PEER_UNREACHABLE\]$/);
    expect(err.details).not.toContain(PEER_PASSWORD);
  });

  it('reads a standalone appliance as no pair, for refresh and for import', async () => {
    expect((await plugin.read(T.ha, 'ha-pair', PAIRED, inputs)).id).toBe('');
    expect((await plugin.read(T.ha, 'ha-pair')).id).toBe('');
    const bad = await rpcError(plugin.read(T.ha, 'pair-1'));
    expect(bad.code).toBe(status.INVALID_ARGUMENT);
    expect(bad.details).toMatch(/must be "ha-pair" \[LBP_BAD_IMPORT_ID\]/);
  });

  it('fails an update of a pair that is gone with the appliance code, and deletes it as already gone', async () => {
    const err = await rpcError(plugin.update(T.ha, 'ha-pair', PAIRED, { ...inputs, deadTimeMs: 3000 }));
    expect(err.code).toBe(status.NOT_FOUND);
    expect(err.details).toMatch(/\[LB_NOT_FOUND\]/);
    await plugin.delete(T.ha, 'ha-pair', PAIRED);
  });

  it('never answered or logged the peer password in plain text', () => {
    expect(plugin.answers.flatMap(plainStrings)).not.toContain(PEER_PASSWORD);
    expect(plugin.stderr.join('\n')).not.toContain(PEER_PASSWORD);
  });
});
