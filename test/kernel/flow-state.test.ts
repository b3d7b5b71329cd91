// The layer 4 state an HA pair hands over (appliance/engine/kernel/flow-state.ts), read from
// real nftables: a namespace of this test gets the appliance's own maps and sets with
// elements, `nft -j` lists them, the state read from the listing is written into a second
// namespace's empty maps with the plane's transaction, and that namespace's listing must hold
// the same flows and clients. Entries the new node would not send where they were (a halted
// or down server, a port the VIP lost, time run out) are left out. Namespaces fs-a, fs-b.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_HANDED_OVER, readFlowState, renderFlowState } from '../../appliance/engine/kernel/flow-state.js';
import { serverMark } from '../../appliance/engine/kernel/marks.js';
import { renderRuleset, type KernelServer, type KernelVip } from '../../appliance/engine/kernel/ruleset.js';
import { deleteNamespaces, ip, nsExec } from '../helpers/netns-lan.js';
import { needProgram } from '../helpers/programs.js';

const TABLE = 'lbappliance';
const NS = ['fs-a', 'fs-b'];

function server(id: string, address: string, over: Partial<KernelServer> = {}): KernelServer {
  return { mark: serverMark(id), address, port: null, weight: 1, selectable: true, keepsPersistent: true, halted: false, device: 'lo', backup: false, ...over };
}

const dr: KernelVip = {
  id: 'vs-dr',
  forwarding: 'direct-routing',
  protocol: 'tcp',
  address: '198.18.200.100',
  ports: [104, 11112],
  persistenceTimeout: 600,
  snatSource: null,
  flowTimeout: 300,
  ingress: ['lo'],
  servers: [server('rs-1', '198.18.200.11'), server('rs-2', '198.18.200.12')],
};
const nat: KernelVip = { ...dr, id: 'vs-nat', forwarding: 'nat', address: '198.18.200.101', ingress: [], servers: [server('rs-3', '198.18.200.13', { port: 104 }), server('rs-4', '198.18.200.14', { port: 104 })] };
const none = { ip: null, netdev: null };

