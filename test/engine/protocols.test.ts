// Each protocol end to end through a VIP of a real appliance process: HTTP/1.1 with port
// translation, keep-alive and multi-megabyte bodies both ways; HTTP/2 with ALPN through
// curl; re-encryption to the server; forceHttps redirects; TCP with a 1 GiB stream checked
// by hash, TCP with TLS termination; IPv6. Addresses 127.0.71.x (127.0.121.x when test/haproxy
// re-runs it on the HAProxy engine) belong to this file.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApplianceClient } from '../../openapi/sdk/index.js';
import { generateSelfSigned } from '../../appliance/config/x509-generate.js';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';
import { startHttpBackend, startTcpBackend, type HttpBackend, type TcpBackend } from './helpers/backends.js';
import { get } from './helpers/traffic.js';
import { createVip } from './helpers/vips.js';
import { ENGINE, sharedPort, subnet } from './helpers/engine-under-test.js';

const run = promisify(execFile);
const NET = subnet('127.0.71');
const VIP = `${NET}.217`;
let app: TestAppliance;
let client: ApplianceClient;
let b1: HttpBackend;
let tlsBackend: HttpBackend;
let hashBackend: TcpBackend;
let echoBackend: TcpBackend;
let certId: string;
let certFingerprint: string;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lb-protocols-'));
  app = await startTestAppliance({ engine: ENGINE, host: `${NET}.1` });
  client = app.client();
  const backendCert = await generateSelfSigned({ commonName: 'backend', subjectAltNames: [`${NET}.8`], days: 2, keyType: 'ecdsa-p256' });
  b1 = await startHttpBackend({ name: 'b1', host: `${NET}.6` });
  tlsBackend = await startHttpBackend({ name: 'tls-backend', host: `${NET}.8`, tls: { cert: backendCert.certPem, key: backendCert.keyPem } });
  hashBackend = await startTcpBackend({ name: 'hash', host: `${NET}.9`, mode: 'hash' });
  echoBackend = await startTcpBackend({ name: 'echo', host: `${NET}.10`, mode: 'echo' });
  const cert = await client.createCertificate({ label: 'vip-cert', selfSigned: { commonName: 'avs.test', subjectAltNames: ['avs.test', VIP] } });
  certId = cert.id;
  certFingerprint = cert.fingerprintSha256;
  await createVip(client, { label: 'web', ipAddress: VIP, ports: [8080], protocol: 'http' }, [{ label: 'b1', address: b1.host, port: b1.port }]);
  await createVip(client, { label: 'avs', ipAddress: VIP, ports: [8443], protocol: 'http2', certificateId: certId }, [{ label: 'b1', address: b1.host, port: b1.port }]);
  await createVip(client, { label: 'reencrypt', ipAddress: VIP, ports: [8081], protocol: 'http' }, [{ label: 'tls', address: tlsBackend.host, port: tlsBackend.port, reEncrypt: true }]);
  await createVip(client, { label: 'redirect', ipAddress: VIP, ports: [8000], protocol: 'http', forceHttps: true });
  await createVip(client, { label: 'redirect-308', ipAddress: VIP, ports: [8001], protocol: 'http', forceHttps: true, redirectCode: 308 });
  await createVip(client, { label: 'aqi', ipAddress: VIP, ports: [1200], protocol: 'tcp', persistence: { mode: 'source-ip' }, timeouts: { client: 92, server: 93 } }, [
    { label: 'hash', address: hashBackend.host, port: hashBackend.port },
  ]);
  await createVip(client, { label: 'tcp-tls', ipAddress: VIP, ports: [1201], protocol: 'tcp', certificateId: certId }, [{ label: 'echo', address: echoBackend.host, port: echoBackend.port }]);
  await createVip(client, { label: 'tcp-echo', ipAddress: VIP, ports: [1202], protocol: 'tcp' }, [{ label: 'echo', address: echoBackend.host, port: echoBackend.port }]);
  // A server that refuses every connection, first in line: each new session must move on.
  await createVip(client, { label: 'tcp-retry', ipAddress: VIP, ports: [1203], protocol: 'tcp', healthCheck: { type: 'none' } }, [
    { label: 'refusing', address: `${NET}.11`, port: 9 },
    { label: 'echo', address: echoBackend.host, port: echoBackend.port },
  ]);
  await createVip(client, { label: 'web6', ipAddress: '::1', ports: [sharedPort(17180)], protocol: 'http' }, [{ label: 'b1', address: b1.host, port: b1.port }]);
});

