// `npm run demo` (`lbappliance demo`): a local appliance with the embedded engine, demo
// imaging servers on loopback, TeraRecon's VIP set deployed through the SDK, traffic
// through every VIP, the System Overview printed; then it runs until Ctrl-C.
import { connect as http2Connect } from 'node:http2';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { request } from 'node:http';
import { ApplianceClient } from '../../openapi/sdk/index.js';
import { startAppliance } from '../appliance.js';
import { createLogger } from '../logging.js';
import { startDemoBackend, type DemoBackend } from './demo-backends.js';
import { DEMO_SERVERS, DEMO_VIP, deployTeraRecon, type DemoPorts } from './deploy-sdk.js';

const PASSWORD = 'demo-password-change-me';

function canBind(port: number, address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, address, () => s.close(() => resolve(true)));
  });
}

function say(text: string): void {
  process.stdout.write(`${text}\n`);
}

async function traffic(ports: DemoPorts): Promise<void> {
  const redirect = await new Promise<string>((resolve, reject) => {
    request({ host: DEMO_VIP, port: ports.redirect, path: '/viewer/?study=42', headers: { host: 'intuition.demo.test' } }, (res) => {
      res.resume();
      resolve(`${res.statusCode} Location: ${res.headers.location}`);
    })
      .on('error', reject)
      .end();
  });
  say(`  AVS-Redirect  GET http://${DEMO_VIP}:${ports.redirect}/viewer/?study=42 -> ${redirect}`);
  const session = http2Connect(`https://${DEMO_VIP}:${ports.avs}`, { rejectUnauthorized: false });
  let cookie: string | undefined;
  for (let i = 0; i < 4; i++) {
    const line = await new Promise<string>((resolve, reject) => {
      const stream = session.request({ ':path': `/study/${i}`, ...(cookie ? { cookie } : {}) });
      let body = '';
      stream.on('response', (headers) => {
        const set = headers['set-cookie'];
        if (set && !cookie) cookie = String(Array.isArray(set) ? set[0] : set).split(';')[0];
      });
      stream.on('data', (d: Buffer) => (body += d.toString()));
      stream.on('end', () => resolve(body.trim()));
      stream.on('error', reject);
      stream.end();
    });
    say(`  AVS (h2)      GET /study/${i} -> ${line}${i === 0 && cookie ? `  [cookie ${cookie}]` : ''}`);
  }
  session.close();
  for (let i = 0; i < 2; i++) {
    const reply = await new Promise<string>((resolve, reject) => {
      const s = connect({ host: DEMO_VIP, port: ports.aqi });
      let text = '';
      s.on('data', (d: Buffer) => {
        text += d.toString();
        if (text.split('\n').length > 2) {
          s.end();
          resolve(text.trim().replace(/\n/g, ' | '));
        } else if (text.includes('ready')) s.write(`hello ${i}\n`);
      });
      s.on('error', reject);
    });
    say(`  AVS-AQI (tcp) connection ${i + 1} -> ${reply}`);
  }
}

type Overview = Awaited<ReturnType<ApplianceClient['getOverview']>>;

function printOverview(o: Overview): void {
  const paint = process.stdout.isTTY ? (c: string, t: string) => `\x1b[${{ green: 32, yellow: 33, red: 31, blue: 34, grey: 90 }[c] ?? 0}m${t}\x1b[0m` : (_c: string, t: string) => t;
  say(`\nSystem Overview (revision ${o.revision}, engine ${o.node.engine}):`);
  for (const vs of o.virtualServices) {
    say(`  ${paint(vs.colour, '●')} ${vs.label.padEnd(14)} ${`${vs.ipAddress}:${vs.ports.join(',')}`.padEnd(22)} ${vs.protocol.padEnd(6)} ${vs.state.padEnd(9)} conns ${vs.connections}${vs.error ? `  (${vs.error})` : ''}`);
    for (const rs of vs.realServers) {
      say(`      ${paint(rs.colour, '●')} ${rs.label.padEnd(10)} ${`${rs.address}:${rs.port ?? '-'}`.padEnd(20)} weight ${rs.weight}  ${rs.health.padEnd(7)} conns ${rs.connections}  last check ${rs.lastCheck?.detail ?? '-'}`);
    }
  }
}

/** Runs the demo until SIGINT or SIGTERM. */
export async function demo(_argv: string[]): Promise<void> {
  const root = process.getuid?.() === 0 || (await canBind(80, DEMO_VIP));
  const ports: DemoPorts = root
    ? { redirect: 80, avs: 443, aqi: 1200, serverHttps: 443, serverAqi: 1200 }
    : { redirect: 8080, avs: 8443, aqi: 1200, serverHttps: 9443, serverAqi: 1200 };
  if (!root) say(`Ports below 1024 need root: the demo uses ${ports.redirect} and ${ports.avs} instead of 80 and 443.`);
  const dataDir = await mkdtemp(join(tmpdir(), 'lbappliance-demo-'));
  const backends: DemoBackend[] = [];
  for (const s of DEMO_SERVERS) backends.push(await startDemoBackend(s.label, s.address, ports.serverHttps, ports.serverAqi));
  const appliance = await startAppliance({
    dataDir,
    apiHost: '127.0.40.1',
    apiPort: 9443,
    engine: 'embedded',
    logger: createLogger(process.env.LBAPPLIANCE_LOG_LEVEL ?? 'warn'),
    initialPassword: () => PASSWORD,
  });
  const client = new ApplianceClient({ endpoint: appliance.endpoint, username: 'loadbalancer', password: PASSWORD, insecure: true });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    say('\nStopping: VIPs closed, connections finishing...');
    await client.close().catch(() => undefined);
    await appliance.close(2000);
    for (const b of backends) await b.close();
    await rm(dataDir, { recursive: true, force: true });
    say('Stopped.');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  say(`Appliance API at ${appliance.endpoint} (user loadbalancer, password ${PASSWORD}); demo servers ${DEMO_SERVERS.map((s) => s.address).join(', ')}.`);
  say('Deploying TeraRecon Aquarius iNtuition (3 VIPs) through the SDK...');
  await deployTeraRecon(client, ports);
  const bound = (await client.getOverview()).virtualServices.every((v) => v.listening);
  if (!bound) say('Some VIPs could not bind (see the overview below); traffic to them is skipped.');
  else {
    say('Traffic through every VIP:');
    await traffic(ports);
  }
  // Let the first health checks finish so the overview shows verdicts, not "unknown".
  await new Promise((r) => setTimeout(r, 500));
  printOverview(await client.getOverview());
  say(`\nRunning. Try: curl -k --http2 https://${DEMO_VIP}:${ports.avs}/  (Ctrl-C to stop)`);
}
