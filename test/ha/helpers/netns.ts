// Test hosts in network namespaces (root, iproute2): two appliance hosts and this test's
// host on one Ethernet segment (a bridge in a third namespace, so no bridge touches the root
// namespace's own packet filtering). Addresses come from 198.18.0.0/15, the range set aside
// for benchmarking; every name starts with `lbha-`, and `teardown()` removes them all, also
// what an earlier failed run left.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { needProgram } from '../../helpers/programs.js';

const run = promisify(execFile);

/** One host namespace and its interface on the segment. */
export interface NsHost {
  ns: string;
  iface: string;
  address: string;
}

/** The segment. */
export interface Segment {
  hosts: NsHost[];
  /** This test's own address on the segment (in the root namespace). */
  local: string;
  localIface: string;
}

async function ip(...args: string[]): Promise<string> {
  needProgram('ip');
  return (await run('ip', args)).stdout;
}

/** Removes every namespace and link of the segment (ignores what is not there). */
export async function teardown(names: string[], localIface: string): Promise<void> {
  for (const ns of names) await ip('netns', 'del', ns).catch(() => undefined);
  await ip('link', 'del', localIface).catch(() => undefined);
}

/** Builds the segment: `hosts` namespaces plus the root namespace's interface, on `prefix.0/24`. */
export async function buildSegment(prefix: string, hostNames: string[], tag: string): Promise<Segment> {
  const sw = `lbha-${tag}-sw`;
  const localIface = `lbha-${tag}-h`;
  const nss = hostNames.map((n) => `lbha-${tag}-${n}`);
  await teardown([...nss, sw], localIface);
  await ip('netns', 'add', sw);
  await ip('-n', sw, 'link', 'add', 'br0', 'type', 'bridge');
  await ip('-n', sw, 'link', 'set', 'br0', 'up');
  const hosts: NsHost[] = [];
  for (const [i, ns] of nss.entries()) {
    const address = `${prefix}.${i + 1}`;
    await ip('netns', 'add', ns);
    await ip('-n', ns, 'link', 'set', 'lo', 'up');
    await ip('-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', `p${i}`, 'netns', sw);
    await ip('-n', sw, 'link', 'set', `p${i}`, 'master', 'br0');
    await ip('-n', sw, 'link', 'set', `p${i}`, 'up');
    await ip('-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0');
    await ip('-n', ns, 'link', 'set', 'eth0', 'up');
    hosts.push({ ns, iface: 'eth0', address });
  }
  await ip('link', 'add', localIface, 'type', 'veth', 'peer', 'name', 'ph', 'netns', sw);
  await ip('-n', sw, 'link', 'set', 'ph', 'master', 'br0');
  await ip('-n', sw, 'link', 'set', 'ph', 'up');
  const local = `${prefix}.254`;
  await ip('addr', 'add', `${local}/24`, 'dev', localIface);
  await ip('link', 'set', localIface, 'up');
  return { hosts, local, localIface };
}

/** The namespaces a segment built with these names uses (for teardown). */
export function segmentNames(hostNames: string[], tag: string): { namespaces: string[]; localIface: string } {
  return { namespaces: [...hostNames.map((n) => `lbha-${tag}-${n}`), `lbha-${tag}-sw`], localIface: `lbha-${tag}-h` };
}

/** The IPv4 addresses on an interface of a namespace. */
export async function addressesOn(ns: string, iface: string): Promise<string[]> {
  const out = await ip('-n', ns, '-4', '-o', 'addr', 'show', 'dev', iface);
  return [...out.matchAll(/inet (\S+)\//g)].map((m) => m[1] as string);
}

/** The MAC address of an interface of a namespace. */
export async function macOf(ns: string, iface: string): Promise<string> {
  const out = await ip('-n', ns, '-o', 'link', 'show', 'dev', iface);
  return /link\/ether (\S+)/.exec(out)?.[1] ?? '';
}

/** The MAC this (root) namespace has learned for an address, or null. */
export async function neighbourMac(address: string, iface: string): Promise<string | null> {
  const out = await ip('neigh', 'show', address, 'dev', iface);
  return /lladdr (\S+)/.exec(out)?.[1] ?? null;
}
