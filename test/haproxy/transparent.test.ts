// A transparent proxy VIP (`transparent: true`): the real server sees the client's own
// address, not the appliance's. Two-arm, in network namespaces: the client on one network,
// the real server on another with its default route via the appliance (as the contract says
// a transparent VIP needs), the appliance between them running the HAProxy engine, its API
// reached over a third link from this test's namespace. The same VIP without `transparent`
// shows the appliance's address (so the check can fail), and the policy routing the engine
// installs for the return traffic is there exactly while a transparent VIP is. The embedded
// engine refuses the setting with 422, and a layer 7 rule refuses it on a forceHttps VIP;
// both change nothing. Addresses: 198.19.2-4.x (namespaces l4b-tp-*), 127.0.235.2 (API).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplianceProblemError, type ApplianceClient } from '../../openapi/sdk/index.js';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';
import { addNamespaces, deleteNamespaces, ip, link, nsExec } from '../helpers/netns-lan.js';
import { needProgram } from '../helpers/programs.js';
import { spawn, type ChildProcess } from 'node:child_process';

const NS = { client: 'l4b-tp-c', appliance: 'l4b-tp-a', server: 'l4b-tp-s' };
const CLIENT = '198.19.2.1';
const VIP = '198.19.2.100';
const APPLIANCE_SERVER_SIDE = '198.19.3.2';
const SERVER = '198.19.3.3';
const ROOT_IFACE = 'l4b-tp-h';

let app: TestAppliance | null = null;
let client: ApplianceClient;
let server: ChildProcess | null = null;

async function teardown(): Promise<void> {
  await deleteNamespaces(Object.values(NS));
  await ip('link', 'del', ROOT_IFACE).catch(() => undefined);
}

/** What the real server saw as the peer of one connection through the VIP. */
async function peerSeenByServer(): Promise<string> {
  const r = await nsExec(NS.client, process.execPath, ['-e', `const s = require('net').connect(7000, '${VIP}'); let d = ''; s.on('data', (c) => d += c); s.on('end', () => console.log(d.trim())); s.on('error', (e) => { console.error(e.message); process.exit(2); }); s.setTimeout(15000, () => process.exit(3))`]);
  if (r.code !== 0) throw new Error(`client failed (${r.code}): ${r.stderr}`);
  return r.stdout.trim();
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const plumbing = async () => (await nsExec(NS.appliance, 'nft', ['list', 'table', 'ip', 'lbappliance_transparent'])).code === 0 && (await nsExec(NS.appliance, 'ip', ['-4', 'rule', 'show'])).stdout.includes('fwmark 0x4c42 lookup 19522');

describe('transparent on the HAProxy engine (network namespaces, two-arm)', () => {
  beforeAll(async () => {
    needProgram('ip');
    needProgram('nft');
    needProgram('haproxy');
    await teardown();
    await addNamespaces(Object.values(NS));
    await link({ ns: NS.client, iface: 'l4btc0', cidr: `${CLIENT}/24` }, { ns: NS.appliance, iface: 'l4bta0', cidr: '198.19.2.2/24' });
    await link({ ns: NS.appliance, iface: 'l4bta1', cidr: `${APPLIANCE_SERVER_SIDE}/24` }, { ns: NS.server, iface: 'l4bts0', cidr: `${SERVER}/24` });
    await link({ ns: null, iface: ROOT_IFACE, cidr: '198.19.4.254/24' }, { ns: NS.appliance, iface: 'l4bta2', cidr: '198.19.4.1/24' });
    await ip('-n', NS.appliance, 'addr', 'add', `${VIP}/32`, 'dev', 'l4bta0');
    // The real server answers clients through the appliance: the one thing a transparent VIP asks of it.
    await ip('-n', NS.server, 'route', 'add', 'default', 'via', APPLIANCE_SERVER_SIDE);
    server = spawn('ip', ['netns', 'exec', NS.server, process.execPath, '-e', "require('net').createServer((s) => s.end(`${s.remoteAddress}\\n`)).listen(7000, '0.0.0.0', () => console.log('ready'))"], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      server!.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
      server!.once('exit', (code) => reject(new Error(`server exited ${code}`)));
    });
    app = await startTestAppliance({ host: '198.19.4.1', engine: 'haproxy', wrap: ['ip', 'netns', 'exec', NS.appliance] });
    client = app.client();
  }, 120_000);

  afterAll(async () => {
    await app?.dispose();
    server?.kill('SIGKILL');
    await teardown();
  });

  it('without transparent the real server sees the appliance; with it, the client; the return path exists only while needed', async () => {
    const vs = await client.createVirtualService({ label: 'DICOM', ipAddress: VIP, ports: [7000], protocol: 'tcp', healthCheck: { type: 'none' } });
    expect(vs.transparent).toBe(false);
    await client.createRealServer(vs.id, { label: 'PACS1', address: SERVER, port: 7000 });
    await until('the VIP carrying traffic', async () => (await peerSeenByServer()) !== '');
    expect(await peerSeenByServer()).toBe(APPLIANCE_SERVER_SIDE);
    expect(await plumbing()).toBe(false);

    const changed = await client.updateVirtualService(vs.id, { transparent: true });
    expect(changed.transparent).toBe(true);
    expect(await plumbing()).toBe(true);
    await until('the server to see the client', async () => (await peerSeenByServer()) === CLIENT);
    for (let i = 0; i < 5; i++) expect(await peerSeenByServer()).toBe(CLIENT);

    await client.updateVirtualService(vs.id, { transparent: false });
    expect(await plumbing()).toBe(false);
    await until('the server to see the appliance again', async () => (await peerSeenByServer()) === APPLIANCE_SERVER_SIDE);
  }, 120_000);
});

