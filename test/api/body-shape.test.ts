// Bodies whose shape no handler should ever see (found by a fuzzer, issue 19): JSON nested
// thousands of levels deep (it overflowed the recursive merge patch: 500) and strings holding
// a lone UTF-16 surrogate (legal JSON, not Unicode: the certificate encoder threw a URIError,
// 500). Each is refused by the body parser with 400 LB_VALIDATION naming the field, on every
// operation that takes a body, and changes nothing.
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { materialFrom } from '../../appliance/config/certificate-material.js';
import { applyMergePatch } from '../../appliance/config/merge-patch.js';
import { ApplianceError } from '../../appliance/errors.js';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';

let app: TestAppliance;
const insecure = new Agent({ connect: { rejectUnauthorized: false } });
let auth: string;
let vsId: string;
let rsId: string;
let certId: string;

async function call(method: string, path: string, body?: string, contentType = 'application/json') {
  const res = await request(`${app.endpoint}${path}`, { method: method as 'GET', headers: { authorization: auth, 'content-type': contentType }, body, dispatcher: insecure });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, json: () => JSON.parse(text) as Record<string, unknown> };
}

async function revision(): Promise<number> {
  return (await call('GET', '/api/v1/config')).json().revision as number;
}

/** `{"a":{"a":...{"a":1}...}}` nested `depth` objects deep. */
function nested(depth: number, key = 'a'): string {
  return `${`{"${key}":`.repeat(depth)}1${'}'.repeat(depth)}`;
}

beforeAll(async () => {
  app = await startTestAppliance();
  auth = `Basic ${Buffer.from(`loadbalancer:${app.password}`).toString('base64')}`;
  const vs = await call('POST', '/api/v1/virtual-services', JSON.stringify({ label: 'SHAPE', ipAddress: '127.0.180.1', ports: [80], protocol: 'http' }));
  vsId = vs.json().id as string;
  const rs = await call('POST', `/api/v1/virtual-services/${vsId}/real-servers`, JSON.stringify({ label: 'R1', address: '127.0.180.2', port: 80 }));
  rsId = rs.json().id as string;
  const cert = await call('POST', '/api/v1/certificates', JSON.stringify({ label: 'C1', selfSigned: { commonName: 'c1.example' } }));
  expect(cert.status).toBe(201);
  certId = cert.json().id as string;
});
afterAll(async () => {
  await app?.dispose();
  await insecure.close();
});

describe('bodies nested too deep', () => {
  it('refuses a merge patch nested 10,000 levels on every PATCH operation with 400 naming the depth, and changes nothing', async () => {
    const before = await revision();
    const deep = nested(10_000);
    const paths = ['/api/v1/config', `/api/v1/virtual-services/${vsId}`, `/api/v1/virtual-services/${vsId}/real-servers/${rsId}`, `/api/v1/certificates/${certId}`, '/api/v1/ha-pair'];
    for (const path of paths) {
      for (const type of ['application/merge-patch+json', 'application/json']) {
        const res = await call('PATCH', path, deep, type);
        expect({ path, type, status: res.status }).toEqual({ path, type, status: 400 });
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        const problem = res.json();
        expect(problem.code).toBe('LB_VALIDATION');
        expect(problem.detail).toMatch(/deeper than 64 levels/);
        expect(problem.field).toBe('/a'.repeat(64));
      }
    }
    expect(await revision()).toBe(before);
  });

  it('the merge patch itself refuses a patch nested too deep (a typed 400, not a stack overflow), whoever calls it', () => {
    let patch: unknown = 1;
    for (let i = 0; i < 10_000; i++) patch = { a: patch };
    const err = (() => {
      try {
        applyMergePatch({}, patch);
        return null;
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ApplianceError);
    expect(err).toMatchObject({ code: 'LB_VALIDATION', status: 400, field: '/a'.repeat(64) });
    expect(applyMergePatch({ a: { b: 1, c: 2 } }, { a: { b: null, d: [3] } })).toEqual({ a: { c: 2, d: [3] } });
  });

  it('refuses deep bodies on POST and PUT too (objects and arrays), and takes a body at the limit', async () => {
    const before = await revision();
    const deepArray = `{"label":"x","ports":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    const post = await call('POST', '/api/v1/virtual-services', deepArray);
    expect(post.status).toBe(400);
    expect(post.json()).toMatchObject({ code: 'LB_VALIDATION', field: `/ports${'/0'.repeat(63)}` });
    const put = await call('PUT', '/api/v1/config', nested(100, 'virtualServices'));
    expect(put.status).toBe(400);
    expect(put.json()).toMatchObject({ code: 'LB_VALIDATION' });
    expect(await revision()).toBe(before);
    // 64 levels are within the limit: the body reaches the contract validator, which names the unknown property.
    const atLimit = await call('PATCH', `/api/v1/virtual-services/${vsId}`, nested(64, 'x'), 'application/merge-patch+json');
    expect(atLimit.status).toBe(400);
    expect(atLimit.json().detail).not.toMatch(/deeper than/);
    const overLimit = await call('PATCH', `/api/v1/virtual-services/${vsId}`, nested(65, 'x'), 'application/merge-patch+json');
    expect(overLimit.json().detail).toMatch(/deeper than 64 levels/);
    expect(await revision()).toBe(before);
  });
});

describe('bodies too large', () => {
  it('answers 413 LB_PAYLOAD_TOO_LARGE on the user operations too (now in their contract)', async () => {
    const big = JSON.stringify({ username: 'big', password: 'x'.repeat(1024 * 1024 + 1), role: 'read-only' });
    for (const [method, path] of [['POST', '/api/v1/users'], ['PUT', '/api/v1/users/loadbalancer/password']] as const) {
      const res = await call(method, path, big);
      expect({ path, status: res.status }).toEqual({ path, status: 413 });
      expect(res.json()).toMatchObject({ code: 'LB_PAYLOAD_TOO_LARGE' });
    }
  });
});

describe('strings that are not Unicode', () => {
  it('refuses a lone surrogate in a certificate name on create, replace and update with 400 naming the field', async () => {
    const before = await revision();
    const body = '{"label":"S","selfSigned":{"commonName":"a\\ud800"}}';
    const created = await call('POST', '/api/v1/certificates', body);
    expect(created.status).toBe(400);
    expect(created.json()).toMatchObject({ code: 'LB_VALIDATION', field: '/selfSigned/commonName' });
    const replaced = await call('PUT', `/api/v1/certificates/${certId}`, body);
    expect(replaced.status).toBe(400);
    expect(replaced.json()).toMatchObject({ code: 'LB_VALIDATION', field: '/selfSigned/commonName' });
    const updated = await call('PATCH', `/api/v1/certificates/${certId}`, '{"selfSigned":{"commonName":"\\udc00b"}}', 'application/merge-patch+json');
    expect(updated.status).toBe(400);
    expect(updated.json()).toMatchObject({ code: 'LB_VALIDATION', field: '/selfSigned/commonName' });
    const san = await call('POST', '/api/v1/certificates', '{"label":"S","selfSigned":{"commonName":"ok.example","subjectAltNames":["b.example","x\\udbff"]}}');
    expect(san.json()).toMatchObject({ code: 'LB_VALIDATION', field: '/selfSigned/subjectAltNames/1' });
    expect(await revision()).toBe(before);
  });

  it('the certificate generator itself names the field of a name that is not Unicode (not a URIError), whoever calls it', async () => {
    await expect(materialFrom({ selfSigned: { commonName: 'a\ud800', subjectAltNames: [], days: 30, keyType: 'ecdsa-p256' } })).rejects.toMatchObject({ code: 'LB_VALIDATION', field: '/selfSigned/commonName' });
    await expect(materialFrom({ selfSigned: { commonName: 'ok.example', subjectAltNames: ['\udc00'], days: 30, keyType: 'ecdsa-p256' } })).rejects.toMatchObject({ code: 'LB_VALIDATION', field: '/selfSigned/subjectAltNames/0' });
  });

  it('refuses lone surrogates in any string and in property names, and accepts paired ones', async () => {
    const before = await revision();
    const label = await call('POST', '/api/v1/virtual-services', '{"label":"\\ud800","ipAddress":"127.0.180.3","ports":[80],"protocol":"http"}');
    expect(label.json()).toMatchObject({ status: 400, code: 'LB_VALIDATION', field: '/label' });
    const key = await call('PATCH', '/api/v1/config', '{"realServers":{"\\udfff/x":{"adminState":"drain"}}}', 'application/merge-patch+json');
    expect(key.json()).toMatchObject({ status: 400, code: 'LB_VALIDATION', field: '/realServers/\ufffd~1x' });
    const user = await call('POST', '/api/v1/users', '{"username":"viewer","password":"long-enough-\\ud83d-password","role":"read-only"}');
    expect(user.json()).toMatchObject({ status: 400, code: 'LB_VALIDATION', field: '/password' });
    expect(await revision()).toBe(before);
    // A surrogate pair (an emoji) is a valid string: this body gets past the parser to the certificate.
    const paired = await call('POST', '/api/v1/certificates', '{"label":"S2","selfSigned":{"commonName":"x\\ud83d\\ude00.example"}}');
    expect(paired.json().field).not.toBe('/selfSigned/commonName');
  });
});