afterAll(async () => {
  await app?.dispose();
  await Promise.all([b1?.close(), tlsBackend?.close(), hashBackend?.close(), echoBackend?.close()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('http', () => {
  it('forwards with port translation, adds X-Forwarded-For/Proto and drops hop-by-hop fields', async () => {
    const before = b1.seen.length;
    const r = await get(`http://${VIP}:8080/path?q=1`, {
      headers: { connection: 'keep-alive, x-private', 'x-private': 'secret', 'keep-alive': 'timeout=5', te: 'trailers', 'proxy-connection': 'keep-alive', 'x-forwarded-for': '10.1.1.1', 'x-end-to-end': 'kept' },
    });
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('b1');
    const seen = b1.seen[before];
    expect(seen?.url).toBe('/path?q=1');
    expect(seen?.headers['x-forwarded-for']).toBe('10.1.1.1, 127.0.0.1');
    expect(seen?.headers['x-forwarded-proto']).toBe('http');
    expect(seen?.headers['x-end-to-end']).toBe('kept');
    expect(seen?.headers.host).toBe(`${VIP}:8080`);
    for (const hop of ['x-private', 'keep-alive', 'te', 'proxy-connection']) expect(seen?.headers[hop]).toBeUndefined();
  });

  it('carries multi-megabyte bodies both ways, with Content-Length and chunked', async () => {
    const upload = randomBytes(8 * 1024 * 1024);
    const r = await get(`http://${VIP}:8080/echo`, { method: 'POST', body: upload });
    expect(r.status).toBe(200);
    expect(createHash('sha256').update(r.body).digest('hex')).toBe(createHash('sha256').update(upload).digest('hex'));
    // node sends a stream without a length chunked
    const chunked = await new Promise<string>((resolve, reject) => {
      const req = httpRequest(`http://${VIP}:8080/echo`, { method: 'POST', agent: false }, (res: IncomingMessage) => {
        res.resume();
        res.on('end', () => resolve(String(res.headers['x-body-sha256'])));
      });
      req.on('error', reject);
      for (let i = 0; i < 8; i++) req.write(upload.subarray(i * 1024 * 1024, (i + 1) * 1024 * 1024));
      req.end();
    });
    expect(chunked).toBe(createHash('sha256').update(upload).digest('hex'));
    const download = await get(`http://${VIP}:8080/bytes?n=${32 * 1024 * 1024}`);
    expect(download.status).toBe(200);
    expect(download.body.length).toBe(32 * 1024 * 1024);
  });

  it('keeps connections alive on both sides', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    await get(`http://${VIP}:8080/`, { agent });
    const accepted = b1.accepted;
    for (let i = 0; i < 20; i++) expect((await get(`http://${VIP}:8080/`, { agent })).status).toBe(200);
    expect(b1.accepted).toBe(accepted);
    agent.destroy();
  });

  it('tunnels an Upgrade (WebSocket) exchange after the 101', async () => {
    const socket = connect({ host: VIP, port: 8080 });
    // A complete RFC 6455 handshake: HAProxy answers 400 to a websocket Upgrade without its key.
    const text = await new Promise<string>((resolve, reject) => {
      let out = '';
      socket.on('connect', () => socket.write(`GET /ws HTTP/1.1\r\nHost: ${VIP}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`));
      socket.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('\r\n\r\n') && !out.includes('ping')) socket.write('ping-through-the-tunnel');
        if (out.endsWith('ping-through-the-tunnel')) resolve(out);
      });
      socket.on('error', reject);
    });
    socket.destroy();
    expect(text.split('\r\n')[0]).toBe('HTTP/1.1 101 Switching Protocols');
    expect(b1.seen.at(-1)?.headers.upgrade).toBe('websocket');
  });

  it('re-encrypts to a TLS real server', async () => {
    const r = await get(`http://${VIP}:8081/secure`);
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('tls-backend');
    expect(tlsBackend.seen.at(-1)?.url).toBe('/secure');
  });

  it('serves IPv6 VIPs', async () => {
    const r = await get(`http://[::1]:${sharedPort(17180)}/v6`);
    expect(r.status).toBe(200);
    expect(b1.seen.at(-1)?.headers['x-forwarded-for']).toBe('::1');
  });
});

