// `npm run demo` (`lbappliance demo`): an appliance with the embedded engine, the TeraRecon
// stand-in servers on their loopback addresses, the TeraRecon example deployed through the
// Terraform provider (or its SDK script where terraform is missing), traffic through every
// VIP, the System Overview; then it runs until Ctrl-C, which stops everything and removes
// its temporary directory (the appliance's data, the terraform working directory and state).
// LBAPPLIANCE_DEMO_NETWORK=127.0.140 moves the whole plan (API, VIP, servers) off the
// example's 127.0.40.x, e.g. to run beside the TeraRecon tests.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplianceClient, type Overview } from '../../openapi/sdk/index.js';
import { relocateProfile, startBackends, teraRecon, type RunningBackends } from '../../examples/backends/index.js';
import { startAppliance, type RunningAppliance } from '../appliance.js';
import { generateSelfSigned } from '../config/x509-generate.js';
import { createLogger } from '../logging.js';
import { deployWithSdk, deployWithTerraform, findTerraform, type Deploying } from './deploy.js';
import { driveTraffic } from './traffic.js';

const PASSWORD = 'demo-password-change-me';
/** The example's loopback plan: the guide's 10.10.40.x as 127.0.40.x. */
const PLAN = '127.0.40.';
/** The name AVS's certificate is made for. */
const SERVER_NAME = 'intuition.demo.test';

/** Whether stdout's reader is gone (`npm run demo | tee demo.log` after Ctrl-C killed tee). */
let outputGone = false;

function say(text: string): void {
  if (outputGone) return;
  try {
    process.stdout.write(`${text}\n`);
  } catch {
    outputGone = true;
  }
}

function canBind(port: number, address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, address, () => s.close(() => resolve(true)));
  });
}

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

/** The plan's first three octets (`127.0.40.`), or the ones LBAPPLIANCE_DEMO_NETWORK gives. */
function network(): string {
  const given = process.env.LBAPPLIANCE_DEMO_NETWORK;
  if (!given) return PLAN;
  const prefix = given.endsWith('.') ? given : `${given}.`;
  if (!/^127\.(25[0-5]|2[0-4]\d|1?\d?\d)\.(25[0-5]|2[0-4]\d|1?\d?\d)\.$/.test(prefix)) throw new Error(`LBAPPLIANCE_DEMO_NETWORK must be three octets of a loopback address like 127.0.140, not ${JSON.stringify(given)}`);
  return prefix;
}

/** Runs the demo until SIGINT or SIGTERM. */
export async function demo(_argv: string[]): Promise<void> {
  const started = performance.now();
  // EPIPE once the pipe's reader is gone: stop printing, but keep stopping and cleaning up.
  process.stdout.on('error', () => {
    outputGone = true;
  });
  const net = network();
  const move = (address: string) => (address.startsWith(PLAN) ? net + address.slice(PLAN.length) : address);
  /** The guide's VIP address, in the loopback plan. */
  const vip = move('127.0.40.217');
  const profile = net === PLAN ? teraRecon : relocateProfile(teraRecon, PLAN, net);
  if (!(await canBind(80, vip))) {
    say('The TeraRecon example uses the guide\'s ports 80 and 443 (and its servers 443): run the demo as root, or give node CAP_NET_BIND_SERVICE.');
    process.exitCode = 1;
    return;
  }
  const workDir = await mkdtemp(join(tmpdir(), 'lbappliance-demo-'));
  const deploying: Deploying = {};
  let appliance: RunningAppliance | undefined;
  let backends: RunningBackends | undefined;
  let client: ApplianceClient | undefined;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    say(`\n${signal}: stopping the appliance (VIPs closed, connections finishing) and the servers...`);
    // A terraform still applying got the same Ctrl-C from the terminal; wait for it to stop.
    if (deploying.child && deploying.child.exitCode === null) await new Promise((r) => deploying.child!.once('exit', r));
    await client?.close().catch(() => undefined);
    await appliance?.close(2000);
    await backends?.stop();
    await rm(workDir, { recursive: true, force: true });
    say('Stopped; the demo\'s temporary directory is removed.');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('Ctrl-C'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  backends = await startBackends(profile, { runDir: join(workDir, 'backends') });
  appliance = await startAppliance({
    dataDir: join(workDir, 'appliance'),
    apiHost: move('127.0.40.1'),
    apiPort: 9443,
    engine: 'embedded',
    logger: createLogger(process.env.LBAPPLIANCE_LOG_LEVEL ?? 'warn'),
    initialPassword: () => PASSWORD,
  });
  const apiCertificate = await readFile(join(workDir, 'appliance', 'tls', 'api.crt'), 'utf8');
  client = new ApplianceClient({ endpoint: appliance.endpoint, username: 'loadbalancer', password: PASSWORD, caPem: apiCertificate });
  say(`Appliance API at ${appliance.endpoint} (user loadbalancer, password ${PASSWORD}), embedded engine.`);
  say(`TeraRecon servers: ${profile.hosts.map((h) => `${h.id} ${h.address}`).join(', ')} (HTTPS on 443, AQI on 1200).`);

  // The certificate AVS terminates TLS with, where the example's local.tfvars expects it.
  const cert = await generateSelfSigned({ commonName: SERVER_NAME, subjectAltNames: [SERVER_NAME, vip], days: 30, keyType: 'ecdsa-p256' });
  await writeFile(join(workDir, 'intuition-cert.crt'), cert.certPem);
  await writeFile(join(workDir, 'intuition-cert.key'), cert.keyPem, { mode: 0o600 });

  const terraform = await findTerraform();
  if (terraform) {
    say(`Deploying examples/terarecon/terraform with ${terraform} apply in ${workDir}...`);
    const env = { LBAPPLIANCE_ENDPOINT: appliance.endpoint, LBAPPLIANCE_USERNAME: 'loadbalancer', LBAPPLIANCE_PASSWORD: PASSWORD, LBAPPLIANCE_CA_PEM: apiCertificate };
    await deployWithTerraform(terraform, workDir, env, deploying, say, move);
  } else {
    say('No terraform on PATH: deploying the same example with its SDK script (examples/terarecon/sdk.ts) instead...');
    await deployWithSdk(client, workDir, say, move);
  }
  if (stopping) return;

  const bound = (await client.getOverview()).virtualServices.every((v) => v.listening);
  if (!bound) say('Some VIPs could not bind (see the overview below); traffic to them is skipped.');
  else {
    say('Traffic through every VIP:');
    await driveTraffic({ vip, serverName: SERVER_NAME, certificatePem: cert.certPem }, say);
  }
  // Let the first health checks answer, so the overview shows verdicts rather than "unknown".
  for (let i = 0; i < 30; i++) {
    const o = await client.getOverview();
    if (o.virtualServices.every((v) => v.realServers.every((r) => r.health !== 'unknown'))) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  printOverview(await client.getOverview());
  say(`\nReady in ${((performance.now() - started) / 1000).toFixed(1)} s. Try: curl --cacert ${join(workDir, 'intuition-cert.crt')} --resolve ${SERVER_NAME}:443:${vip} https://${SERVER_NAME}/  (Ctrl-C stops everything)`);
}