/** Applies an nftables transaction inside a namespace. */
function nft(ns: string, script: string): void {
  const out = spawnSync('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { input: script, encoding: 'utf8', timeout: 20_000 });
  if (out.status !== 0) throw new Error(`nft in ${ns}: ${out.stderr}`);
}

async function listed(ns: string): Promise<Record<string, unknown>[]> {
  const objects: Record<string, unknown>[] = [];
  for (const family of ['ip', 'netdev']) {
    const r = await nsExec(ns, 'nft', ['-j', 'list', 'table', family, TABLE]);
    if (r.code !== 0) throw new Error(r.stderr);
    objects.push(...((JSON.parse(r.stdout) as { nftables: Record<string, unknown>[] }).nftables ?? []));
  }
  return objects;
}

const vipsOfState = [
  { id: dr.id, forwarding: dr.forwarding, persistent: true, realServerIds: ['rs-1', 'rs-2'] },
  { id: nat.id, forwarding: nat.forwarding, persistent: true, realServerIds: ['rs-3', 'rs-4'] },
];

beforeAll(async () => {
  needProgram('ip');
  needProgram('nft');
  await deleteNamespaces(NS);
  for (const ns of NS) {
    await ip('netns', 'add', ns);
    await ip('-n', ns, 'link', 'set', 'lo', 'up');
    nft(ns, renderRuleset(TABLE, [dr, nat], none));
  }
}, 60_000);

afterAll(async () => {
  await deleteNamespaces(NS);
});

describe('the layer 4 state an HA pair hands over', () => {
  it('reads the flows and persistent clients nft lists, and writes them into the other node\'s maps as they were', async () => {
    const [m1, m2, m3] = [serverMark('rs-1'), serverMark('rs-2'), serverMark('rs-3')];
    nft(
      'fs-a',
      [
        `add element netdev ${TABLE} flows_vs_dr { 198.18.201.1 . 40001 . 104 timeout 300s expires 250s : ${m1}, 198.18.201.2 . 40002 . 11112 timeout 300s expires 200s : ${m2} }`,
        `add element netdev ${TABLE} st_vs_dr_${m1.toString(16)} { 198.18.201.1 timeout 600s expires 500s }`,
        `add element ip ${TABLE} st_vs_nat_${m3.toString(16)} { 198.18.201.3 timeout 600s expires 550s }`,
        // A flow of a server the VIP no longer has: not handed over.
        `add element netdev ${TABLE} flows_vs_dr { 198.18.201.9 . 40009 . 104 timeout 300s expires 250s : ${serverMark('rs-gone')} }`,
      ].join('\n') + '\n',
    );
    const state = readFlowState(await listed('fs-a'), vipsOfState);
    const byId = Object.fromEntries(state.virtualServices.map((v) => [v.id, v]));
    expect(byId['vs-dr']!.flows.map(({ expiresSeconds, ...f }) => (expect(expiresSeconds).toBeGreaterThan(150), f)).sort((a, b) => a.clientPort - b.clientPort)).toEqual([
      { client: '198.18.201.1', clientPort: 40001, port: 104, realServerId: 'rs-1' },
      { client: '198.18.201.2', clientPort: 40002, port: 11112, realServerId: 'rs-2' },
    ]);
    expect(byId['vs-dr']!.clients.map((c) => [c.client, c.realServerId])).toEqual([['198.18.201.1', 'rs-1']]);
    expect(byId['vs-nat']!).toMatchObject({ flows: [], clients: [{ client: '198.18.201.3', realServerId: 'rs-3' }] });

    nft('fs-b', renderFlowState(TABLE, state, [dr, nat], 2));
    const again = readFlowState(await listed('fs-b'), vipsOfState);
    const strip = (s: typeof state) =>
      s.virtualServices
        .map((v) => ({ id: v.id, flows: v.flows.map((f) => `${f.client}.${f.clientPort}.${f.port}>${f.realServerId}`).sort(), clients: v.clients.map((c) => `${c.client}>${c.realServerId}`).sort() }))
        .sort((a, b) => a.id.localeCompare(b.id));
    expect(strip(again)).toEqual(strip(state));
    // The time left went on counting (2 s of age) and never grows past the VIP's timeout.
    const flow = again.virtualServices.find((v) => v.id === 'vs-dr')!.flows.find((f) => f.clientPort === 40001)!;
    expect(flow.expiresSeconds).toBeLessThanOrEqual(248);
  }, 60_000);

  it('leaves out what the new node would not send where it was: a halted or down server, a port the VIP lost, time run out', () => {
    const state = {
      virtualServices: [
        {
          id: 'vs-dr',
          flows: [
            { client: '198.18.201.1', clientPort: 1, port: 104, realServerId: 'rs-1', expiresSeconds: 100 },
            { client: '198.18.201.2', clientPort: 2, port: 104, realServerId: 'rs-2', expiresSeconds: 100 },
            { client: '198.18.201.3', clientPort: 3, port: 2000, realServerId: 'rs-1', expiresSeconds: 100 },
            { client: '198.18.201.4', clientPort: 4, port: 104, realServerId: 'rs-1', expiresSeconds: 3 },
          ],
          clients: [{ client: '198.18.201.5', realServerId: 'rs-2', expiresSeconds: 100 }],
        },
        { id: 'vs-unknown', flows: [{ client: '198.18.201.6', clientPort: 6, port: 104, realServerId: 'rs-1', expiresSeconds: 100 }], clients: [] },
      ],
    };
    const halted: KernelVip = { ...dr, servers: [dr.servers[0]!, { ...dr.servers[1]!, halted: true, keepsPersistent: false, selectable: false }] };
    const script = renderFlowState(TABLE, state, [halted], 5);
    expect(script).toContain('198.18.201.1 . 1 . 104 timeout 300s expires 95s');
    for (const gone of ['198.18.201.2', '198.18.201.3', '198.18.201.4', '198.18.201.5', '198.18.201.6']) expect(script).not.toContain(gone);
    expect(renderFlowState(TABLE, { virtualServices: [] }, [dr], 0)).toBe('');
  });

  it(`hands over at most ${MAX_HANDED_OVER} entries (the API's body limit), the longest-lived`, () => {
    const elem = Array.from({ length: MAX_HANDED_OVER + 500 }, (_, i) => [{ elem: { val: { concat: [`198.18.${202 + (i >> 8)}.${i & 255}`, 1000 + i, 104] }, timeout: 300, expires: i % 300 } }, serverMark('rs-1')]);
    const state = readFlowState([{ map: { family: 'netdev', name: 'flows_vs_dr', elem } }], [vipsOfState[0]!]);
    const flows = state.virtualServices[0]!.flows;
    expect(flows).toHaveLength(MAX_HANDED_OVER);
    const dropped = elem.length - MAX_HANDED_OVER;
    expect(Math.min(...flows.map((f) => f.expiresSeconds))).toBeGreaterThanOrEqual(Math.floor(dropped / (elem.length / 300)) - 1);
  });
});
