// The layer 4 suites' network: an appliance namespace, two real server namespaces and this
// test's own interface (the client, in the root namespace) on one Ethernet segment (a bridge
// in a switch namespace), and on request a client namespace (a modality of its own, whose
// tools run with `ip netns exec`). Addresses come from 198.18.0.0/15 (the third octets the
// caller gives) and names start with the caller's prefix (default `l4a`).
// Three subnets share the segment, as the vendor guides' one-arm layouts do:
// - servers:      198.18.B.0/24   (appliance .1, servers .11 and .12, client .254)
// - nat clients:  198.18.B+1.0/24 (appliance .1, the nat/snat VIPs .100-.109, client .254);
//   the servers route it via the appliance, so nat replies go back through it
// - dr clients:   198.18.B+2.0/24 (appliance .1, the DR VIPs .100-.109, client .254);
//   the servers reach it on the link, so DR replies go straight to the client
// The servers hold the DR VIPs on `lo` with arp_ignore=1 and arp_announce=2 (the ARP problem
// solved as the guides say), unless the caller sets them up itself (`serverVips: false`).
// The client namespace has .253 on the nat and DR subnets. `teardown()` removes everything,
// also what a failed run left.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { ROOT } from '../../helpers/paths.js';
import { needProgram } from '../../helpers/programs.js';

const run = promisify(execFile);

async function ip(...args: string[]): Promise<string> {
  needProgram('ip');
  return (await run('ip', args)).stdout;
}

async function sysctl(ns: string, name: string, value: string): Promise<void> {
  await ip('netns', 'exec', ns, 'sh', '-c', `echo ${value} > /proc/sys/${name.replace(/\./g, '/')}`);
}

/** One real server namespace. */
export interface ServerHost {
  name: string;
  ns: string;
  address: string;
}

/** The built network. */
export interface L4Network {
  tag: string;
  appNs: string;
  /** The appliance's interface (inside its namespace) and its server-side address. */
  appIface: string;
  appAddress: string;
  servers: ServerHost[];
  /** This test's address towards the nat and the DR VIPs. */
  natClient: string;
  drClient: string;
  /** VIP address `i` (0-9) of the nat or the DR subnet. */
  natVip(i: number): string;
  drVip(i: number): string;
  /** Adds an address to the appliance's interface (a VIP the appliance answers ARP for). */
  addVip(address: string): Promise<void>;
  /** Bytes received and sent by the appliance's interface. */
  appBytes(): Promise<{ rx: number; tx: number }>;
  /** Takes a server's link down (it stops answering, its flows wait) or up again. */
  setLink(server: ServerHost, up: boolean): Promise<void>;
  /** The client namespace (with `clientNamespace`), and its addresses towards the nat and the DR VIPs. */
  clientNs: string | null;
  nsNatClient: string;
  nsDrClient: string;
  /** Starts a real server process in a server namespace on these ports. */
  startServer(server: ServerHost, ports: number[]): Promise<ChildProcess>;
  teardown(): Promise<void>;
}

/** How a network is built beyond its tag and subnets. */
export interface NetworkOptions {
  /** Namespace and interface names start with it (default `l4a`; at most 4 characters). */
  prefix?: string;
  /** Adds a client namespace on the segment (default false). */
  clientNamespace?: boolean;
  /** How many real server namespaces (default 2, at most 4): S1, S2, ... on .11, .12, ... */
  servers?: number;
  /** The helper puts the DR VIPs on the servers' `lo` and sets their ARP sysctls (default true). */
  serverVips?: boolean;
}

function names(tag: string, p: string) {
  return { sw: `${p}-${tag}-sw`, app: `${p}-${tag}-app`, servers: [1, 2, 3, 4].map((i) => `${p}-${tag}-s${i}`), client: `${p}-${tag}-c`, local: `${p}-${tag}-h`, br: `${p}-br`, dev: `${p}0` };
}

/** Removes every namespace and link of a tag's network (ignores what is not there). */
export async function teardownNetwork(tag: string, prefix = 'l4a'): Promise<void> {
  const n = names(tag, prefix);
  for (const ns of [n.app, ...n.servers, n.client, n.sw]) await ip('netns', 'del', ns).catch(() => undefined);
  await ip('link', 'del', n.local).catch(() => undefined);
}

