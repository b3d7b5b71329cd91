// Viewer endpoints over HTTP and HTTPS (HTTP/1.1 and h2 by ALPN), and the generic TCP echo
// services: who answered, forwarded headers and cookies, keep-alive, TLS with the server's
// own certificate, byte-exact large bodies. Addresses 127.0.93.x are this file's own.
import { createHash, randomBytes } from 'node:crypto';
import { connect as h2connect } from 'node:http2';
import { connect } from 'node:net';
import { Agent, Client, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeServerCertificate, patternBytes, TcpEchoServer, ViewerServer, type ServerCertificate, type ViewerAnswer } from '../../examples/backends/index.js';
import { probe } from './helpers.js';

const PLAIN = { host: 'SERVER1', name: 'viewer-test-1', address: '127.0.93.1', port: 8080 };
const SECURE = { host: 'SERVER2', name: 'viewer-test-2', address: '127.0.93.2', port: 8443 };
const TCP = { host: 'SERVER3', name: 'tcp-test-3', address: '127.0.93.3', port: 1200 };
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let cert: ServerCertificate;
let plain: ViewerServer;
let secure: ViewerServer;
let tcp: TcpEchoServer;
let trusting: Agent;

beforeAll(async () => {
  cert = await makeServerCertificate(SECURE.name, SECURE.address);
  plain = new ViewerServer({ ...PLAIN, serviceState: (port) => (port === 8080 ? plain.running : port === 104 ? false : undefined) });
  secure = new ViewerServer({ ...SECURE, tls: cert });
  tcp = new TcpEchoServer(TCP);
  await Promise.all([plain.start(), secure.start(), tcp.start()]);
  // Verifies the server against its own self-signed certificate: a real TLS check, by IP SAN.
  trusting = new Agent({ connect: { ca: cert.certPem } });
});
afterAll(async () => {
  await Promise.all([plain?.stop(), secure?.stop(), tcp?.stop()]);
  await trusting?.close();
});

async function getJson(url: string, headers: Record<string, string> = {}, dispatcher?: Agent | Client): Promise<{ status: number; headers: Record<string, unknown>; body: ViewerAnswer }> {
  const res = await request(url, { headers, dispatcher });
  return { status: res.statusCode, headers: res.headers, body: (await res.body.json()) as ViewerAnswer };
}

describe('HTTP viewer', () => {
  it('names the server that answered, in the body and in X-Backend-Server', async () => {
    const r = await getJson('http://127.0.93.1:8080/studies/1?x=y');
    expect(r.status).toBe(200);
    expect(r.headers['x-backend-server']).toBe('viewer-test-1');
    expect(r.headers['x-backend-address']).toBe('127.0.93.1:8080');
    expect(r.body).toMatchObject({ server: 'viewer-test-1', host: 'SERVER1', address: '127.0.93.1', port: 8080, protocol: 'http/1.1', tls: false, method: 'GET', url: '/studies/1?x=y', remoteAddress: '127.0.0.1' });
  });

  it('echoes X-Forwarded-For, X-Forwarded-Proto and cookies as it saw them', async () => {
    const r = await getJson('http://127.0.93.1:8080/', { 'x-forwarded-for': '10.1.2.3, 127.0.40.217', 'x-forwarded-proto': 'https', cookie: 'SERVERID=s1; JSESSIONID=abc' });
    expect(r.body.forwardedFor).toBe('10.1.2.3, 127.0.40.217');
    expect(r.body.forwardedProto).toBe('https');
    expect(r.body.cookies).toEqual({ SERVERID: 's1', JSESSIONID: 'abc' });
    expect(r.body.headers['x-forwarded-for']).toBe('10.1.2.3, 127.0.40.217');
  });

  it('keeps the connection alive across requests', async () => {
    const client = new Client('http://127.0.93.1:8080');
    const first = await getJson('http://127.0.93.1:8080/a', {}, client);
    const second = await getJson('http://127.0.93.1:8080/b', {}, client);
    await client.close();
    const third = await getJson('http://127.0.93.1:8080/c');
    expect(second.body.connection).toEqual({ id: first.body.connection.id, request: 2 });
    expect(third.body.connection.id).not.toBe(first.body.connection.id);
  });

  it('answers /health, and /health/<port> with the state of that service', async () => {
    expect((await request('http://127.0.93.1:8080/health')).statusCode).toBe(200);
    expect((await request('http://127.0.93.1:8080/health/8080')).statusCode).toBe(200);
    expect((await request('http://127.0.93.1:8080/health/104')).statusCode).toBe(503);
    expect((await request('http://127.0.93.1:8080/health/9')).statusCode).toBe(404);
    expect((await request('http://127.0.93.1:8080/status/503')).statusCode).toBe(503);
  });

  it('downloads 32 MiB and uploads 32 MiB byte-exact', async () => {
    const n = 32 * 1024 * 1024;
    const down = await request(`http://127.0.93.1:8080/bytes/${n}`);
    const got = Buffer.from(await down.body.arrayBuffer());
    expect(got.length).toBe(n);
    expect(got.equals(patternBytes(0, n))).toBe(true);
    const body = randomBytes(n);
    const up = await request('http://127.0.93.1:8080/upload', { method: 'POST', body });
    expect(await up.body.json()).toEqual({ server: 'viewer-test-1', bytes: n, sha256: sha(body) });
    const echo = await request('http://127.0.93.1:8080/echo', { method: 'PUT', body: body.subarray(0, 8 * 1024 * 1024) });
    expect(sha(Buffer.from(await echo.body.arrayBuffer()))).toBe(sha(body.subarray(0, 8 * 1024 * 1024)));
  });

  it('refuses connections while stopped and answers again once started', async () => {
    await plain.stop();
    expect(await probe(PLAIN.address, PLAIN.port)).toBe('refused');
    await plain.start();
    expect((await request('http://127.0.93.1:8080/health')).statusCode).toBe(200);
  });
});

