// Hosts in network namespaces on one Ethernet segment, for the layer 4 suites and bench: each
// host is a namespace with one veth interface plugged into a bridge that lives in its own
// namespace, so nothing touches the root namespace. Callers choose the names (a tag that
// makes them unique per file) and the addresses (their own slice of 198.18.0.0/15);
// `dispose()` deletes every namespace, and `build` first removes what a failed run left.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { needProgram } from './programs.js';

const run = promisify(execFile);

/** One host of the LAN. */
export interface LanHost {
  name: string;
  ns: string;
  iface: string;
  address: string;
}

/** The LAN and its hosts by name. */
export interface Lan {
  hosts: Record<string, LanHost>;
  bridgeNs: string;
  /** Runs a command inside a host's namespace. */
  exec(host: string, cmd: string, args: string[], opts?: { timeoutMs?: number }): Promise<ExecResult>;
  /** Starts a long-running command inside a host's namespace. */
  background(host: string, cmd: string, args: string[]): ChildProcess;
  /** Deletes every namespace of the LAN (ignores what is gone). */
  dispose(): Promise<void>;
}

/** What a command printed and how it ended. */
export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `ip` in the root namespace. */
export async function ip(...args: string[]): Promise<string> {
  needProgram('ip');
  return (await run('ip', args)).stdout;
}

/** Runs a command in a namespace, never throwing for a non-zero exit. */
export function nsExec(ns: string, cmd: string, args: string[], opts: { timeoutMs?: number } = {}): Promise<ExecResult> {
  return new Promise((resolve) => {
    execFile('ip', ['netns', 'exec', ns, cmd, ...args], { timeout: opts.timeoutMs ?? 60_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Deletes namespaces (ignores those that do not exist). */
export async function deleteNamespaces(names: string[]): Promise<void> {
  for (const ns of names) await ip('netns', 'del', ns).catch(() => undefined);
}

/**
 * Builds the LAN: namespace `${tag}-${name}` per host with interface `${tag}${index}` (names
 * short enough for the kernel's 15 characters), address `${prefix}.${octet}/24`, and a bridge
 * in `${tag}-sw`; with `root`, this process's namespace joins it on interface `root.iface`.
 */
export async function buildLan(tag: string, prefix: string, hosts: Array<{ name: string; octet: number }>, root?: { iface: string; addresses: string[] }): Promise<Lan> {
  needProgram('ip');
  const bridgeNs = `${tag}-sw`;
  const namespaces = [...hosts.map((h) => `${tag}-${h.name}`), bridgeNs];
  await deleteNamespaces(namespaces);
  if (root) await ip('link', 'del', root.iface).catch(() => undefined);
  await ip('netns', 'add', bridgeNs);
  await ip('-n', bridgeNs, 'link', 'add', 'br0', 'type', 'bridge');
  await ip('-n', bridgeNs, 'link', 'set', 'br0', 'up');
  const byName: Record<string, LanHost> = {};
  for (const [i, h] of hosts.entries()) {
    const ns = `${tag}-${h.name}`;
    const iface = `${tag}${i}`;
    const address = `${prefix}.${h.octet}`;
    await ip('netns', 'add', ns);
    await ip('-n', ns, 'link', 'set', 'lo', 'up');
    await ip('-n', ns, 'link', 'add', iface, 'type', 'veth', 'peer', 'name', `p${i}`, 'netns', bridgeNs);
    await ip('-n', bridgeNs, 'link', 'set', `p${i}`, 'master', 'br0');
    await ip('-n', bridgeNs, 'link', 'set', `p${i}`, 'up');
    await ip('-n', ns, 'addr', 'add', `${address}/24`, 'dev', iface);
    await ip('-n', ns, 'link', 'set', iface, 'up');
    byName[h.name] = { name: h.name, ns, iface, address };
  }
  if (root) {
    // This test's own namespace on the segment too (it talks to the appliance's API and is the client).
    await ip('link', 'add', root.iface, 'type', 'veth', 'peer', 'name', 'ph', 'netns', bridgeNs);
    await ip('-n', bridgeNs, 'link', 'set', 'ph', 'master', 'br0');
    await ip('-n', bridgeNs, 'link', 'set', 'ph', 'up');
    for (const cidr of root.addresses) await ip('addr', 'add', cidr, 'dev', root.iface);
    await ip('link', 'set', root.iface, 'up');
  }
  const nsOf = (host: string) => {
    const h = byName[host];
    if (!h) throw new Error(`no host ${host} on LAN ${tag}`);
    return h.ns;
  };
  return {
    hosts: byName,
    bridgeNs,
    exec: (host, cmd, args, opts) => nsExec(nsOf(host), cmd, args, opts),
    background: (host, cmd, args) => spawn('ip', ['netns', 'exec', nsOf(host), cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }),
    dispose: async () => {
      await deleteNamespaces(namespaces);
      if (root) await ip('link', 'del', root.iface).catch(() => undefined);
    },
  };
}

/** One end of a point-to-point link: a namespace (null: the root namespace), an interface name and an address with prefix. */
export interface LinkEnd {
  ns: string | null;
  iface: string;
  cidr: string;
}

/** Creates namespaces that do not exist yet, each with `lo` up. */
export async function addNamespaces(names: string[]): Promise<void> {
  for (const ns of names) {
    await ip('netns', 'add', ns);
    await ip('-n', ns, 'link', 'set', 'lo', 'up');
  }
}

/** A veth pair between two namespaces, addressed and up. */
export async function link(first: LinkEnd, second: LinkEnd): Promise<void> {
  const inNs = (ns: string | null) => (ns === null ? [] : ['-n', ns]);
  // Created from the end in the root namespace when there is one (the peer then moves away).
  const [a, b] = second.ns === null ? [second, first] : [first, second];
  await ip(...inNs(a.ns), 'link', 'add', a.iface, 'type', 'veth', 'peer', 'name', b.iface, ...(b.ns === null ? [] : ['netns', b.ns]));
  for (const end of [a, b]) {
    await ip(...inNs(end.ns), 'addr', 'add', end.cidr, 'dev', end.iface);
    await ip(...inNs(end.ns), 'link', 'set', end.iface, 'up');
  }
}