/** Builds the network of `tag` (at most 3 characters) on third octets base, base+1, base+2. */
export async function buildNetwork(tag: string, base: number, options: NetworkOptions = {}): Promise<L4Network> {
  needProgram('ip');
  const p = options.prefix ?? 'l4a';
  const n = names(tag, p);
  const net = (k: number, host: number) => `198.18.${base + k}.${host}`;
  await teardownNetwork(tag, p);
  const children: ChildProcess[] = [];
  await ip('netns', 'add', n.sw);
  await ip('-n', n.sw, 'link', 'add', n.br, 'type', 'bridge');
  await ip('-n', n.sw, 'link', 'set', n.br, 'up');
  const attach = async (ns: string | null, iface: string, port: string) => {
    if (ns) await ip('-n', ns, 'link', 'add', iface, 'type', 'veth', 'peer', 'name', port, 'netns', n.sw);
    else await ip('link', 'add', iface, 'type', 'veth', 'peer', 'name', port, 'netns', n.sw);
    await ip('-n', n.sw, 'link', 'set', port, 'master', n.br);
    await ip('-n', n.sw, 'link', 'set', port, 'up');
  };
  // nat replies go back through the appliance; DR replies straight to the client (again after a link goes down and up).
  const serverRoutes = async (ns: string) => {
    await ip('-n', ns, 'route', 'replace', `${net(1, 0)}/24`, 'via', net(0, 1));
    await ip('-n', ns, 'route', 'replace', `${net(2, 0)}/24`, 'dev', n.dev);
  };
  // The appliance.
  await ip('netns', 'add', n.app);
  await ip('-n', n.app, 'link', 'set', 'lo', 'up');
  await attach(n.app, n.dev, `${p}-pa`);
  for (const k of [0, 1, 2]) await ip('-n', n.app, 'addr', 'add', `${net(k, 1)}/24`, 'dev', n.dev);
  await ip('-n', n.app, 'link', 'set', n.dev, 'up');
  // The servers.
  const servers: ServerHost[] = [];
  for (const [i, ns] of n.servers.slice(0, options.servers ?? 2).entries()) {
    const address = net(0, 11 + i);
    await ip('netns', 'add', ns);
    await ip('-n', ns, 'link', 'set', 'lo', 'up');
    await attach(ns, n.dev, `${p}-p${i}`);
    await ip('-n', ns, 'addr', 'add', `${address}/24`, 'dev', n.dev);
    await ip('-n', ns, 'link', 'set', n.dev, 'up');
    await serverRoutes(ns);
    // The DR VIPs on lo, never answered for in ARP.
    if (options.serverVips !== false) {
      for (const s of ['all', n.dev]) {
        await sysctl(ns, `net.ipv4.conf.${s}.arp_ignore`, '1');
        await sysctl(ns, `net.ipv4.conf.${s}.arp_announce`, '2');
      }
      for (let v = 0; v < 10; v++) await ip('-n', ns, 'addr', 'add', `${net(2, 100 + v)}/32`, 'dev', 'lo');
    }
    servers.push({ name: `S${i + 1}`, ns, address });
  }
  // This test: the client, in the root namespace.
  await attach(null, n.local, `${p}-ph`);
  for (const k of [0, 1, 2]) await ip('addr', 'add', `${net(k, 254)}/24`, 'dev', n.local);
  await ip('link', 'set', n.local, 'up');
  // A client of its own (a modality): the nat subnet routed via the appliance is not needed, both are on the link.
  if (options.clientNamespace) {
    await ip('netns', 'add', n.client);
    await ip('-n', n.client, 'link', 'set', 'lo', 'up');
    await attach(n.client, n.dev, `${p}-pc`);
    for (const k of [1, 2]) await ip('-n', n.client, 'addr', 'add', `${net(k, 253)}/24`, 'dev', n.dev);
    await ip('-n', n.client, 'link', 'set', n.dev, 'up');
  }

  const network: L4Network = {
    tag,
    appNs: n.app,
    appIface: n.dev,
    appAddress: net(0, 1),
    servers,
    natClient: net(1, 254),
    drClient: net(2, 254),
    natVip: (i) => net(1, 100 + i),
    drVip: (i) => net(2, 100 + i),
    clientNs: options.clientNamespace ? n.client : null,
    nsNatClient: net(1, 253),
    nsDrClient: net(2, 253),
    async addVip(address) {
      await ip('-n', n.app, 'addr', 'add', `${address}/32`, 'dev', n.dev);
    },
    async appBytes() {
      const read = async (what: string) => Number((await ip('netns', 'exec', n.app, 'cat', `/sys/class/net/${n.dev}/statistics/${what}_bytes`)).trim());
      return { rx: await read('rx'), tx: await read('tx') };
    },
    async setLink(server, up) {
      await ip('-n', server.ns, 'link', 'set', n.dev, up ? 'up' : 'down');
      if (up) await serverRoutes(server.ns);
    },
    async startServer(server, ports) {
      const child = spawn('ip', ['netns', 'exec', server.ns, process.execPath, join(ROOT, 'test/kernel/fixtures/l4-server.mjs'), server.name, ...ports.map(String)], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`server ${server.name} did not start`)), 20_000);
        createInterface({ input: child.stdout! }).on('line', (line) => {
          if (line === 'ready') {
            clearTimeout(timer);
            resolve();
          }
        });
        child.once('exit', (code) => reject(new Error(`server ${server.name} exited with ${code}`)));
      });
      return child;
    },
    async teardown() {
      for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
      await teardownNetwork(tag, p);
    },
  };
  return network;
}

/** The appliance's nftables ruleset as text (for failure messages). */
export async function rulesetOf(ns: string): Promise<string> {
  return ip('netns', 'exec', ns, 'nft', 'list', 'ruleset').catch((e: Error) => e.message);
}
