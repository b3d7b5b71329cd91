// VirtualService and RealServer through the real plugin process, as the engine drives them:
// Check (failures per property, defaults filled), a preview with unknown inputs that never
// reaches the appliance, Create, Diff (no change, update, replace), Read after a change made
// out of band through the SDK, import by id with no state, Update, and Delete. The appliance
// is checked through the SDK after each step.
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApplianceClient } from '../../openapi/sdk/index.js';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';
import { rpcError, startPlugin, T, UNKNOWN, type Bag, type Plugin } from './helpers/plugin.js';

let app: TestAppliance;
let client: ApplianceClient;
let plugin: Plugin;

beforeAll(async () => {
  // debug: the appliance logs every request, so a test can show that none was made.
  [app, plugin] = await Promise.all([startTestAppliance({ env: { LBAPPLIANCE_LOG_LEVEL: 'debug' } }), startPlugin()]);
  client = app.client();
  await plugin.configureFor(app);
});
afterAll(async () => {
  await plugin?.stop();
  await app?.dispose();
});

/** The appliance's request log lines so far, but for the revision reads the test makes itself. */
function requestLines(): string[] {
  return app.output.filter((l) => l.includes('"msg":"request"') && !l.includes('"operationId":"listVirtualServices"'));
}

async function revision(): Promise<number> {
  return (await client.listVirtualServices()).revision;
}

const AQI: Bag = { label: 'pu-aqi', ipAddress: '127.0.80.1', ports: [1200], protocol: 'tcp', persistence: { mode: 'source-ip' }, timeouts: { client: 92, server: 93 } };

