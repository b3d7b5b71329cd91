// The SDK against live appliances and real sockets: trust (caPem vs insecure), typed errors,
// and retries of idempotent calls only.
import { readFile } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplianceClient, ApplianceConnectionError, asReadBack, ApplianceSdkError, ApplianceTrustError, ConflictError, NotFoundError, UnauthorizedError, ValidationError } from '../../openapi/sdk/index.js';
import { operationTable } from '../../openapi/generated/operations.js';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';

let app: TestAppliance;

beforeAll(async () => {
  app = await startTestAppliance();
});
afterAll(async () => app?.dispose());

describe('SDK', () => {
  it('trusts the appliance through caPem, and refuses its self-signed certificate without it', async () => {
    const caPem = await readFile(join(app.dataDir, 'tls', 'api.crt'), 'utf8');
    const trusted = new ApplianceClient({ endpoint: app.endpoint, username: 'loadbalancer', password: app.password, caPem });
    await expect(trusted.getHealth()).resolves.toMatchObject({ status: 'ok' });
    await trusted.close();
    const strict = new ApplianceClient({ endpoint: app.endpoint, username: 'loadbalancer', password: app.password, retries: 1 });
    const err = await strict.getHealth().catch((e: unknown) => e);
    // Reachable but untrusted: its own error, naming the settings that fix it (not "cannot reach").
    expect(err).toBeInstanceOf(ApplianceTrustError);
    expect(err).toBeInstanceOf(ApplianceConnectionError);
    expect((err as ApplianceTrustError).code).toBe('LB_SDK_UNTRUSTED_CERTIFICATE');
    expect((err as ApplianceTrustError).tlsCode).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    expect(String((err as Error).message)).toMatch(/does not trust \(DEPTH_ZERO_SELF_SIGNED_CERT\): pass its certificate as caPem .* or set insecure/);
    expect(String((err as Error).message)).not.toMatch(/cannot reach/);
    await strict.close();
  });

  it('uses the administrator loadbalancer when only a password is given, as every other client does', async () => {
    const byPassword = new ApplianceClient({ endpoint: app.endpoint, password: app.password, insecure: true });
    await expect(byPassword.getConfig()).resolves.toMatchObject({ revision: expect.any(Number) });
    await byPassword.close();
    const wrong = new ApplianceClient({ endpoint: app.endpoint, password: 'not-the-password-at-all', insecure: true });
    await expect(wrong.getConfig()).rejects.toBeInstanceOf(UnauthorizedError);
    await wrong.close();
  });

  it('throws typed errors carrying the problem document', async () => {
    const client = app.client();
    const notFound = await client.getVirtualService('vs-00000000dead').catch((e: unknown) => e);
    expect(notFound).toBeInstanceOf(NotFoundError);
    expect(notFound).toBeInstanceOf(ApplianceSdkError);
    expect((notFound as NotFoundError).problem).toMatchObject({ status: 404, code: 'LB_NOT_FOUND', instance: '/api/v1/virtual-services/vs-00000000dead' });
    const invalid = (await client.createVirtualService({ label: 'x', ipAddress: 'nope', ports: [80], protocol: 'http' }).catch((e: unknown) => e)) as ValidationError;
    expect(invalid).toBeInstanceOf(ValidationError);
    expect(invalid.field).toBe('/ipAddress');
    expect(invalid.operationId).toBe('createVirtualService');
    await client.createVirtualService({ label: 'one', ipAddress: '127.0.50.1', ports: [80], protocol: 'http' });
    await expect(client.createVirtualService({ label: 'one', ipAddress: '127.0.50.2', ports: [80], protocol: 'http' })).rejects.toBeInstanceOf(ConflictError);
  });

  it('names path parameters after their objects, and still takes the former names in request()', async () => {
    const client = app.client();
    const vs = await client.createVirtualService({ label: 'named-params', ipAddress: '127.0.205.30', ports: [80], protocol: 'http' });
    const rs = await client.createRealServer(vs.id, { label: 'r1', address: '127.0.205.31', port: 80 });
    // One scheme across the contract: {virtualServiceId}, {realServerId}, {certificateId}.
    expect(operationTable.getRealServer.path).toBe('/api/v1/virtual-services/{virtualServiceId}/real-servers/{realServerId}');
    expect(operationTable.getCertificate.pathParams).toEqual(['certificateId']);
    const named = await client.request('getRealServer', { path: { virtualServiceId: vs.id, realServerId: rs.id } });
    const former = await client.request('getRealServer', { path: { id: vs.id, rsId: rs.id } });
    expect(former.body).toEqual(named.body);
    expect(former.etag).toBe(named.etag);
    // A missing object names the parameter by its new name.
    await expect(client.getRealServer(vs.id, 'rs-00000000dead')).rejects.toMatchObject({ status: 404, field: 'realServerId' });
    await client.deleteVirtualService(vs.id);
  });

  it('retries idempotent calls on connection errors, and never retries a POST', async () => {
    // A TCP front that resets the first two connections and then relays to the appliance.
    const target = new URL(app.endpoint);
    let accepted = 0;
    const sockets = new Set<Socket>();
    const front = createServer((socket) => {
      sockets.add(socket);
      accepted += 1;
      if (accepted <= 2) {
        socket.resetAndDestroy();
        return;
      }
      const upstream = connect(Number(target.port), target.hostname);
      socket.pipe(upstream).pipe(socket);
      upstream.on('error', () => socket.destroy());
      socket.on('error', () => upstream.destroy());
    });
    await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
    const port = (front.address() as { port: number }).port;
    try {
      const client = new ApplianceClient({ endpoint: `https://127.0.0.1:${port}`, username: 'loadbalancer', password: app.password, insecure: true, retries: 3 });
      await expect(client.listVirtualServices()).resolves.toMatchObject({ items: expect.any(Array) });
      expect(accepted).toBe(3);
      await client.close();
      accepted = 0;
      const posting = new ApplianceClient({ endpoint: `https://127.0.0.1:${port}`, username: 'loadbalancer', password: app.password, insecure: true, retries: 3 });
      const err = await posting.createVirtualService({ label: 'never', ipAddress: '127.0.50.3', ports: [80], protocol: 'http' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApplianceConnectionError);
      expect(accepted).toBe(1);
      await posting.close();
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => front.close(r));
    }
  });

  it('reports an unreachable endpoint as ApplianceConnectionError after its retries', async () => {
    const client = new ApplianceClient({ endpoint: 'https://127.0.0.1:1', username: 'loadbalancer', password: 'x', insecure: true, retries: 2 });
    const started = Date.now();
    const err = await client.getOverview().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplianceConnectionError);
    expect((err as Error).message).toMatch(/ECONNREFUSED/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    await client.close();
  });
});

