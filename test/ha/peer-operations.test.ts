// The operations a node answers for its peer, and the bodiless pair operations, refused
// cleanly (issue 19, defects the contract fuzz found): a refused joinHaPair leaves the node
// standalone with its VIP serving (it used to switch the engine off before checking the
// settings); a replicated revision the secondary cannot take is refused with the field and
// changes nothing (it used to be stored, then answered 500); a body sent to an operation that
// takes none gets the 400 its contract declares, and nothing happens. One appliance with the
// embedded engine and a VIP carrying traffic; it joins an imaginary primary (nothing listens
// there: the node simply never hears it) and leaves again.
import { createSocket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveKeys } from '../../appliance/ha/pair-keys.js';
import { operationTable } from '../../openapi/generated/operations.js';
import { specDocument } from '../../openapi/generated/spec.js';
import type { TestAppliance } from '../helpers/appliance-process.js';
import { closeAgents, send, type FuzzResponse } from '../helpers/contract-probe.js';
import { startHttpBackend, type HttpBackend } from '../engine/helpers/backends.js';
import { get } from '../engine/helpers/traffic.js';
import { startNode, until } from './helpers/pair.js';

// This file's addresses (127.0.200.x: no other suite uses them).
const net = { node: '127.0.200.1', primary: '127.0.200.3', vip: '127.0.200.10', backend: '127.0.200.20' };
const PASSWORD = 'peer-ops-password-0123456';
const basic = `Basic ${Buffer.from(`loadbalancer:${PASSWORD}`).toString('base64')}`;

let node: TestAppliance;
let backend: HttpBackend;

/** A join as the primary sends it; `settings` replaces the defaults given here. */
function joinBody(settings: Record<string, unknown> = {}) {
  return {
    pairId: 'a'.repeat(32),
    key: 'b'.repeat(43),
    primaryEndpoint: `https://${net.primary}:1`,
    primaryFingerprintSha256: Array.from({ length: 32 }, () => 'AB').join(':'),
    primaryAddress: net.primary,
    secondaryAddress: net.node,
    secondaryEndpoint: node.endpoint,
    settings: { heartbeatPort: 46710, replicationPort: 47710, heartbeatIntervalMs: 300, deadTimeMs: 60_000, preferPrimary: false, ...settings },
    pairedAt: new Date().toISOString(),
    term: 1,
  };
}

/** The statuses the contract declares for an operation. */
function declared(id: keyof typeof operationTable): number[] {
  const op = operationTable[id];
  const item = (specDocument.paths as Record<string, Record<string, { responses: Record<string, unknown> }>>)[op.path];
  return Object.keys(item?.[op.method.toLowerCase()]?.responses ?? {}).map(Number);
}

const token = () => deriveKeys('b'.repeat(43), 'a'.repeat(32)).apiToken;

