// Malformed and hostile requests: the smuggling shapes, oversized and too many header
// fields, slow headers. Each gets 400, 408 or 431 from the appliance and never reaches a
// real server (the backend's own record proves it; hostile-fields.test.ts sends the same
// shapes to a raw recorder, whose record a node HTTP parser cannot clean). A refused configuration write leaves
// the running VIP untouched. Addresses 127.0.74.x (127.0.124.x when test/haproxy
// re-runs it on the HAProxy engine) belong to this file.
import { connect as h2connect, type ClientHttp2Session } from 'node:http2';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, type ApplianceClient } from '../../openapi/sdk/index.js';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';
import { startHttpBackend, type HttpBackend } from './helpers/backends.js';
import { get, rawExchange } from './helpers/traffic.js';
import { createVip } from './helpers/vips.js';
import { HOSTILE, NORMALISED_BY_HAPROXY } from './helpers/hostile-requests.js';
import { ENGINE, HAPROXY, subnet } from './helpers/engine-under-test.js';

const NET = subnet('127.0.74');
const VIP = `${NET}.217`;
const PORT = 8080;
let app: TestAppliance;
let client: ApplianceClient;
let backend: HttpBackend;

beforeAll(async () => {
  app = await startTestAppliance({ engine: ENGINE, host: `${NET}.1` });
  client = app.client();
  backend = await startHttpBackend({ name: 'b', host: `${NET}.6` });
  await createVip(client, { label: 'guarded', ipAddress: VIP, ports: [PORT], protocol: 'http', timeouts: { httpRequest: 1 } }, [{ label: 'b', address: backend.host, port: backend.port }]);
  const cert = await client.createCertificate({ label: 'h2', selfSigned: { commonName: 'h2.test' } });
  await createVip(client, { label: 'guarded-h2', ipAddress: VIP, ports: [8443], protocol: 'http2', certificateId: cert.id }, [{ label: 'b', address: backend.host, port: backend.port }]);
});

afterAll(async () => {
  await app?.dispose();
  await backend?.close();
});

/** The status line: exact on the embedded engine; HAProxy's own parser errors word the reason differently ("Bad request"). */
function expectStatusLine(text: string, code: number, reason: string): void {
  const line = text.split('\r\n')[0] ?? '';
  if (HAPROXY) expect(line.startsWith(`HTTP/1.1 ${code} `), line).toBe(true);
  else expect(line).toBe(`HTTP/1.1 ${code} ${reason}`);
}

