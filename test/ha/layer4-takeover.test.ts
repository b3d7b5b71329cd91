// Layer 4 VIPs in an HA pair, in network namespaces: two appliance nodes with
// `--vip-interface`, two real servers and this test (the client) on one Ethernet segment. A
// direct-routing and a nat VIP move to the other node on a takeover (address, gratuitous ARP,
// kernel rules), and new connections work through the new active node at once. Connections
// held open across the takeover (DICOM associations, pinging every 50 ms) are counted: which
// survived, and how long the gap was. Without state replication the new node has no record
// of them, so each survives only if the new node happens to send it to the server it was on:
// the test states the figures it measured and the README of this work names what would make
// them 100% (conntrackd for nat, a flow choice both nodes share for DR).
// Addresses 198.19.20-22.x, namespaces l4b-ha-*.
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestAppliance } from '../helpers/appliance-process.js';
import { buildLan, ip, nsExec, type Lan } from '../helpers/netns-lan.js';
import { LBAPPLIANCE_BIN, ROOT } from '../helpers/paths.js';
import { needProgram } from '../helpers/programs.js';
import { open, type Held } from '../kernel/helpers/l4-client.js';
import { clientOf, pair, PRIMARY_PASSWORD, SECONDARY_PASSWORD, startNode, stateOf, until } from './helpers/pair.js';

const SEG = '198.19.20';
const NAT_NET = '198.19.21';
const DR_NET = '198.19.22';
const DR_VIP = `${DR_NET}.100`;
const NAT_VIP = `${NAT_NET}.100`;
const PORT = 9000;
const ROOT_IFACE = 'l4b-ha-h';
const HELD = 8;

let lan: Lan;
let a: TestAppliance | null = null;
let b: TestAppliance | null = null;
const servers: ChildProcess[] = [];

beforeAll(async () => {
  needProgram('ip');
  needProgram('nft');
  needProgram('arping');
  lan = await buildLan('l4b-ha', SEG, [
    { name: 'a', octet: 1 },
    { name: 'b', octet: 2 },
    { name: 's1', octet: 11 },
    { name: 's2', octet: 12 },
  ], { iface: ROOT_IFACE, addresses: [`${SEG}.254/24`, `${NAT_NET}.254/24`, `${DR_NET}.254/24`] });
  for (const [i, node] of (['a', 'b'] as const).entries()) {
    const h = lan.hosts[node]!;
    // Each node's own address on the client networks (its route back to the nat clients).
    for (const net of [NAT_NET, DR_NET]) await ip('-n', h.ns, 'addr', 'add', `${net}.${i + 1}/24`, 'dev', h.iface);
  }
  for (const name of ['s1', 's2']) {
    const h = lan.hosts[name]!;
    // nat replies go to whichever node carries the nat VIP (it moves, the route follows by ARP);
    // DR replies straight to the client; the DR VIP on lo without ARP (lbappliance realserver).
    await ip('-n', h.ns, 'route', 'add', `${NAT_NET}.0/24`, 'via', NAT_VIP, 'dev', h.iface, 'onlink');
    await ip('-n', h.ns, 'route', 'add', `${DR_NET}.0/24`, 'dev', h.iface);
    const applied = await nsExec(h.ns, process.execPath, [LBAPPLIANCE_BIN, 'realserver', '--vip', DR_VIP, '--interface', h.iface, '--apply']);
    if (applied.code !== 0) throw new Error(applied.stderr);
    const child = spawn('ip', ['netns', 'exec', h.ns, process.execPath, join(ROOT, 'test/kernel/fixtures/l4-server.mjs'), name.toUpperCase(), String(PORT)], { stdio: ['ignore', 'pipe', 'inherit'] });
    servers.push(child);
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
      child.once('exit', (code) => reject(new Error(`server ${name} exited ${code}`)));
    });
  }
  const nodeIn = (name: 'a' | 'b', password: string) => startNode(lan.hosts[name]!.address, password, { wrap: ['ip', 'netns', 'exec', lan.hosts[name]!.ns], args: ['--vip-interface', lan.hosts[name]!.iface] });
  [a, b] = await Promise.all([nodeIn('a', PRIMARY_PASSWORD), nodeIn('b', SECONDARY_PASSWORD)]);
}, 180_000);

afterAll(async () => {
  await Promise.all([a?.dispose(), b?.dispose()]);
  for (const s of servers) s.kill('SIGKILL');
  await lan?.dispose();
});

/** The IPv4 addresses on a node's segment interface, as `ip -o` prints them. */
async function addressesOf(node: 'a' | 'b'): Promise<string> {
  return (await nsExec(lan.hosts[node]!.ns, 'ip', ['-4', '-o', 'addr', 'show', 'dev', lan.hosts[node]!.iface])).stdout;
}

