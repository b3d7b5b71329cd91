// HTTP-level behaviour of the API: operations not in the contract, media types, malformed
// bodies, the contract served by the appliance itself, and the metrics text.
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';
import { ROOT } from '../helpers/paths.js';
import { rawExchange, type RawResponse } from '../helpers/raw-http.js';

let app: TestAppliance;
const insecure = new Agent({ connect: { rejectUnauthorized: false } });
let auth: string;

beforeAll(async () => {
  app = await startTestAppliance();
  auth = `Basic ${Buffer.from(`loadbalancer:${app.password}`).toString('base64')}`;
});
afterAll(async () => {
  await app?.dispose();
  await insecure.close();
});

async function call(method: string, path: string, body?: string, headers: Record<string, string> = {}) {
  const res = await request(`${app.endpoint}${path}`, { method: method as 'GET', headers: { authorization: auth, ...headers }, body, dispatcher: insecure });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) as Record<string, unknown> };
}

function expectProblem(res: RawResponse, status: number, code: string): void {
  expect(res.status, code).toBe(status);
  expect(res.headers['content-type'], code).toMatch(/^application\/problem\+json/);
  expect(JSON.parse(res.body), code).toMatchObject({ status, code, type: `urn:lbappliance:problem:${code}` });
}

describe('protocol', () => {
  it('answers 404 LB_NO_SUCH_OPERATION for paths outside the contract and 405 with Allow for wrong methods', async () => {
    const missing = await call('GET', '/api/v1/does-not-exist');
    expect(missing.status).toBe(404);
    expect(missing.json()).toMatchObject({ code: 'LB_NO_SUCH_OPERATION' });
    const wrong = await call('POST', '/api/v1/config', '{}', { 'content-type': 'application/json' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.allow).toBe('GET, PUT, PATCH');
    expect(wrong.json()).toMatchObject({ code: 'LB_METHOD_NOT_ALLOWED' });
    expect((await call('DELETE', '/api/v1/virtual-services/vs-0123456789ab/real-servers')).status).toBe(405);
  });

  it('refuses bodies of the wrong media type (415), malformed JSON (400) and bodies where none is taken', async () => {
    const xml = await call('POST', '/api/v1/virtual-services', '<vip/>', { 'content-type': 'application/xml' });
    expect(xml.status).toBe(415);
    expect(xml.json()).toMatchObject({ code: 'LB_UNSUPPORTED_MEDIA_TYPE' });
    const patchAsText = await call('PATCH', '/api/v1/config', '{}', { 'content-type': 'text/plain' });
    expect(patchAsText.status).toBe(415);
    const broken = await call('POST', '/api/v1/virtual-services', '{"label": ', { 'content-type': 'application/json' });
    expect(broken.status).toBe(400);
    expect(broken.json()).toMatchObject({ code: 'LB_MALFORMED_BODY' });
    const noBody = await call('POST', '/api/v1/virtual-services', undefined, { 'content-type': 'application/json' });
    expect(noBody.status).toBe(400);
    const proto = await call('POST', '/api/v1/virtual-services', '{"__proto__": {"x": 1}, "label": "p"}', { 'content-type': 'application/json' });
    expect(proto.status).toBe(400);
    expect((await call('GET', '/api/v1/config')).json().revision).toBe(0);
  });

  it('validates path and query parameters with a problem naming the parameter', async () => {
    const badId = await call('GET', '/api/v1/virtual-services/not-an-id');
    expect(badId.status).toBe(400);
    expect(badId.json()).toMatchObject({ code: 'LB_VALIDATION', field: 'virtualServiceId' });
    const badQuery = await call('GET', '/api/v1/audit-log?limit=0');
    expect(badQuery.json()).toMatchObject({ code: 'LB_VALIDATION', field: 'limit' });
    const unknownQuery = await call('GET', '/api/v1/virtual-services?colour=red');
    expect(unknownQuery.json()).toMatchObject({ code: 'LB_VALIDATION', field: 'colour' });
  });

  it('accepts a merge patch as application/merge-patch+json and as application/json', async () => {
    const created = await call('POST', '/api/v1/virtual-services', JSON.stringify({ label: 'mp', ipAddress: '127.0.48.1', ports: [80], protocol: 'http' }), { 'content-type': 'application/json' });
    expect(created.status).toBe(201);
    expect(created.headers.location).toBe(`/api/v1/virtual-services/${String(created.json().id)}`);
    const id = String(created.json().id);
    expect((await call('PATCH', `/api/v1/virtual-services/${id}`, '{"enabled":false}', { 'content-type': 'application/merge-patch+json' })).json().enabled).toBe(false);
    expect((await call('PATCH', `/api/v1/virtual-services/${id}`, '{"enabled":true}', { 'content-type': 'application/json; charset=utf-8' })).json().enabled).toBe(true);
  });

  it('serves its own contract, byte for byte', async () => {
    const res = await call('GET', '/api/v1/openapi.yaml');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/yaml/);
    expect(res.text).toBe(await readFile(`${ROOT}openapi/appliance.yaml`, 'utf8'));
    expect((parse(res.text) as { openapi: string }).openapi).toBe('3.1.0');
  });

  it('serves Prometheus metrics, counting API requests by operation and status', async () => {
    await call('GET', '/api/v1/virtual-services/vs-0123456789ab');
    const res = await call('GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).toMatch(/lbappliance_api_requests_total\{operation="getVirtualService",status="404"\} [1-9]/);
    expect(res.text).toMatch(/^lbappliance_config_revision \d+$/m);
    expect(res.text).toMatch(/^lbappliance_ha_role\{role="standalone"\} 1$/m);
  });

  it('answers a request that arrives while it stops with 503 LB_SHUTTING_DOWN', async () => {
    const other = await startTestAppliance();
    try {
      const url = new URL(other.endpoint);
      const socket = connect({ host: url.hostname, port: Number(url.port), rejectUnauthorized: false });
      await once(socket, 'secureConnect');
      let received = '';
      socket.on('data', (chunk: Buffer) => (received += chunk.toString('utf8')));
      socket.on('error', () => undefined);
      const closed = once(socket, 'close');
      const authorization = `Basic ${Buffer.from(`loadbalancer:${other.password}`).toString('base64')}`;
      const body = JSON.stringify({ label: 'late' });
      // A write whose body is still coming keeps the connection busy through the shutdown.
      socket.write(`POST /api/v1/virtual-services HTTP/1.1\r\nHost: lb\r\nAuthorization: ${authorization}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 4)}`);
      await sleep(300);
      other.process.kill('SIGTERM');
      await sleep(500);
      socket.write(`${body.slice(4)}GET /api/v1/config HTTP/1.1\r\nHost: lb\r\nAuthorization: ${authorization}\r\n\r\n`);
      await Promise.race([closed, sleep(10_000)]);
      socket.destroy();
      const second = received.indexOf('HTTP/1.1', 1);
      expect(second, received).toBeGreaterThan(0);
      const [head = '', text = ''] = received.slice(second).split('\r\n\r\n');
      expect(head).toMatch(/^HTTP\/1\.1 503 /);
      expect(head).toMatch(/^content-type: application\/problem\+json/im);
      expect(JSON.parse(text)).toMatchObject({ status: 503, code: 'LB_SHUTTING_DOWN' });
    } finally {
      await other.dispose();
    }
  });

  it('shuts down gracefully on SIGTERM with exit code 0', async () => {
    const other = await startTestAppliance();
    expect(await other.stop()).toBe(0);
    await other.dispose();
  });

  it('answers requests refused before any operation with problem documents too', async () => {
    const get = (target: string, extra = '') => `GET ${target} HTTP/1.1\r\nHost: lb\r\nAuthorization: ${auth}\r\n${extra}\r\n`;
    // fastify's router: a broken percent-encoding, a path parameter over 100 characters.
    expectProblem(await rawExchange(app.endpoint, get('/api/v1/virtual-services/%')), 400, 'LB_MALFORMED_REQUEST');
    // An id of 5,000 characters is judged like any other id that names nothing (no undeclared 414).
    const short = await rawExchange(app.endpoint, get('/api/v1/virtual-services/vs-aaaa'));
    const long = await rawExchange(app.endpoint, get(`/api/v1/virtual-services/vs-${'a'.repeat(5000)}`));
    expect(long.status).toBe(short.status);
    expectProblem(long, short.status, (JSON.parse(short.body) as { code: string }).code);
    // Node's HTTP parser: a method it does not know, one huge header, very many headers.
    expectProblem(await rawExchange(app.endpoint, `FOO /api/v1/config HTTP/1.1\r\nHost: lb\r\nAuthorization: ${auth}\r\n\r\n`), 400, 'LB_MALFORMED_REQUEST');
    expectProblem(await rawExchange(app.endpoint, get('/api/v1/config', `X-Big: ${'b'.repeat(200 * 1024)}\r\n`)), 431, 'LB_HEADERS_TOO_LARGE');
    const many = Array.from({ length: 10_000 }, (_, i) => `X-H${i}: ${i}\r\n`).join('');
    expectProblem(await rawExchange(app.endpoint, get('/api/v1/config', many)), 431, 'LB_HEADERS_TOO_LARGE');
    expect((await call('GET', '/api/v1/config')).status).toBe(200);
  });

  it('compares If-Match strongly (RFC 9110): a weak ETag gets 412 on every kind of object and changes nothing', async () => {
    const json = { 'content-type': 'application/json' };
    const vs = await call('POST', '/api/v1/virtual-services', JSON.stringify({ label: 'weak', ipAddress: '127.0.170.10', ports: [80], protocol: 'http' }), json);
    const vsPath = String(vs.headers.location);
    const rs = await call('POST', `${vsPath}/real-servers`, JSON.stringify({ label: 'W1', address: '127.0.170.11', port: 80 }), json);
    const cert = await call('POST', '/api/v1/certificates', JSON.stringify({ label: 'weak-cert', selfSigned: { commonName: 'weak.example' } }), json);
    const targets = [vsPath, String(rs.headers.location), String(cert.headers.location), '/api/v1/config'];
    for (const path of targets) {
      const revision = (await call('GET', '/api/v1/config')).json().revision;
      const etag = String((await call('GET', path)).headers.etag);
      expect(etag, path).toMatch(/^"[^"]+"$/);
      for (const [method, body] of [
        ['PATCH', '{}'],
        ['DELETE', undefined],
      ] as const) {
        if (method === 'DELETE' && path === '/api/v1/config') continue;
        const weak = await call(method, path, body, { ...(body ? json : {}), 'if-match': `W/${etag}` });
        expect(weak.status, `${method} ${path}`).toBe(412);
        expect(weak.json(), `${method} ${path}`).toMatchObject({ code: 'LB_PRECONDITION_FAILED', field: 'If-Match' });
      }
      expect((await call('GET', '/api/v1/config')).json().revision, path).toBe(revision);
      // The same tag, strong, still matches; so does one of a list.
      expect((await call('PATCH', path, '{}', { ...json, 'if-match': `"0000000000000000", ${etag}` })).status, path).toBe(200);
    }
  });
});