describe('hostile requests', () => {
  it('a well-formed request reaches the backend (the probe can see arrivals)', async () => {
    const before = backend.seen.length;
    const text = await rawExchange(VIP, PORT, 'POST /ok HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3;ext=1\r\nabc\r\n0\r\nX-Trailer: t\r\n\r\n');
    expect(text.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
    expect(backend.seen.length).toBe(before + 1);
    expect(backend.seen.at(-1)?.bodyBytes).toBe(3);
  });

  for (const [name, request] of Object.entries(HOSTILE)) {
    if (HAPROXY && NORMALISED_BY_HAPROXY.has(name)) {
      it(`normalises ${name}: at most that one request reaches the server`, async () => {
        const before = backend.seen.length;
        const text = await rawExchange(VIP, PORT, request);
        expect(text.split('\r\n')[0]).toMatch(/^HTTP\/1\.1 (200|400) /);
        expect(backend.seen.length - before).toBeLessThanOrEqual(1);
      });
      continue;
    }
    it(`refuses ${name} with 400 and forwards nothing`, async () => {
      const before = backend.seen.length;
      const text = await rawExchange(VIP, PORT, request);
      expectStatusLine(text, 400, 'Bad Request');
      expect(text.toLowerCase()).toContain('connection: close');
      expect(backend.seen.length).toBe(before);
    });
  }

  it('refuses a request smuggled behind a valid one on a kept connection', async () => {
    const before = backend.seen.length;
    const text = await rawExchange(VIP, PORT, 'GET /first HTTP/1.1\r\nHost: a\r\n\r\nPOST /second HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n');
    const statuses = text.match(/HTTP\/1\.1 \d{3}/g);
    if (HAPROXY) {
      // HAProxy reads the second request as chunked (Transfer-Encoding wins) and closes after it.
      expect(statuses).toEqual(['HTTP/1.1 200', 'HTTP/1.1 200']);
      expect(backend.seen.slice(before).map((s) => s.url)).toEqual(['/first', '/second']);
      return;
    }
    expect(statuses).toEqual(['HTTP/1.1 200', 'HTTP/1.1 400']);
    expect(backend.seen.slice(before).map((s) => s.url)).toEqual(['/first']);
  });

  it('answers 431 to an oversized head and to too many fields', async () => {
    const before = backend.seen.length;
    const big = await rawExchange(VIP, PORT, `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    // A head larger than HAProxy's 16 KiB buffer fails its parser: 400 there, refused all the same.
    if (HAPROXY) expectStatusLine(big, 400, 'Bad Request');
    else expect(big.split('\r\n')[0]).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    const fields = Array.from({ length: 150 }, (_, i) => `X-F${i}: v\r\n`).join('');
    const many = await rawExchange(VIP, PORT, `GET / HTTP/1.1\r\nHost: a\r\n${fields}\r\n`);
    expect(many.split('\r\n')[0]).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    expect(backend.seen.length).toBe(before);
  });

  it('answers 408 to a client that does not finish its head in time', async () => {
    const before = backend.seen.length;
    const started = Date.now();
    const text = await new Promise<string>((resolve) => {
      const s = connect({ host: VIP, port: PORT }, () => s.write('GET /slow HTTP/1.1\r\nHost: a\r\nX-Drip: '));
      let out = '';
      s.on('data', (c: Buffer) => (out += c.toString()));
      // Keep dripping bytes, as a slowloris does: activity must not extend the header time.
      const drip = setInterval(() => s.writable && s.write('a'), 200);
      s.on('close', () => {
        clearInterval(drip);
        resolve(out);
      });
      s.on('error', () => undefined);
    });
    expectStatusLine(text, 408, 'Request Timeout');
    expect(Date.now() - started).toBeLessThan(5000);
    expect(backend.seen.length).toBe(before);
  });

  it('the header time limit does not cut a slow body (no platform request timeout)', async () => {
    // The VIP allows 1 s for the head; this upload takes about 3 s and must arrive whole.
    const parts = 15;
    const part = 'x'.repeat(1000);
    const text = await new Promise<string>((resolve, reject) => {
      const s = connect({ host: VIP, port: PORT }, () => s.write(`POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: ${parts * part.length}\r\nConnection: close\r\n\r\n`));
      let out = '';
      let sent = 0;
      const drip = setInterval(() => {
        s.write(part);
        if (++sent === parts) clearInterval(drip);
      }, 200);
      s.on('data', (c: Buffer) => (out += c.toString()));
      s.on('close', () => resolve(out));
      s.on('error', reject);
    });
    expect(text.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
    expect(backend.seen.at(-1)?.bodyBytes).toBe(parts * part.length);
  });

  it('HTTP/2: a body longer or shorter than its content-length, and too many fields, never reach the server', async () => {
    const session: ClientHttp2Session = h2connect(`https://${VIP}:8443`, { rejectUnauthorized: false });
    session.on('error', () => undefined);
    const send = (headers: Record<string, string>, body: string) =>
      new Promise<string>((resolve) => {
        const req = session.request({ ':method': 'POST', ':path': '/h2-hostile', ...headers });
        req.on('response', (h) => resolve(`status ${h[':status']}`));
        req.on('error', (e: NodeJS.ErrnoException) => resolve(`error ${e.code}`));
        req.on('close', () => resolve(`closed ${req.rstCode}`));
        req.end(body);
      });
    const before = backend.seen.length;
    const longer = await send({ 'content-length': '3' }, 'abcdefghij');
    const shorter = await send({ 'content-length': '30' }, 'abc');
    const fields: Record<string, string> = {};
    for (let i = 0; i < 150; i++) fields[`x-f${i}`] = 'v';
    const many = await send(fields, '');
    console.log(`h2 hostile outcomes: longer=${longer} shorter=${shorter} many=${many}`);
    for (const outcome of [longer, shorter, many]) expect(outcome).not.toBe('status 200');
    expect(backend.seen.length).toBe(before);
    // The same session still carries a well-formed request.
    expect(await send({ 'content-length': '3' }, 'abc')).toBe('status 200');
    expect(backend.seen.at(-1)?.bodyBytes).toBe(3);
    session.close();
  });

  it('a refused configuration write changes nothing and the VIP keeps serving', async () => {
    const before = await client.getConfig();
    const err = await client.createVirtualService({ label: 'clash', ipAddress: VIP, ports: [PORT], protocol: 'tcp' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as ConflictError).code).toBe('LB_ADDRESS_IN_USE');
    expect((await client.getConfig()).revision).toBe(before.revision);
    expect((await get(`http://${VIP}:${PORT}/still`)).status).toBe(200);
  });
});