describe('the contract\'s defaults in the SDK', () => {
  // What a plan compares: the writable properties of a read object against asReadBack of the body.
  const pick = (read: object, like: Record<string, unknown>) => Object.fromEntries(Object.keys(like).map((k) => [k, (read as Record<string, unknown>)[k]]));

  it('asReadBack is what the appliance reads back: every default filled in, no secret', async () => {
    const client = app.client();
    const vsBody = { label: 'defaults-vip', ipAddress: '127.0.134.200', ports: [8443], protocol: 'http' as const };
    const vs = await client.createVirtualService(vsBody);
    const expected = asReadBack('VirtualServiceInput', { ...vsBody, certificateId: null });
    // The defaults reach into every nested settings object (a default added to the contract arrives here too).
    expect(expected).toMatchObject({ forwarding: 'proxy', persistence: { mode: 'none' }, healthCheck: { type: 'connect', agent: { port: null } }, timeouts: { client: 600 }, limits: { whenFull: 'queue' }, tls: { minVersion: 'TLSv1.2' } });
    expect(pick(vs, expected)).toEqual(expected);
    const rsBody = { label: 'defaults-rs', address: '127.0.134.201' };
    const rs = await client.createRealServer(vs.id, rsBody);
    const rsExpected = asReadBack('RealServerInput', rsBody);
    expect(Object.keys(rsExpected).sort()).toEqual(['address', 'adminState', 'backup', 'label', 'maxConnections', 'port', 'reEncrypt', 'weight']);
    expect(pick(rs, rsExpected)).toEqual(rsExpected);
    const snmpBody = { enabled: false, communities: [{ name: 'noc', community: 'n0c-read-only' }], users: [{ name: 'nocv3', authPassword: 'auth-pass-1', privPassword: 'priv-pass-1' }], trapDestinations: [{ name: 'nms', address: '127.0.134.202', version: 'v2c' as const, community: 'trap-pass-1' }] };
    const snmp = await client.replaceSnmpSettings(snmpBody);
    const snmpExpected = asReadBack('SnmpSettingsInput', snmpBody);
    expect(snmpExpected).toMatchObject({ users: [{ name: 'nocv3', authProtocol: 'sha', privProtocol: 'aes' }], trapDestinations: [{ port: 162, user: null }] });
    expect(JSON.stringify(snmpExpected)).not.toMatch(/pass-1|n0c-read-only/);
    expect(pick(snmp, snmpExpected)).toEqual(snmpExpected);
    await client.deleteVirtualService(vs.id);
    await client.replaceSnmpSettings({ enabled: false });
  });
});