describe('forceHttps', () => {
  it('redirects to the https URL of the same host and path with the configured code', async () => {
    const before = b1.seen.length;
    const r = await get(`http://${VIP}:8000/viewer/study?id=7`, { headers: { host: 'avs.hospital.example' } });
    expect(r.status).toBe(301);
    expect(r.headers.location).toBe('https://avs.hospital.example/viewer/study?id=7');
    const r2 = await get(`http://${VIP}:8001/a`, { headers: { host: 'avs.hospital.example:8001' } });
    expect(r2.status).toBe(308);
    expect(r2.headers.location).toBe('https://avs.hospital.example/a');
    expect(b1.seen.length).toBe(before);
  });
});

describe('http2', () => {
  it('negotiates h2 by ALPN with the VIP certificate and forwards over HTTP/1.1', async () => {
    const socket = tlsConnect({ host: VIP, port: 8443, ALPNProtocols: ['h2', 'http/1.1'], rejectUnauthorized: false, servername: 'avs.test' });
    await new Promise((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    expect(socket.alpnProtocol).toBe('h2');
    const fp = createHash('sha256').update(socket.getPeerCertificate().raw).digest('hex');
    socket.destroy();
    expect(fp.replace(/:/g, '').toLowerCase()).toBe(certFingerprint.replace(/:/g, '').toLowerCase());
    const { stdout } = await run('curl', ['-sk', '--http2', '-o', '/dev/null', '-w', '%{http_version} %{http_code}', `https://${VIP}:8443/h2`]);
    expect(stdout).toBe('2 200');
    const seen = b1.seen.at(-1);
    expect(seen?.url).toBe('/h2');
    expect(seen?.headers['x-forwarded-proto']).toBe('https');
    expect(seen?.headers.host).toBe(`${VIP}:8443`);
  });

  it('carries multi-megabyte bodies both ways over h2 and also speaks http/1.1', async () => {
    const file = join(dir, 'upload.bin');
    const upload = randomBytes(6 * 1024 * 1024);
    await writeFile(file, upload);
    const { stdout } = await run('curl', ['-sk', '--http2', '--data-binary', `@${file}`, '-D', '-', '-o', join(dir, 'echo.bin'), `https://${VIP}:8443/echo`], { maxBuffer: 1 << 20 });
    expect(stdout).toMatch(/^HTTP\/2 200/);
    expect(stdout).toContain(`x-body-sha256: ${createHash('sha256').update(upload).digest('hex')}`);
    const dl = await run('curl', ['-sk', '--http2', '-o', '/dev/null', '-w', '%{http_version} %{size_download}', `https://${VIP}:8443/bytes?n=${20 * 1024 * 1024}`]);
    expect(dl.stdout).toBe(`2 ${20 * 1024 * 1024}`);
    const h1 = await run('curl', ['-sk', '--http1.1', '-o', '/dev/null', '-w', '%{http_version} %{http_code}', `https://${VIP}:8443/one`]);
    expect(h1.stdout).toBe('1.1 200');
  });
});

describe('http2 VIPs side by side', () => {
  const alpn = async (port: number): Promise<string | false | null> => {
    const socket = tlsConnect({ host: VIP, port, ALPNProtocols: ['h2', 'http/1.1'], rejectUnauthorized: false, servername: 'avs.test' });
    await new Promise((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    const got = socket.alpnProtocol;
    socket.destroy();
    return got;
  };
  const version = async (port: number) => (await run('curl', ['-sk', '--http2', '-o', '/dev/null', '-w', '%{http_version} %{http_code}', `https://${VIP}:${port}/side`])).stdout;

  it('one VIP leaving http2 for http stops offering h2, the other keeps serving h2, and it offers h2 again when it comes back', async () => {
    const a = await createVip(client, { label: 'h2-a', ipAddress: VIP, ports: [8444], protocol: 'http2', certificateId: certId }, [{ label: 'b1', address: b1.host, port: b1.port }]);
    await createVip(client, { label: 'h2-b', ipAddress: VIP, ports: [8445], protocol: 'http2', certificateId: certId }, [{ label: 'b1', address: b1.host, port: b1.port }]);
    expect([await alpn(8444), await alpn(8445)]).toEqual(['h2', 'h2']);
    await client.updateVirtualService(a.id, { protocol: 'http' });
    expect(await alpn(8444)).not.toBe('h2');
    expect(await version(8444)).toBe('1.1 200');
    expect([await alpn(8445), await version(8445)]).toEqual(['h2', '2 200']);
    await client.updateVirtualService(a.id, { protocol: 'http2' });
    expect([await alpn(8444), await version(8444), await version(8445)]).toEqual(['h2', '2 200', '2 200']);
  });

  it('a VIP switched between http2 and http answers on its port as soon as each switch is acknowledged', async () => {
    // The listener of the new kind binds the port its old one has just released; with engine
    // workers the bind can find it still held for a moment: the write must wait for it.
    const c = await createVip(client, { label: 'h2-c', ipAddress: VIP, ports: [8446], protocol: 'http2', certificateId: certId }, [{ label: 'b1', address: b1.host, port: b1.port }]);
    for (let i = 0; i < 6; i++) {
      await client.updateVirtualService(c.id, { protocol: 'http' });
      expect(await alpn(8446)).not.toBe('h2');
      await client.updateVirtualService(c.id, { protocol: 'http2' });
      expect(await alpn(8446)).toBe('h2');
    }
    await client.deleteVirtualService(c.id);
  });
});

describe('tcp', () => {
  it('carries a 1 GiB stream byte-identical (AVS-AQI)', async () => {
    const block = randomBytes(1024 * 1024);
    const total = 1024;
    const expected = createHash('sha256');
    for (let i = 0; i < total; i++) expected.update(block);
    const digest = expected.digest('hex');
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect({ host: VIP, port: 1200, allowHalfOpen: true });
      let text = '';
      let sent = 0;
      const pump = () => {
        while (sent < total) {
          sent++;
          if (!socket.write(block)) return socket.once('drain', pump);
        }
        socket.end();
      };
      socket.on('connect', pump);
      socket.on('data', (c: Buffer) => (text += c.toString()));
      socket.on('end', () => resolve(text.trim()));
      socket.on('error', reject);
    });
    expect(answer).toBe(`${digest} ${total * 1024 * 1024}`);
  }, 120_000);

  it('carries 256 MiB both ways at once byte-identical (echo server, both directions under back-pressure)', async () => {
    const block = randomBytes(1024 * 1024);
    const total = 256;
    const sent = createHash('sha256');
    const got = createHash('sha256');
    let received = 0;
    await new Promise<void>((resolve, reject) => {
      const socket = connect({ host: VIP, port: 1202 });
      let i = 0;
      const pump = () => {
        while (i < total) {
          i++;
          sent.update(block);
          if (!socket.write(block)) return socket.once('drain', pump);
        }
      };
      socket.on('connect', pump);
      socket.on('data', (c: Buffer) => {
        got.update(c);
        received += c.length;
        if (received === total * block.length) {
          socket.destroy();
          resolve();
        }
      });
      socket.on('error', reject);
    });
    expect(got.digest('hex')).toBe(sent.digest('hex'));
  }, 120_000);

  it('moves a TCP session whose connect was refused to another server, with nothing lost', async () => {
    for (let i = 0; i < 6; i++) {
      const echoed = await new Promise<string>((resolve, reject) => {
        const socket = connect({ host: VIP, port: 1203 });
        // Sent at once: these bytes wait in the appliance while it finds a server that answers.
        socket.write(`hello ${i}\n`);
        socket.once('data', (d: Buffer) => {
          resolve(d.toString());
          socket.destroy();
        });
        socket.on('error', reject);
      });
      expect(echoed).toBe(`hello ${i}\n`);
    }
  });

  it('terminates TLS on a tcp VIP with a certificate', async () => {
    const socket = tlsConnect({ host: VIP, port: 1201, rejectUnauthorized: false });
    await new Promise((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    const payload = randomBytes(3 * 1024 * 1024);
    const back: Buffer[] = [];
    let got = 0;
    await new Promise<void>((resolve, reject) => {
      socket.on('data', (c: Buffer) => {
        back.push(c);
        got += c.length;
        if (got >= payload.length) resolve();
      });
      socket.on('error', reject);
      socket.write(payload);
    });
    socket.destroy();
    expect(Buffer.concat(back).equals(payload)).toBe(true);
  });
});