describe('HTTPS viewer', () => {
  it('serves TLS with its own certificate, verified by IP, over HTTP/1.1 with keep-alive', async () => {
    const client = new Client('https://127.0.93.2:8443', { connect: { ca: cert.certPem } });
    const first = await getJson('https://127.0.93.2:8443/x', {}, client);
    const second = await getJson('https://127.0.93.2:8443/y', {}, client);
    await client.close();
    expect(first.body).toMatchObject({ server: 'viewer-test-2', tls: true, tlsVersion: 'TLSv1.3', protocol: 'http/1.1' });
    expect(second.body.connection).toEqual({ id: first.body.connection.id, request: 2 });
  });

  it('is refused by a client that trusts another certificate', async () => {
    const other = await makeServerCertificate('someone-else', SECURE.address);
    const agent = new Agent({ connect: { ca: other.certPem } });
    await expect(request('https://127.0.93.2:8443/', { dispatcher: agent })).rejects.toThrow();
    await agent.close();
  });

  it('speaks h2 when ALPN offers it, and moves large bodies byte-exact', async () => {
    const session = h2connect('https://127.0.93.2:8443', { ca: cert.certPem });
    const call = (path: string, method = 'GET', body?: Buffer) =>
      new Promise<{ status: number; data: Buffer }>((resolve, reject) => {
        const req = session.request({ ':path': path, ':method': method });
        const chunks: Buffer[] = [];
        let status = 0;
        req.on('response', (h) => (status = Number(h[':status'])));
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => resolve({ status, data: Buffer.concat(chunks) }));
        req.on('error', reject);
        req.end(body);
      });
    const who = await call('/');
    expect(JSON.parse(who.data.toString())).toMatchObject({ server: 'viewer-test-2', protocol: 'h2', tls: true });
    const n = 16 * 1024 * 1024;
    const down = await call(`/bytes/${n}`);
    expect(down.data.equals(patternBytes(0, n))).toBe(true);
    const body = randomBytes(n);
    const up = await call('/upload', 'POST', body);
    expect(JSON.parse(up.data.toString())).toEqual({ server: 'viewer-test-2', bytes: n, sha256: sha(body) });
    session.close();
    const health = await request('https://127.0.93.2:8443/health', { dispatcher: trusting });
    expect([health.statusCode, await health.body.text()]).toEqual([200, 'ok viewer-test-2\n']);
  });
});

describe('TCP echo service', () => {
  it('names itself on connect and echoes 4 MiB unchanged', async () => {
    const socket = connect({ host: TCP.address, port: TCP.port });
    const payload = randomBytes(4 * 1024 * 1024);
    const received: Buffer[] = [];
    let total = 0;
    const banner = 'HELLO tcp-test-3 127.0.93.3:1200\r\n';
    await new Promise<void>((resolve, reject) => {
      socket.on('data', (d: Buffer) => {
        received.push(d);
        total += d.length;
        if (total === banner.length + payload.length) resolve();
      });
      socket.on('error', reject);
      socket.write(payload);
    });
    socket.destroy();
    const all = Buffer.concat(received);
    expect(all.subarray(0, banner.length).toString()).toBe(banner);
    expect(all.subarray(banner.length).equals(payload)).toBe(true);
  });

  it('refuses connections while stopped and accepts again once started', async () => {
    await tcp.stop();
    expect(await probe(TCP.address, TCP.port)).toBe('refused');
    await tcp.start();
    expect(await probe(TCP.address, TCP.port)).toBe('open');
  });
});