describe('where transparent is refused', () => {
  let embedded: TestAppliance | null = null;
  beforeAll(async () => {
    embedded = await startTestAppliance({ host: '127.0.235.2', engine: 'embedded' });
  }, 60_000);
  afterAll(async () => {
    await embedded?.dispose();
  });

  async function refusal(write: () => Promise<unknown>): Promise<{ status: number; code: string; field: string | undefined }> {
    try {
      await write();
    } catch (err) {
      if (err instanceof ApplianceProblemError) return { status: err.status, code: err.problem.code, field: err.problem.field };
      throw err;
    }
    throw new Error('the write was accepted');
  }

  it('the embedded engine: 422 LB_ENGINE_REFUSED on /transparent (Node.js cannot open IP_TRANSPARENT sockets), nothing changes', async () => {
    const c = embedded!.client();
    const before = (await c.listVirtualServices()).revision;
    expect(await refusal(() => c.createVirtualService({ label: 'DICOM', ipAddress: '127.0.235.100', ports: [104], protocol: 'tcp', transparent: true }))).toEqual({ status: 422, code: 'LB_ENGINE_REFUSED', field: '/transparent' });
    const vs = await c.createVirtualService({ label: 'DICOM', ipAddress: '127.0.235.100', ports: [11112], protocol: 'tcp', healthCheck: { type: 'none' } });
    expect(await refusal(() => c.updateVirtualService(vs.id, { transparent: true }))).toEqual({ status: 422, code: 'LB_ENGINE_REFUSED', field: '/transparent' });
    expect((await c.getVirtualService(vs.id)).transparent).toBe(false);
    expect((await c.listVirtualServices()).revision).toBe(before + 1);
  });

  it('a forceHttps VIP connects to no server: 422 LB_INVALID_COMBINATION on /transparent', async () => {
    const c = embedded!.client();
    const before = (await c.listVirtualServices()).revision;
    expect(await refusal(() => c.createVirtualService({ label: 'REDIRECT', ipAddress: '127.0.235.101', ports: [8080], protocol: 'http', forceHttps: true, transparent: true }))).toEqual({ status: 422, code: 'LB_INVALID_COMBINATION', field: '/transparent' });
    expect((await c.listVirtualServices()).revision).toBe(before);
  });
});
