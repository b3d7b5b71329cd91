// Stand-ins for the TeraRecon Aquarius iNtuition servers of the demo: each answers HTTPS
// (the AVS web service, with its own self-signed certificate, as the guide asks) and a TCP
// service (AQI) that echoes lines, on its own loopback address.
import { createServer as createHttpsServer, type Server } from 'node:https';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { generateSelfSigned } from '../config/x509-generate.js';

/** A running demo server. */
export interface DemoBackend {
  name: string;
  address: string;
  close(): Promise<void>;
}

function listen(server: Server | NetServer, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => resolve());
  });
}

/** Starts one demo imaging server: HTTPS on `httpsPort` and a line-echo TCP service on `tcpPort`. */
export async function startDemoBackend(name: string, address: string, httpsPort: number, tcpPort: number): Promise<DemoBackend> {
  const cert = await generateSelfSigned({ commonName: name, subjectAltNames: [address], days: 30, keyType: 'ecdsa-p256' });
  const sockets = new Set<Socket>();
  const web = createHttpsServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'text/plain');
      res.setHeader('x-served-by', name);
      res.end(`${name}: ${req.method} ${req.url} (client ${req.headers['x-forwarded-for'] ?? '?'} via ${req.headers['x-forwarded-proto'] ?? '?'})\n`);
    });
  });
  const aqi = createNetServer((s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
    s.write(`${name} AQI ready\n`);
    s.on('data', (d: Buffer) => s.write(`${name} echo: ${d.toString()}`));
  });
  web.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await listen(web, httpsPort, address);
  await listen(aqi, tcpPort, address);
  return {
    name,
    address,
    async close() {
      for (const s of sockets) s.destroy();
      await Promise.all([new Promise((r) => web.close(r)), new Promise((r) => aqi.close(r))]);
    },
  };
}
