// The shared resource definitions on their own, against a stand-in SDK client: the drain
// before a real server's deletion (waits for connections to reach 0, bounded by
// drain_timeout), validation rules, and the mapping of appliance problems to attributes.
import { describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError } from '../../openapi/sdk/errors.js';
import { certificate, issuesFromError, realServer, validateAll, virtualService, type ResourceContext } from '../../provider/resources/index.js';
import type { ObjectValue } from '../../provider/resources/types.js';

const VS = 'vs-0123456789ab';
const RS = 'rs-0123456789ab';

/** A client whose server reports the given connection counts, one per read, and records every call. */
function stubContext(connections: number[]) {
  const calls: string[] = [];
  const warnings: string[] = [];
  let reads = 0;
  const client = {
    async updateRealServer(vs: string, rs: string, body: unknown) {
      calls.push(`update ${vs}/${rs} ${JSON.stringify(body)}`);
      return {};
    },
    async getRealServer() {
      calls.push('get');
      const open = connections[Math.min(reads++, connections.length - 1)]!;
      return { status: { health: 'up', connections: open, lastCheck: null } };
    },
    async deleteRealServer(vs: string, rs: string) {
      calls.push(`delete ${vs}/${rs}`);
    },
  };
  const ctx = {
    client,
    log: { debug: () => undefined, info: () => undefined, warn: (m: string) => warnings.push(m) },
    signal: new AbortController().signal,
  } as unknown as ResourceContext;
  return { ctx, calls, warnings };
}

const state = (drain: number): ObjectValue => ({ id: RS, virtual_service_id: VS, label: 'S', address: 'h', port: null, weight: 100, re_encrypt: false, backup: false, admin_state: 'online', drain_timeout: drain });

describe('real server deletion', () => {
  it('drains first and deletes once the connections are gone', async () => {
    const { ctx, calls } = stubContext([2, 1, 0]);
    await realServer.delete(ctx, state(30));
    expect(calls).toEqual([`update ${VS}/${RS} {"adminState":"drain"}`, 'get', 'get', 'get', `delete ${VS}/${RS}`]);
  });

  it('waits no longer than drain_timeout, then deletes with a warning', async () => {
    const { ctx, calls, warnings } = stubContext([5]);
    const started = Date.now();
    await realServer.delete(ctx, state(1));
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(calls.at(-1)).toBe(`delete ${VS}/${RS}`);
    expect(warnings[0]).toMatch(/drain timeout/);
  });

  it('deletes at once with drain_timeout 0, and is done when the server is already gone', async () => {
    const { ctx, calls } = stubContext([5]);
    await realServer.delete(ctx, state(0));
    expect(calls).toEqual([`delete ${VS}/${RS}`]);
    const gone = stubContext([0]);
    (gone.ctx.client as unknown as Record<string, unknown>).updateRealServer = async () => {
      throw new NotFoundError('updateRealServer', 404, { type: 'about:blank', title: 'Not found', status: 404, code: 'LB_NOT_FOUND' });
    };
    await expect(realServer.delete(gone.ctx, state(30))).resolves.toBeUndefined();
  });
});

describe('validation', () => {
  const vs = (over: ObjectValue): ObjectValue => ({ id: null, label: 'v', ip_address: '127.0.70.1', ports: [80], protocol: 'http', certificate_id: null, algorithm: null, persistence: null, health_check: null, force_https: null, redirect_code: null, forwarded_for: null, timeouts: null, enabled: null, ...over });

  it('names the attribute of each problem', () => {
    expect(validateAll(virtualService, vs({ ip_address: '300.1.1.1' })).map((i) => i.path)).toEqual([['ip_address']]);
    expect(validateAll(virtualService, vs({ ports: [80, 80] })).map((i) => [i.path, i.code])).toEqual([[['ports', 1], 'LBP_INVALID_VALUE']]);
    expect(validateAll(virtualService, vs({ health_check: { type: 'echo', port: null, path: null, host: null, expect_status: null, interval: 0, timeout: null, rise: null, fall: null } })).map((i) => i.path)).toEqual([['health_check', 'type'], ['health_check', 'interval']]);
    expect(validateAll(virtualService, vs({ protocol: 'tcp', force_https: true })).map((i) => i.code)).toEqual(['LB_INVALID_COMBINATION']);
  });

  it('asks for exactly one source of certificate material', () => {
    const cert = (over: ObjectValue): ObjectValue => ({ ...Object.fromEntries(Object.keys(certificate.attributes).map((k) => [k, null])), label: 'c', ...over });
    expect(validateAll(certificate, cert({})).map((i) => i.code)).toEqual(['LBP_CERTIFICATE_SOURCE']);
    expect(validateAll(certificate, cert({ pfx: 'AAAA', self_signed: { common_name: 'x', subject_alt_names: null, days: null, key_type: null } })).map((i) => [i.code, i.path])).toEqual([['LBP_CERTIFICATE_SOURCE', ['self_signed']]]);
  });
});

describe('appliance problems', () => {
  it('become issues on the attribute the problem names, with its detail and code', () => {
    const err = new ConflictError('createVirtualService', 409, { type: 'urn:lbappliance:problem:LB_ADDRESS_IN_USE', title: 'Address and port already in use', status: 409, code: 'LB_ADDRESS_IN_USE', detail: '127.0.70.1:80 is taken', field: '/ports/0' });
    expect(issuesFromError(virtualService.attributes, err, 'Creating lbappliance_virtual_service')).toEqual([
      { path: ['ports', 0], summary: 'Creating lbappliance_virtual_service: Address and port already in use', detail: '127.0.70.1:80 is taken [LB_ADDRESS_IN_USE]', code: 'LB_ADDRESS_IN_USE' },
    ]);
  });
});