function call(method: string, path: string, authorization: string, body?: unknown): Promise<FuzzResponse> {
  return send(node.endpoint, {
    method,
    path,
    headers: { authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    who: 'the test',
    note: '',
  } as never);
}

const problem = (res: FuzzResponse) => ({ ...(JSON.parse(res.text) as { code: string; field?: string }), status: res.status, contentType: res.headers['content-type'] });
const revisionOf = async () => (JSON.parse((await call('GET', '/api/v1/revisions', basic)).text) as { current: number }).current;
const haStateOf = async () => (JSON.parse((await call('GET', '/api/v1/ha-pair', basic)).text) as { state: string }).state;

beforeAll(async () => {
  [node, backend] = await Promise.all([startNode(net.node, PASSWORD), startHttpBackend({ name: 'rs1', host: net.backend, port: 8080 })]);
  const c = node.client({ password: PASSWORD });
  const vs = await c.createVirtualService({ label: 'PEER-OPS', ipAddress: net.vip, ports: [8080], protocol: 'http' });
  await c.createRealServer(vs.id, { label: 'rs1', address: net.backend, port: 8080 });
  await until('the VIP serving', async () => (await get(`http://${net.vip}:8080/`)).status === 200);
}, 60_000);

afterAll(async () => {
  await closeAgents();
  await Promise.all([node?.dispose(), backend?.close()]);
});

describe('a standalone node', () => {
  it('refuses a join whose settings break the dead-time rule with 422 naming the field, and keeps serving its VIP', async () => {
    const before = await revisionOf();
    const res = await call('POST', '/api/v1/ha-pair/peer/join', basic, joinBody({ heartbeatIntervalMs: 1000, deadTimeMs: 1500 }));
    // Nothing changed: still standalone, the engine still active, the VIP still answering.
    for (let i = 0; i < 5; i++) expect((await get(`http://${net.vip}:8080/`)).status).toBe(200);
    expect(await haStateOf()).toBe('standalone');
    expect(await revisionOf()).toBe(before);
    const overview = JSON.parse((await call('GET', '/api/v1/overview', basic)).text) as { node: { haState: string } };
    expect(overview.node.haState).toBe('standalone');
    expect(problem(res)).toMatchObject({ status: 422, contentType: expect.stringMatching(/^application\/problem\+json/), code: 'LB_INVALID_COMBINATION', field: '/settings/deadTimeMs' });
  });

  it('refuses a join whose heartbeat port is taken with 409 naming the field, undoes it, and keeps serving its VIP', async () => {
    const taken = createSocket('udp4');
    await new Promise<void>((resolve) => taken.bind(46799, net.node, resolve));
    try {
      const res = await call('POST', '/api/v1/ha-pair/peer/join', basic, joinBody({ heartbeatPort: 46799 }));
      for (let i = 0; i < 5; i++) expect((await get(`http://${net.vip}:8080/`)).status).toBe(200);
      expect(await haStateOf()).toBe('standalone');
      expect(problem(res)).toMatchObject({ status: 409, code: 'LB_ADDRESS_IN_USE', field: '/settings/heartbeatPort' });
    } finally {
      taken.close();
    }
  });

  it('refuses a peer\'s flow state with 401 while in no pair (no pair token exists)', async () => {
    const res = await call('PUT', '/api/v1/ha-pair/peer/flow-state', `Bearer ${token()}`, { virtualServices: [] });
    expect(problem(res)).toMatchObject({ status: 401, code: 'LB_UNAUTHORIZED' });
    expect(await haStateOf()).toBe('standalone');
  });

  it('answers a body sent to deleteHaPair or takeoverHaPair with the 400 their contracts declare, and does nothing', async () => {
    for (const [id, method, path] of [
      ['deleteHaPair', 'DELETE', '/api/v1/ha-pair'],
      ['takeoverHaPair', 'POST', '/api/v1/ha-pair/takeover'],
    ] as const) {
      const res = await call(method, path, basic, []);
      expect(problem(res), id).toMatchObject({ status: 400, code: expect.stringMatching(/^LB_(VALIDATION|MALFORMED_BODY)$/) });
      expect(declared(id), id).toContain(400);
    }
    expect(await haStateOf()).toBe('standalone');
    expect((await get(`http://${net.vip}:8080/`)).status).toBe(200);
  });
});

describe('a node joined to a primary', () => {
  beforeAll(async () => {
    const res = await call('POST', '/api/v1/ha-pair/peer/join', basic, joinBody());
    expect(res.status, res.text).toBe(200);
  });

  it('refuses a replicated revision whose configuration is not a stored configuration: 400 naming the field, revision unchanged', async () => {
    const before = await revisionOf();
    const record = { revision: before + 10, createdAt: new Date().toISOString(), user: 'loadbalancer', operation: 'createVirtualService', config: {} };
    const res = await call('PUT', '/api/v1/ha-pair/peer/revision', `Bearer ${token()}`, { record, keys: {}, replaceHistory: true });
    expect(problem(res)).toMatchObject({ status: 400, code: 'LB_VALIDATION', field: '/record/config/virtualServices' });
    // Only the collections newer than the first format may be absent (CONFIG_MAP_SINCE); one
    // that is there must be a map, whichever it is.
    const lacksCertificates = { ...record, config: { virtualServices: {}, realServers: {} } };
    const res2 = await call('PUT', '/api/v1/ha-pair/peer/revision', `Bearer ${token()}`, { record: lacksCertificates, keys: {}, replaceHistory: true });
    expect(problem(res2)).toMatchObject({ status: 400, code: 'LB_VALIDATION', field: '/record/config/certificates' });
    const snmpNotAMap = { ...record, config: { virtualServices: {}, realServers: {}, certificates: {}, snmp: [] } };
    const res3 = await call('PUT', '/api/v1/ha-pair/peer/revision', `Bearer ${token()}`, { record: snmpNotAMap, keys: {}, replaceHistory: true });
    expect(problem(res3)).toMatchObject({ status: 400, code: 'LB_VALIDATION', field: '/record/config/snmp' });
    expect(await revisionOf()).toBe(before);
  });

  it('refuses a replicated revision that breaks the rules, or lacks a key, with its code and field; takes a sound one', async () => {
    const before = await revisionOf();
    const vs = { label: 'R1', ipAddress: net.vip, ports: [8081], protocol: 'http' };
    const rec = (c: unknown) => ({ revision: before + 1, createdAt: new Date().toISOString(), user: 'loadbalancer', operation: 'test', config: c });
    const orphan = { virtualServices: {}, realServers: { r1: { virtualServiceId: 'nope', label: 'rs', address: net.backend, port: 8080, weight: 1 } }, certificates: {} };
    const res1 = await call('PUT', '/api/v1/ha-pair/peer/revision', `Bearer ${token()}`, { record: rec(orphan), keys: {} });
    expect(problem(res1)).toMatchObject({ status: 422, code: 'LB_UNKNOWN_REFERENCE', field: '/record/config/realServers/r1/virtualServiceId' });
    const badVs = { virtualServices: { v1: { ...vs, ports: 'all' } }, realServers: {}, certificates: {} };
    const res2 = await call('PUT', '/api/v1/ha-pair/peer/revision', `Bearer ${token()}`, { record: rec(badVs), keys: {} });
    expect(problem(res2)).toMatchObject({ status: 400, code: 'LB_VALIDATION', field: expect.stringMatching(/^\/record\/config\/virtualServices\/v1\/ports/) });
    const cert = { label: 'c', chainPem: 'x', keyRef: 'c'.repeat(64), fingerprintSha256: 'AB' };
    const keyless = { virtualServices: { v1: { ...vs, protocol: 'http2', certificateId: 'c1' } }, realServers: {}, certificates: { c1: cert } };
    const res3 = await call('PUT', '/api/v1/ha-pair/peer/revision', `Bearer ${token()}`, { record: rec(keyless), keys: {} });
    expect(problem(res3)).toMatchObject({ status: 400, code: 'LB_VALIDATION' });
    expect(await revisionOf()).toBe(before);
    // The same path takes a sound revision (the checks above are not a closed door).
    const sound = await call('PUT', '/api/v1/ha-pair/peer/revision', `Bearer ${token()}`, { record: rec({ virtualServices: {}, realServers: {}, certificates: {} }), keys: {} });
    expect(sound.status, sound.text).toBe(200);
    expect(await revisionOf()).toBe(before + 1);
  });

  it('refuses settings that break the dead-time rule with the 422 putHaPeerSettings declares', async () => {
    const res = await call('PUT', '/api/v1/ha-pair/peer/settings', `Bearer ${token()}`, { ...joinBody().settings, heartbeatIntervalMs: 1000, deadTimeMs: 1500 });
    expect(problem(res)).toMatchObject({ status: 422, code: 'LB_INVALID_COMBINATION', field: '/deadTimeMs' });
    expect(declared('putHaPeerSettings')).toContain(422);
  });

  it('refuses settings whose heartbeat port is taken with 409 naming the field, and keeps the old settings and links', async () => {
    const taken = createSocket('udp4');
    await new Promise<void>((resolve) => taken.bind(46798, net.node, resolve));
    try {
      const res = await call('PUT', '/api/v1/ha-pair/peer/settings', `Bearer ${token()}`, { ...joinBody().settings, heartbeatPort: 46798 });
      expect(problem(res)).toMatchObject({ status: 409, code: 'LB_ADDRESS_IN_USE', field: '/heartbeatPort' });
    } finally {
      taken.close();
    }
    expect((JSON.parse((await call('GET', '/api/v1/ha-pair', basic)).text) as { heartbeatPort: number }).heartbeatPort).toBe(46710);
    // The heartbeat socket is bound again on the old port: this process cannot take it.
    const probe = createSocket('udp4');
    const bound = await new Promise<string>((resolve) => {
      probe.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
      probe.bind(46710, net.node, () => resolve('bound'));
    });
    probe.close();
    expect(bound).toBe('EADDRINUSE');
  });

  it('takes the active peer\'s layer 4 flow state with 204, refuses a malformed one with 400 naming the field, and a stranger with 401', async () => {
    const state = { virtualServices: [{ id: 'vs-0123456789ab', flows: [{ client: '198.18.9.1', clientPort: 40000, port: 104, realServerId: 'rs-0123456789ab', expiresSeconds: 300 }], clients: [] }] };
    const ok = await call('PUT', '/api/v1/ha-pair/peer/flow-state', `Bearer ${token()}`, state);
    expect(ok.status, ok.text).toBe(204);
    const bad = structuredClone(state);
    (bad.virtualServices[0]!.flows[0] as Record<string, unknown>).clientPort = 70000;
    expect(problem(await call('PUT', '/api/v1/ha-pair/peer/flow-state', `Bearer ${token()}`, bad))).toMatchObject({ status: 400, code: 'LB_VALIDATION', field: '/virtualServices/0/flows/0/clientPort' });
    expect(problem(await call('PUT', '/api/v1/ha-pair/peer/flow-state', `Bearer ${token()}`, { virtualServices: [], extra: 1 }))).toMatchObject({ status: 400 });
    expect((await call('PUT', '/api/v1/ha-pair/peer/flow-state', `Bearer ${'x'.repeat(43)}`, state)).status).toBe(401);
    expect((await call('PUT', '/api/v1/ha-pair/peer/flow-state', basic, state)).status).toBe(401);
    expect(declared('putHaPeerFlowState')).toEqual(expect.arrayContaining([204, 400, 401, 409]));
    expect(await haStateOf()).toBe('paired');
  });

  it('answers a body sent to leaveHaPair with the 400 its contract declares and stays paired; leaves without one', async () => {
    const res = await call('DELETE', '/api/v1/ha-pair/peer/join', `Bearer ${token()}`, { bye: true });
    expect(problem(res)).toMatchObject({ status: 400 });
    expect(declared('leaveHaPair')).toContain(400);
    expect(await haStateOf()).toBe('paired');
    expect((await call('DELETE', '/api/v1/ha-pair/peer/join', `Bearer ${token()}`)).status).toBe(204);
    expect(await haStateOf()).toBe('standalone');
  });
});
