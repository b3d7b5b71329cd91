// The demo's traffic through TeraRecon's three VIPs, printed as it goes: the redirect of
// AVS-Redirect, HTTP/2 through AVS verified against the example's certificate (with the
// persistence cookie keeping the client on one server), and AQI connections over TCP.
import { connect as h2Connect } from 'node:http2';
import { request } from 'node:http';
import { connect } from 'node:net';

/** Where the VIPs are and what the AVS certificate is. */
export interface TrafficTarget {
  vip: string;
  /** The name the certificate was made for. */
  serverName: string;
  /** The certificate AVS presents, trusted as the CA. */
  certificatePem: string;
}

function redirect(t: TrafficTarget, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    request({ host: t.vip, port: 80, path, headers: { host: t.serverName }, agent: false }, (res) => {
      res.resume();
      resolve(`${res.statusCode} Location: ${res.headers.location}`);
    })
      .on('error', reject)
      .end();
  });
}

async function avs(t: TrafficTarget, say: (line: string) => void): Promise<void> {
  // Verified like a browser would: the example's certificate, for the name the client asked.
  const session = h2Connect(`https://${t.vip}:443`, { ca: t.certificatePem, servername: t.serverName });
  await new Promise<void>((resolve, reject) => {
    session.once('connect', () => resolve());
    session.once('error', reject);
  });
  say(`  AVS           TLS for ${t.serverName} verified against the example's certificate, ALPN ${session.alpnProtocol}`);
  let cookie: string | undefined;
  try {
    for (let i = 0; i < 4; i++) {
      const line = await new Promise<string>((resolve, reject) => {
        const stream = session.request({ ':path': `/study/${i}`, ':authority': t.serverName, ...(cookie ? { cookie } : {}) });
        let body = '';
        stream.on('response', (headers) => {
          const set = headers['set-cookie'];
          if (set && !cookie) cookie = String(Array.isArray(set) ? set[0] : set).split(';')[0];
        });
        stream.setEncoding('utf8');
        stream.on('data', (d: string) => (body += d));
        stream.on('end', () => {
          const answer = JSON.parse(body) as { server: string; protocol: string; tls: boolean };
          resolve(`${answer.server} (appliance to server: ${answer.protocol}${answer.tls ? ' over TLS' : ''})`);
        });
        stream.on('error', reject);
        stream.end();
      });
      say(`  AVS (h2)      GET /study/${i} -> ${line}${i === 0 && cookie ? `  [cookie ${cookie}]` : ''}`);
    }
  } finally {
    session.close();
  }
}

function aqi(t: TrafficTarget, n: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: t.vip, port: 1200 });
    let text = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      text += d;
      const lines = text.split('\r\n').filter(Boolean);
      if (lines.length === 1 && text.endsWith('\r\n')) s.write(`AQI request ${n}\r\n`);
      if (lines.length >= 2) {
        s.end();
        resolve(lines.join(' | '));
      }
    });
    s.on('error', reject);
  });
}

/** Sends traffic through the three VIPs and prints what came back. */
export async function driveTraffic(t: TrafficTarget, say: (line: string) => void): Promise<void> {
  say(`  AVS-Redirect  GET http://${t.serverName}/aqnet/viewer?study=42 -> ${await redirect(t, '/aqnet/viewer?study=42')}`);
  await avs(t, say);
  for (let i = 1; i <= 2; i++) say(`  AVS-AQI (tcp) connection ${i} -> ${await aqi(t, i)}`);
}
