// `--vip-interface` moves a real address between two hosts: each appliance runs in its own
// network namespace, the two joined (with this test's host) on one Ethernet segment by veth
// pairs. The active node carries the VIP address on its interface and announces it with
// gratuitous ARP; the node that gives it up removes it; a killed node's leftover address is
// removed when it restarts. Clients on the segment follow the address within the failover
// time, without waiting for their ARP entries to expire.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestAppliance } from '../helpers/appliance-process.js';
import { get } from '../engine/helpers/traffic.js';
import { startHttpBackend, type HttpBackend } from '../engine/helpers/backends.js';
import { addressesOn, buildSegment, macOf, neighbourMac, segmentNames, teardown, type Segment } from './helpers/netns.js';
import { clientOf, pair, PRIMARY_PASSWORD, SECONDARY_PASSWORD, startNode, stateOf, until } from './helpers/pair.js';

const PREFIX = '198.18.40';
const VIP = `${PREFIX}.100`;
const TAG = 'vip';
const HOSTS = ['a', 'b'];
const DEAD_TIME_MS = 1000;

let seg: Segment;
let a: TestAppliance | null = null;
let b: TestAppliance | null = null;
let backend: HttpBackend | null = null;

function nodeIn(host: Segment['hosts'][number], password: string): Promise<TestAppliance> {
  return startNode(host.address, password, { wrap: ['ip', 'netns', 'exec', host.ns], args: ['--vip-interface', host.iface] });
}

const carries = async (host: Segment['hosts'][number]) => (await addressesOn(host.ns, host.iface)).includes(VIP);

beforeAll(async () => {
  seg = await buildSegment(PREFIX, HOSTS, TAG);
  backend = await startHttpBackend({ name: 'rs1', host: seg.local, port: 8080 });
  [a, b] = await Promise.all([nodeIn(seg.hosts[0]!, PRIMARY_PASSWORD), nodeIn(seg.hosts[1]!, SECONDARY_PASSWORD)]);
}, 120_000);

afterAll(async () => {
  await Promise.all([a?.dispose(), b?.dispose(), backend?.close()]);
  const names = segmentNames(HOSTS, TAG);
  await teardown(names.namespaces, names.localIface);
});

describe('VIP addresses on a real interface (two network namespaces)', () => {
  it('the standalone primary carries the VIP address; after pairing only the active node does', async () => {
    const [ha, hb] = seg.hosts as [Segment['hosts'][number], Segment['hosts'][number]];
    const vs = await clientOf(a!).createVirtualService({ label: 'PACS', ipAddress: VIP, ports: [8080], protocol: 'http' });
    await clientOf(a!).createRealServer(vs.id, { label: 'rs1', address: seg.local, port: 8080 });
    await until('the address on the primary', () => carries(ha));
    await pair(a!, b!, { heartbeatIntervalMs: 200, deadTimeMs: DEAD_TIME_MS });
    expect(await carries(hb)).toBe(false);
    await until('the VIP answering through the primary', async () => (await get(`http://${VIP}:8080/`)).status === 200);
    expect(await neighbourMac(VIP, seg.localIface)).toBe(await macOf(ha.ns, ha.iface));
  });

  it('a manual takeover moves the address, and the network learns it from gratuitous ARP', async () => {
    const [ha, hb] = seg.hosts as [Segment['hosts'][number], Segment['hosts'][number]];
    await clientOf(b!).takeoverHaPair();
    expect(await carries(ha)).toBe(false);
    expect(await carries(hb)).toBe(true);
    const macB = await macOf(hb.ns, hb.iface);
    // Without the announcement this host would keep sending to the primary's MAC until its entry went stale.
    await until('the segment to learn the new MAC', async () => (await neighbourMac(VIP, seg.localIface)) === macB, 5000);
    expect((await get(`http://${VIP}:8080/`)).status).toBe(200);
  });

  it('kill -9 of the active node: the address comes up on the other within the dead time plus 1 s; the restarted node drops its leftover', async () => {
    const [ha, hb] = seg.hosts as [Segment['hosts'][number], Segment['hosts'][number]];
    const killedAt = Date.now();
    await b!.kill();
    const macA = await macOf(ha.ns, ha.iface);
    await until('traffic through the primary', async () => (await neighbourMac(VIP, seg.localIface)) === macA && (await get(`http://${VIP}:8080/`)).status === 200, 10_000);
    expect(Date.now() - killedAt).toBeLessThan(DEAD_TIME_MS + 1000);
    expect(await carries(ha)).toBe(true);
    // A killed process cannot remove its address; it does so when it comes back, passive.
    expect(await carries(hb)).toBe(true);
    b = await b!.restart();
    await until('the secondary back, passive', async () => (await stateOf(b!)) === 'passive');
    expect(await carries(hb)).toBe(false);
    expect(await stateOf(a!)).toBe('active');
    expect((await get(`http://${VIP}:8080/`)).status).toBe(200);
  });
});