/** Pings a held connection every 50 ms until stopped; records the longest wait and whether it died. */
function keepPinging(held: Held): { stop(): Promise<{ alive: boolean; longestMs: number; server: string }> } {
  let running = true;
  let alive = true;
  let longestMs = 0;
  let server = held.greeting.server;
  const loop = (async () => {
    while (running && alive) {
      const t = performance.now();
      try {
        server = await held.ping();
      } catch {
        alive = false;
        break;
      }
      longestMs = Math.max(longestMs, performance.now() - t);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { alive, longestMs: Math.round(longestMs), server };
    },
  };
}

describe('layer 4 VIPs across a takeover', () => {
  it('the DR and nat VIPs carry traffic through the primary, to both servers', async () => {
    await pair(a!, b!, { heartbeatIntervalMs: 200, deadTimeMs: 1000 });
    const client = clientOf(a!);
    const check = { type: 'connect', interval: 1, timeout: 1, rise: 1, fall: 2 } as const;
    for (const [label, ipAddress, forwarding] of [['DICOM-DR', DR_VIP, 'direct-routing'], ['DICOM-NAT', NAT_VIP, 'nat']] as const) {
      const vs = await client.createVirtualService({ label, ipAddress, ports: [PORT], protocol: 'tcp', forwarding, forwardedFor: false, healthCheck: check });
      for (const s of ['s1', 's2']) await client.createRealServer(vs.id, { label: s.toUpperCase(), address: lan.hosts[s]!.address, port: PORT });
    }
    await until('both VIPs programmed on the primary with both servers up', async () => (await client.getOverview()).virtualServices.every((v) => v.listening && v.realServers.every((r) => r.health === 'up')), 30_000);
    for (const [vip, from] of [[DR_VIP, `${DR_NET}.254`], [NAT_VIP, `${NAT_NET}.254`]] as const) {
      const seen = new Set<string>();
      for (let i = 0; i < 20; i++) {
        const h = await open(vip, PORT, from);
        seen.add(h.greeting.server);
        expect(h.greeting.seen).toBe(from);
        h.close();
      }
      expect([...seen].sort(), vip).toEqual(['S1', 'S2']);
    }
  }, 120_000);

  it('a takeover during live associations: the VIPs move to the secondary and new connections go through it; the survivors are counted', async () => {
    const held: Array<{ vip: string; pinger: ReturnType<typeof keepPinging> }> = [];
    for (const [vip, from] of [[DR_VIP, `${DR_NET}.254`], [NAT_VIP, `${NAT_NET}.254`]] as const) {
      for (let i = 0; i < HELD; i++) held.push({ vip, pinger: keepPinging(await open(vip, PORT, from)) });
    }
    await new Promise((r) => setTimeout(r, 500));
    const started = Date.now();
    await clientOf(b!).takeoverHaPair();
    await until('the secondary active', async () => (await stateOf(b!)) === 'active', 10_000);
    // New connections through the new active node, at once.
    await until('new connections through both VIPs', async () => {
      for (const [vip, from] of [[DR_VIP, `${DR_NET}.254`], [NAT_VIP, `${NAT_NET}.254`]] as const) (await open(vip, PORT, from, 2000)).close();
      return true;
    }, 15_000);
    const switchedMs = Date.now() - started;
    await new Promise((r) => setTimeout(r, 3000));
    const outcomes = await Promise.all(held.map(async (h) => ({ vip: h.vip, ...(await h.pinger.stop()) })));
    const figures = Object.fromEntries(
      [DR_VIP, NAT_VIP].map((vip) => {
        const mine = outcomes.filter((o) => o.vip === vip);
        const alive = mine.filter((o) => o.alive);
        return [vip === DR_VIP ? 'direct-routing' : 'nat', { survived: alive.length, of: mine.length, longestGapMs: Math.max(0, ...alive.map((o) => o.longestMs)) }];
      }),
    );
    console.log(`layer 4 takeover: new connections through the secondary after ${switchedMs} ms; established associations: ${JSON.stringify(figures)}`);
    for (let i = 0; i < 20; i++) {
      for (const [vip, from] of [[DR_VIP, `${DR_NET}.254`], [NAT_VIP, `${NAT_NET}.254`]] as const) {
        const h = await open(vip, PORT, from);
        expect(h.greeting.seen).toBe(from);
        h.close();
      }
    }
    // The addresses end on the secondary alone. Known defect (not fixed here): in about half the
    // runs on the shared machine the primary answered the takeover's release call late, and the
    // pair ended with the primary active again and carrying the addresses; this fails then.
    const story = (node: TestAppliance) => node.output.filter((l) => /VIP address|this node is now|release/.test(l)).map((l) => l.slice(0, 200)).join('\n');
    await until('the VIP addresses on the secondary only', async () => {
      const [onA, onB] = [await addressesOf('a'), await addressesOf('b')];
      return [DR_VIP, NAT_VIP].every((vip) => onB.includes(`${vip}/32`) && !onA.includes(`${vip}/32`));
    }, 20_000).catch(async (err: Error) => {
      throw new Error(`${err.message}; states: primary ${await stateOf(a!)}, secondary ${await stateOf(b!)}\nprimary:\n${story(a!)}\nsecondary:\n${story(b!)}`);
    });
  }, 120_000);
});
