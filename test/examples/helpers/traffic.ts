// Clients for the traffic the examples carry: plain HTTP (redirects, cookies), HTTP/2 over
// TLS with ALPN (which protocol and certificate the VIP presents), TCP services that greet
// with the name of the server that answered, and the appliance's view of server health.
import { connect as h2Connect, type ClientHttp2Session } from 'node:http2';
import { request, type IncomingHttpHeaders } from 'node:http';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect, type PeerCertificate } from 'node:tls';
import type { ApplianceClient } from '../../../openapi/sdk/index.js';
import type { ViewerAnswer } from '../../../examples/backends/index.js';
import { waitFor } from './env.js';

/** An HTTP answer. */
export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** The viewer's JSON answer (who answered), when the body is one. */
  viewer?: ViewerAnswer;
}

/** The value of the persistence cookie a response sets (`NAME=value`), if any. */
export function setCookie(headers: IncomingHttpHeaders | Record<string, unknown>, name = 'SERVERID'): string | undefined {
  const raw = headers['set-cookie'];
  const list = Array.isArray(raw) ? raw : raw === undefined ? [] : [String(raw)];
  return list.map((c) => String(c).split(';')[0]!).find((c) => c.startsWith(`${name}=`));
}

function viewerOf(body: string): ViewerAnswer | undefined {
  try {
    const v = JSON.parse(body) as ViewerAnswer;
    return typeof v.server === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** GET over HTTP/1.1 (one connection per request). */
export function httpGet(address: string, port: number, path: string, options: { host?: string; cookie?: string; localAddress?: string } = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { connection: 'close', ...(options.host ? { host: options.host } : {}), ...(options.cookie ? { cookie: options.cookie } : {}) };
    request({ host: address, port, path, headers, localAddress: options.localAddress, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, viewer: viewerOf(body) }));
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

/** An HTTP/2 session over TLS, and what the handshake showed. */
export interface H2Session {
  /** The protocol ALPN chose. */
  alpn: string | false | undefined;
  /** The certificate the VIP presented. */
  peer: PeerCertificate;
  /** GET one path on the session. */
  get(path: string, cookie?: string): Promise<{ status: number; cookie: string | undefined; viewer: ViewerAnswer }>;
  close(): void;
}

/** Opens an HTTP/2 session, verifying the VIP's certificate against `ca` for `servername`. */
export async function h2Session(address: string, port: number, tls: { ca: string; servername: string }): Promise<H2Session> {
  const session: ClientHttp2Session = h2Connect(`https://${address}:${port}`, { ca: tls.ca, servername: tls.servername });
  await new Promise<void>((resolve, reject) => {
    session.once('connect', () => resolve());
    session.once('error', reject);
  });
  const socket = session.socket as unknown as { getPeerCertificate(): PeerCertificate };
  return {
    alpn: session.alpnProtocol,
    peer: socket.getPeerCertificate(),
    get(path, cookie) {
      return new Promise((resolve, reject) => {
        const stream = session.request({ ':path': path, ':authority': tls.servername, ...(cookie ? { cookie } : {}) });
        let status = 0;
        let set: string | undefined;
        let body = '';
        stream.setEncoding('utf8');
        stream.on('response', (h) => {
          status = Number(h[':status']);
          set = setCookie(h);
        });
        stream.on('data', (d: string) => (body += d));
        stream.on('end', () => {
          const viewer = viewerOf(body);
          if (!viewer) reject(new Error(`no viewer answer (${status}): ${body.slice(0, 200)}`));
          else resolve({ status, cookie: set, viewer });
        });
        stream.on('error', reject);
        stream.end();
      });
    },
    close: () => session.close(),
  };
}

/** The certificate a TLS service presents (no verification: for passthrough checks). */
export function tlsPeer(address: string, port: number, servername?: string): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: address, port, servername, rejectUnauthorized: false }, () => {
      const peer = s.getPeerCertificate();
      s.end();
      resolve(peer);
    });
    s.on('error', reject);
  });
}

/** Connects to a TCP service and returns the first line it sends (`HELLO <name> <address:port>`). */
export function tcpGreeting(address: string, port: number, localAddress?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ host: address, port, localAddress });
    let text = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no greeting from ${address}:${port}`));
    }, 5_000);
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      text += d;
      if (text.includes('\n')) {
        clearTimeout(timer);
        s.destroy();
        resolve(text.split('\n')[0]!.trim());
      }
    });
    s.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** The server name in a TCP greeting. */
export const greeter = (line: string) => line.split(' ')[1] ?? line;

/** Health of each real server of a VIP, by server label, from the System Overview. */
export async function healthOf(client: ApplianceClient, vipLabel: string): Promise<Record<string, string>> {
  const vs = (await client.getOverview()).virtualServices.find((v) => v.label === vipLabel);
  if (!vs) throw new Error(`no VIP ${vipLabel} in the overview`);
  return Object.fromEntries(vs.realServers.map((r) => [r.label, r.health]));
}

/** Waits until the named servers of each VIP have the health given (`{ AVS: { SERVER1: 'down' } }`). */
export async function waitForHealth(client: ApplianceClient, want: Record<string, Record<string, string>>, timeoutMs = 40_000): Promise<void> {
  await waitFor(
    `health ${JSON.stringify(want)}`,
    async () => {
      for (const [vip, servers] of Object.entries(want)) {
        const h = await healthOf(client, vip);
        for (const [label, health] of Object.entries(servers)) if (h[label] !== health) return undefined;
      }
      return true;
    },
    timeoutMs,
  );
}
