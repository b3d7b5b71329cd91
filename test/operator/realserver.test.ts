// `lbappliance realserver`, as the engineer setting up a real server behind a layer 4 VIP uses
// it: the printout for Linux and Windows, the refusals of a wrong command line, the VIPs read
// from an appliance, and `--apply` inside a network namespace standing in for a real server.
// There the test shows the ARP problem first (a VIP on lo answers ARP on the wire), then that
// after `--apply` the server no longer answers ARP for the VIP yet accepts a connection to it
// delivered by MAC only (a client routing the VIP via the server, which is what direct routing
// does), replying from the VIP to the client's own address; and that a second run changes
// nothing. Addresses: 127.0.235.x (API), 198.19.0.0/24 (namespaces l4b-rs-*).
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';
import { buildLan, type Lan } from '../helpers/netns-lan.js';
import { LBAPPLIANCE_BIN } from '../helpers/paths.js';
import { needProgram } from '../helpers/programs.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LBAPPLIANCE_')));
  return new Promise((resolve) => {
    execFile(process.execPath, [LBAPPLIANCE_BIN, 'realserver', ...args], { env: { ...base, ...env } as NodeJS.ProcessEnv }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('the printout', () => {
  it('direct routing on Linux: the VIP on lo, arp_ignore and arp_announce on all and the interface, loose rp_filter, and how to keep them', async () => {
    const r = await cli(['--vip', '10.10.40.217', '--vip', '10.10.40.218', '--interface', 'ens192']);
    expect(r.code).toBe(0);
    const commands = r.stdout.split('\n').filter((l) => !l.startsWith('#') && l.trim() !== '').map((l) => l.replace(/\s+#.*$/, ''));
    expect(commands).toEqual([
      'sysctl -w net.ipv4.conf.all.arp_ignore=1',
      'sysctl -w net.ipv4.conf.all.arp_announce=2',
      'sysctl -w net.ipv4.conf.ens192.arp_ignore=1',
      'sysctl -w net.ipv4.conf.ens192.arp_announce=2',
      'sysctl -w net.ipv4.conf.all.rp_filter=2',
      'sysctl -w net.ipv4.conf.ens192.rp_filter=2',
      'ip addr add 10.10.40.217/32 dev lo',
      'ip addr add 10.10.40.218/32 dev lo',
    ]);
    expect(r.stdout).toContain('/etc/sysctl.d/90-lbappliance-realserver.conf');
    expect(r.stdout).toContain('#   net.ipv4.conf.ens192.arp_ignore = 1');
    expect(r.stdout).toContain('up ip addr add 10.10.40.218/32 dev lo');
    expect(r.stdout).toContain('cannot translate ports');
  });

  it('NAT: the default route through the appliance, as a note without --gateway and as a command with it', async () => {
    const note = await cli(['--mode', 'nat']);
    expect(note.code).toBe(0);
    expect(note.stdout).toContain('ip route replace default via APPLIANCE_ADDRESS');
    expect(note.stdout.split('\n').filter((l) => !l.startsWith('#') && l.trim() !== '')).toEqual([]);
    const withGw = await cli(['--mode', 'nat', '--gateway', '10.10.40.2', '--interface', 'eth0']);
    expect(withGw.stdout).toMatch(/^ip route replace default via 10\.10\.40\.2 /m);
    expect(withGw.stdout).not.toContain('arp_ignore');
  });

  it('SNAT: nothing to change on the server', async () => {
    const r = await cli(['--mode', 'snat', '--interface', 'eth0']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('nothing to change on the server');
    expect(r.stdout.split('\n').filter((l) => !l.startsWith('#') && l.trim() !== '')).toEqual([]);
  });

  it('Windows: the loopback adapter with the VIP as /32 and the weak host settings through netsh', async () => {
    const r = await cli(['--vip', '10.10.40.217', '--os', 'windows']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Microsoft KM-TEST Loopback Adapter');
    expect(r.stdout).toContain('10.10.40.217 with subnet mask 255.255.255.255');
    expect(r.stdout).toContain('netsh interface ipv4 set interface "net" weakhostreceive=enabled');
    expect(r.stdout).toContain('netsh interface ipv4 set interface "loopback" weakhostreceive=enabled');
    expect(r.stdout).toContain('netsh interface ipv4 set interface "loopback" weakhostsend=enabled');
    expect(r.stdout).toContain('Windows NLB');
  });

  it('a wrong command line is one line on stderr and exit 2', async () => {
    for (const args of [[], ['--mode', 'tunnel', '--vip', '10.0.0.1'], ['--vip', 'pacs.hospital'], ['--vip', '10.0.0.1', '--os', 'windows', '--apply'], ['--from-appliance', '--vip', '10.0.0.1'], ['--mode', 'nat', '--gateway', 'router']]) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stdout).toBe('');
    }
  });
});

describe('--from-appliance', () => {
  let app: TestAppliance;
  beforeAll(async () => {
    app = await startTestAppliance({ host: '127.0.235.1' });
  }, 60_000);
  afterAll(async () => {
    await app?.dispose();
  });

  it('an appliance with only proxy VIPs has nothing for a real server to do: exit 6, saying so', async () => {
    const client = app.client();
    const vs = await client.createVirtualService({ label: 'HL7', ipAddress: '127.0.235.10', ports: [2575], protocol: 'tcp', healthCheck: { type: 'none' } });
    await client.createRealServer(vs.id, { label: 'PACS1', address: '127.0.235.20', port: 2575 });
    const env = { LBAPPLIANCE_PASSWORD: app.password, LBAPPLIANCE_INSECURE: '1', LBAPPLIANCE_ENDPOINT: app.endpoint };
    const r = await cli(['--from-appliance'], env);
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/no layer 4 VIP/);
    const wrong = await cli(['--from-appliance'], { ...env, LBAPPLIANCE_PASSWORD: 'not-the-password-0' });
    expect(wrong.code).toBe(4);
  });

  it('the DR VIPs a server is behind, read from the appliance, go on its lo; a server behind none: exit 6', async () => {
    const client = app.client();
    const vs = await client.createVirtualService({ label: 'DICOM', ipAddress: '127.0.235.11', ports: [104], protocol: 'tcp', forwarding: 'direct-routing', forwardedFor: false, healthCheck: { type: 'none' } });
    await client.createRealServer(vs.id, { label: 'PACS1', address: '127.0.235.20', port: 104 });
    const env = { LBAPPLIANCE_PASSWORD: app.password, LBAPPLIANCE_INSECURE: '1', LBAPPLIANCE_ENDPOINT: app.endpoint };
    const r = await cli(['--from-appliance', '--server', '127.0.235.20', '--interface', 'eth0'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('# from the appliance: DICOM 127.0.235.11 (direct-routing)');
    expect(r.stdout).toMatch(/^ip addr add 127\.0\.235\.11\/32 dev lo /m);
    expect(r.stdout).not.toContain('127.0.235.10');
    const none = await cli(['--from-appliance', '--server', '127.0.235.99'], env);
    expect(none.code).toBe(6);
  });
});

describe('--apply on a Linux host (network namespaces)', () => {
  const VIP = '198.19.0.100';
  let lan: Lan;
  let server: ReturnType<Lan['background']> | null = null;

  beforeAll(async () => {
    needProgram('ip');
    needProgram('arping');
    lan = await buildLan('l4b-rs', '198.19.0', [
      { name: 'client', octet: 1 },
      { name: 'server', octet: 2 },
    ]);
  }, 60_000);

  afterAll(async () => {
    server?.kill('SIGKILL');
    await lan?.dispose();
  });

  const answersArp = async () => (await lan.exec('client', 'arping', ['-c', '2', '-w', '4', '-I', lan.hosts.client!.iface, VIP])).code === 0;
  const proc = async (key: string) => (await lan.exec('server', 'sh', ['-c', `read v < /proc/sys/net/ipv4/conf/${key}; echo $v`])).stdout.trim();

  it('without the settings, a server with the VIP on lo answers ARP for it: the ARP problem', async () => {
    await lan.exec('server', 'ip', ['addr', 'add', `${VIP}/32`, 'dev', 'lo']);
    // Strict reverse-path filtering, as some distributions ship it, for --apply to loosen.
    await lan.exec('server', 'sh', ['-c', 'echo 1 > /proc/sys/net/ipv4/conf/all/rp_filter']);
    expect(await answersArp()).toBe(true);
  }, 30_000);

  it('--apply sets what is missing, keeps what is there, and the server stops answering ARP for the VIP', async () => {
    const iface = lan.hosts.server!.iface;
    const first = await lan.exec('server', process.execPath, [LBAPPLIANCE_BIN, 'realserver', '--vip', VIP, '--interface', iface, '--apply']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain(`ok      ${VIP} on lo`);
    expect(first.stdout).toContain('set     net.ipv4.conf.all.arp_ignore = 1 (was 0)');
    expect(first.stdout).toContain('set     net.ipv4.conf.all.rp_filter = 2 (was 1)');
    for (const [key, value] of [['all/arp_ignore', '1'], ['all/arp_announce', '2'], [`${iface}/arp_ignore`, '1'], [`${iface}/arp_announce`, '2'], ['all/rp_filter', '2']] as const) {
      expect(await proc(key), key).toBe(value);
    }
    expect(await answersArp()).toBe(false);
  }, 30_000);

  it('a second run changes nothing', async () => {
    const again = await lan.exec('server', process.execPath, [LBAPPLIANCE_BIN, 'realserver', '--vip', VIP, '--interface', lan.hosts.server!.iface, '--apply']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).not.toMatch(/^(set|added) /m);
    expect(again.stdout).toContain('nothing to change');
    const addrs = (await lan.exec('server', 'ip', ['-o', 'addr', 'show', 'dev', 'lo'])).stdout;
    expect(addrs.split(VIP).length - 1).toBe(1);
  });

  it('a packet for the VIP delivered by MAC only (as direct routing does) reaches the service, which answers the client from the VIP', async () => {
    await lan.exec('server', 'ip', ['addr', 'del', `${VIP}/32`, 'dev', 'lo']);
    const applied = await lan.exec('server', process.execPath, [LBAPPLIANCE_BIN, 'realserver', '--vip', VIP, '--interface', lan.hosts.server!.iface, '--apply']);
    expect(applied.stdout).toContain(`added   ${VIP}/32 on lo`);
    server = lan.background('server', process.execPath, ['-e', "require('net').createServer((s) => s.end(`${s.localAddress} ${s.remoteAddress}\\n`)).listen(7000, '0.0.0.0', () => console.log('ready'))"]);
    await new Promise<void>((resolve, reject) => {
      server!.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
      server!.once('exit', (code) => reject(new Error(`server exited ${code}`)));
    });
    await lan.exec('client', 'ip', ['route', 'add', `${VIP}/32`, 'via', lan.hosts.server!.address]);
    const got = await lan.exec('client', process.execPath, ['-e', `const s = require('net').connect(7000, '${VIP}'); let d = ''; s.on('data', (c) => d += c); s.on('end', () => console.log(d.trim() + ' ' + s.remoteAddress)); s.setTimeout(10000, () => process.exit(3))`]);
    expect(got.code, got.stderr).toBe(0);
    expect(got.stdout.trim()).toBe(`${VIP} ${lan.hosts.client!.address} ${VIP}`);
  }, 30_000);
});