describe('VirtualService', () => {
  let id: string;
  let state: Bag;
  let inputs: Bag;

  it('fails Check per property, naming each one with a stable code', async () => {
    const { failures } = await plugin.check(T.vs, { label: '', ipAddress: '10.0.0.999', ports: [0, 80], protocol: 'sctp', healthCheck: { port: 70000 }, colour: 'red' });
    const byProperty = Object.fromEntries(failures.map((f) => [f.property, f.reason]));
    expect(Object.keys(byProperty).sort()).toEqual(['colour', 'healthCheck.port', 'ipAddress', 'label', 'ports[0]', 'protocol'].sort());
    expect(byProperty.protocol).toMatch(/must be one of "http", "http2", "tcp", "udp".*\[LBP_INVALID_VALUE\]$/);
    expect(byProperty.colour).toMatch(/\[LBP_UNKNOWN_PROPERTY\]$/);
    const missing = await plugin.check(T.vs, { label: 'x', ports: [80], protocol: 'http2' });
    expect(missing.failures.map((f) => f.property)).toEqual(['ipAddress']);
    const rule = await plugin.check(T.vs, { label: 'x', ipAddress: '127.0.80.9', ports: [443], protocol: 'http2' });
    expect(rule.failures).toEqual([{ property: 'certificateId', reason: expect.stringMatching(/\[LB_CERTIFICATE_REQUIRED\]$/) }]);
  });

  it('fills the contract defaults in Check, keeping what the program set', async () => {
    const { inputs: checked, failures } = await plugin.check(T.vs, AQI);
    expect(failures).toEqual([]);
    expect(checked).toMatchObject({ ...AQI, algorithm: 'roundrobin', enabled: true, forceHttps: false, persistence: { mode: 'source-ip', cookieName: 'SERVERID', timeout: 1800 }, timeouts: { client: 92, server: 93, connect: 4, httpRequest: 10 }, healthCheck: { type: 'connect', interval: 5 } });
    expect(checked).not.toHaveProperty('id');
  });

  it('answers a preview with unknown inputs without touching the appliance', async () => {
    const before = await revision();
    const seen = requestLines().length;
    const checked = await plugin.check(T.vs, { ...AQI, ipAddress: UNKNOWN, ports: [UNKNOWN] });
    expect(checked.failures).toEqual([]);
    expect(checked.inputs.ipAddress).toBe(UNKNOWN);
    const planned = await plugin.create(T.vs, checked.inputs, { preview: true });
    expect(planned.id).toBe('');
    expect(planned.properties).toMatchObject({ label: 'pu-aqi', ipAddress: UNKNOWN, ports: [UNKNOWN], algorithm: 'roundrobin' });
    const diff = await plugin.diff(T.vs, 'vs-000000000000', { ...checked.inputs, ipAddress: '127.0.80.1', ports: [1200] }, checked.inputs);
    expect(diff.changes).toBe('some');
    expect(diff.detailed).toEqual({ ipAddress: 'UPDATE', ports: 'UPDATE' });
    expect(requestLines()).toHaveLength(seen);
    expect(await revision()).toBe(before);
  });

  it('creates it, with every output and the id the appliance gave', async () => {
    const created = await plugin.checkAndCreate(T.vs, AQI);
    ({ id, inputs } = created);
    state = created.properties;
    expect(id).toMatch(/^vs-[0-9a-f]{12}$/);
    expect(state).toMatchObject({ label: 'pu-aqi', ipAddress: '127.0.80.1', ports: [1200], protocol: 'tcp', timeouts: { client: 92, server: 93 } });
    expect(await client.getVirtualService(id)).toMatchObject({ label: 'pu-aqi', persistence: { mode: 'source-ip' }, timeouts: { client: 92, server: 93 } });
  });

  it('diffs no change against its own inputs', async () => {
    const diff = await plugin.diff(T.vs, id, state, inputs, { oldInputs: inputs });
    expect(diff).toMatchObject({ changes: 'none', diffs: [], replaces: [] });
  });

  it('diffs an update in place, with the nested property that changed', async () => {
    const { inputs: news } = await plugin.check(T.vs, { ...AQI, timeouts: { client: 120, server: 93 }, algorithm: 'leastconn' }, inputs);
    const diff = await plugin.diff(T.vs, id, state, news);
    expect(diff).toMatchObject({ changes: 'some', replaces: [], detailed: { 'timeouts.client': 'UPDATE', algorithm: 'UPDATE' } });
    expect(diff.diffs.sort()).toEqual(['algorithm', 'timeouts']);
    const ignoring = await plugin.diff(T.vs, id, state, news, { ignoreChanges: ['algorithm', 'timeouts.client'] });
    expect(ignoring.changes).toBe('none');
    const updated = await plugin.update(T.vs, id, state, news);
    expect(updated.properties).toMatchObject({ algorithm: 'leastconn', timeouts: { client: 120, server: 93 } });
    expect(await client.getVirtualService(id)).toMatchObject({ algorithm: 'leastconn', timeouts: { client: 120 } });
    state = updated.properties;
    inputs = news;
    expect((await plugin.diff(T.vs, id, state, inputs)).changes).toBe('none');
  });

  it('previews an update without touching the appliance', async () => {
    const before = await revision();
    const seen = requestLines().length;
    const planned = await plugin.update(T.vs, id, state, { ...inputs, label: UNKNOWN }, { preview: true });
    expect(planned.properties).toMatchObject({ label: UNKNOWN, algorithm: 'leastconn', ipAddress: '127.0.80.1' });
    expect(requestLines()).toHaveLength(seen);
    expect(await revision()).toBe(before);
  });

  it('reads a change made out of band, and the next diff undoes it', async () => {
    await client.updateVirtualService(id, { algorithm: 'roundrobin', enabled: false });
    const read = await plugin.read(T.vs, id, state, inputs);
    expect(read.id).toBe(id);
    expect(read.properties).toMatchObject({ algorithm: 'roundrobin', enabled: false, label: 'pu-aqi' });
    expect(read.inputs).toEqual(inputs);
    const diff = await plugin.diff(T.vs, id, read.properties, inputs);
    expect(diff.detailed).toEqual({ algorithm: 'UPDATE', enabled: 'UPDATE' });
    state = (await plugin.update(T.vs, id, read.properties, inputs)).properties;
    expect(await client.getVirtualService(id)).toMatchObject({ algorithm: 'leastconn', enabled: true });
  });

  it('imports by id with no prior state, returning inputs that diff clean', async () => {
    const imported = await plugin.read(T.vs, id);
    expect(imported.id).toBe(id);
    expect(imported.properties).toMatchObject({ label: 'pu-aqi', algorithm: 'leastconn' });
    // Only what differs from the defaults: what a user would write.
    expect(imported.inputs).toEqual({ label: 'pu-aqi', ipAddress: '127.0.80.1', ports: [1200], protocol: 'tcp', algorithm: 'leastconn', persistence: expect.objectContaining({ mode: 'source-ip' }), timeouts: expect.objectContaining({ client: 120, server: 93 }) });
    const { inputs: checked } = await plugin.check(T.vs, imported.inputs!);
    expect((await plugin.diff(T.vs, id, imported.properties, checked)).changes).toBe('none');
    expect(await plugin.read(T.vs, 'vs-0123456789ab')).toMatchObject({ id: '' });
    const bad = await rpcError(plugin.read(T.vs, 'AVS'));
    expect(bad.code).toBe(status.INVALID_ARGUMENT);
    expect(bad.details).toMatch(/\[LBP_BAD_IMPORT_ID\]/);
  });

  it('asks to delete before replacing when a replacement would clash on its label or address', async () => {
    const diff = await plugin.diff(T.vs, id, state, inputs);
    expect(diff.deleteBeforeReplace).toBe(true);
    const moved = await plugin.diff(T.vs, id, state, { ...inputs, label: 'pu-aqi-2', ipAddress: '127.0.80.2' });
    expect(moved.deleteBeforeReplace).toBe(false);
  });

  it('reports an appliance refusal on the property it names', async () => {
    const other = await plugin.checkAndCreate(T.vs, { label: 'pu-other', ipAddress: '127.0.80.3', ports: [8080], protocol: 'http' }, 'other');
    const clash = await rpcError(plugin.create(T.vs, { ...other.inputs, label: 'pu-aqi', ipAddress: '127.0.80.4' }));
    expect(clash.code).toBe(status.FAILED_PRECONDITION);
    expect(clash.details).toMatch(/^creating VirtualService: label: .*\[LB_LABEL_IN_USE\]$/);
    await plugin.delete(T.vs, other.id, other.properties);
  });

  describe('RealServer', () => {
    let rsId: string;
    let rsState: Bag;
    let rsInputs: Bag;

    it('fails Check per property', async () => {
      const { failures } = await plugin.check(T.rs, { virtualServiceId: 'AVS', label: 'S1', address: 'not an address!', weight: 1000 });
      expect(failures.map((f) => f.property).sort()).toEqual(['address', 'virtualServiceId', 'weight']);
    });

    it('creates a server in the virtual service, with the pair of ids as its id', async () => {
      const created = await plugin.checkAndCreate(T.rs, { virtualServiceId: id, label: 'SERVER1', address: '127.0.80.11', port: 1200 });
      ({ id: rsId, properties: rsState, inputs: rsInputs } = created);
      expect(rsId).toMatch(new RegExp(`^${id}/rs-[0-9a-f]{12}$`));
      expect(rsState).toMatchObject({ virtualServiceId: id, label: 'SERVER1', weight: 100, adminState: 'online', drainTimeout: 30 });
      expect((await client.listRealServers(id)).items).toMatchObject([{ label: 'SERVER1', address: '127.0.80.11', port: 1200 }]);
    });

    it('diffs no change, then an update, then a replacement when its virtual service changes', async () => {
      expect((await plugin.diff(T.rs, rsId, rsState, rsInputs)).changes).toBe('none');
      const heavier = await plugin.diff(T.rs, rsId, rsState, { ...rsInputs, weight: 50 });
      expect(heavier).toMatchObject({ changes: 'some', replaces: [], detailed: { weight: 'UPDATE' } });
      const moved = await plugin.diff(T.rs, rsId, rsState, { ...rsInputs, virtualServiceId: 'vs-0123456789ab' });
      expect(moved).toMatchObject({ replaces: ['virtualServiceId'], detailed: { virtualServiceId: 'UPDATE_REPLACE' }, deleteBeforeReplace: false });
      const unknownVip = await plugin.diff(T.rs, rsId, rsState, { ...rsInputs, virtualServiceId: UNKNOWN });
      expect(unknownVip.replaces).toEqual(['virtualServiceId']);
    });

    it('updates in place and reads drift back', async () => {
      rsState = (await plugin.update(T.rs, rsId, rsState, { ...rsInputs, weight: 50 })).properties;
      rsInputs = { ...rsInputs, weight: 50 };
      expect(rsState).toMatchObject({ weight: 50 });
      const serverId = rsId.split('/')[1]!;
      await client.updateRealServer(id, serverId, { adminState: 'halt' });
      const read = await plugin.read(T.rs, rsId, rsState, rsInputs);
      expect(read.properties).toMatchObject({ adminState: 'halt', weight: 50 });
      expect((await plugin.diff(T.rs, rsId, read.properties, rsInputs)).detailed).toEqual({ adminState: 'UPDATE' });
      rsState = (await plugin.update(T.rs, rsId, read.properties, rsInputs)).properties;
      expect((await client.getRealServer(id, serverId)).adminState).toBe('online');
    });

    it('imports by its pair of ids with no prior state', async () => {
      const imported = await plugin.read(T.rs, rsId);
      expect(imported.id).toBe(rsId);
      expect(imported.inputs).toEqual({ virtualServiceId: id, label: 'SERVER1', address: '127.0.80.11', port: 1200, weight: 50 });
    });

    it('deletes the server (draining first), and a second delete is fine', async () => {
      await plugin.delete(T.rs, rsId, { ...rsState, drainTimeout: 2 });
      expect((await client.listRealServers(id)).items).toEqual([]);
      await plugin.delete(T.rs, rsId, rsState);
      expect(await plugin.read(T.rs, rsId, rsState, rsInputs)).toMatchObject({ id: '' });
    });
  });

  it('deletes the virtual service; reading it then says it is gone', async () => {
    await plugin.delete(T.vs, id, state);
    expect((await client.listVirtualServices()).items).toEqual([]);
    expect((await plugin.read(T.vs, id, state, inputs)).id).toBe('');
  });
});
