// Renders the layer 4 VIPs of one revision (with the servers' live state) as ONE nftables
// transaction: `nft -f` applies it all or nothing, so the kernel never runs half a revision.
// The transaction replaces every chain of the appliance's two tables and keeps the dynamic
// maps (direct routing's flow map, source-IP persistence) of the VIPs that remain, so a
// revision or a health change never forgets which server an established flow or a client
// belongs to. Pure: the plane resolves devices and health first, this only writes text.
//
// Two tables, both named by the plane (default `lbappliance`):
// - `netdev` for direct-routing: an ingress chain on each device VIP traffic arrives on
//   rewrites nothing but the layer 2 destination (`fwd ip to SERVER device DEV` resolves the
//   server's MAC through the neighbour table) before the IP layer sees the packet. There is
//   no connection tracking this early, so the flow map (source address and port, VIP port ->
//   server mark) is the memory of every flow: a flow it has no record of (a SYN, a first
//   datagram, or after an HA takeover a flow the other node carried) is given a server by a
//   hash of the flow over the selectable servers, every later packet looks its server up.
// - `ip` for nat and snat: the nat chain sees only the first packet of a connection;
//   conntrack keeps the translation for the connection's life, so a change of the server
//   set never remaps a live connection. The connection's mark names its server: snat VIPs
//   masquerade on it, halt resets on it.
import { hex } from './marks.js';

/** One real server as the kernel sees it. */
export interface KernelServer {
  mark: number;
  address: string;
  /** null keeps the port the client connected to. */
  port: number | null;
  weight: number;
  /** Picks new flows (already reduced to the backups when no primary can). */
  selectable: boolean;
  /** A persistent client may keep coming (online or draining, and not down). */
  keepsPersistent: boolean;
  /** Established flows are cut. */
  halted: boolean;
  /** Direct routing: the device the server is reached through. */
  device: string | null;
  /** A backup server (failover mode). */
  backup: boolean;
}

/** One layer 4 VIP, resolved. */
export interface KernelVip {
  id: string;
  forwarding: 'direct-routing' | 'nat' | 'snat';
  protocol: 'tcp' | 'udp';
  address: string;
  ports: readonly number[];
  /** Source-IP persistence timeout in seconds, or null without persistence. */
  persistenceTimeout: number | null;
  /** snat: the source address towards the servers (an HA pair's VIP address), or null for the outgoing interface's own (masquerade). */
  snatSource?: string | null;
  /** Direct routing: seconds an idle flow keeps its server. */
  flowTimeout: number;
  /** Direct routing: devices to hook ingress on. */
  ingress: readonly string[];
  servers: readonly KernelServer[];
}

/** The named objects the tables hold now (from `nft -j list table`). */
export interface ExistingObjects {
  ip: { chains: string[]; maps: string[]; sets: string[] } | null;
  netdev: { chains: string[]; maps: string[]; sets: string[] } | null;
}

/** The size bound of each dynamic map (elements; memory is used only as they fill). */
export const DYNAMIC_MAP_SIZE = 1048576;
/** How long a direct-routing flow is remembered after its FIN or RST (seconds). */
export const CLOSED_FLOW_TIMEOUT = 10;

/** Chain and map names of a VIP (nft names: letters, digits, underscore). */
export function vipName(id: string): string {
  return id.replace(/[^A-Za-z0-9]/g, '_');
}

function set(values: readonly string[]): string {
  return `{ ${values.join(', ')} }`;
}

function ports(vip: KernelVip): string {
  return vip.ports.length === 1 ? String(vip.ports[0]) : set(vip.ports.map(String));
}

/** The seed of the flow hash: the same on every node, so both nodes of a pair pick alike. */
export const FLOW_HASH_SEED = 0x4c42a4e1;

/** What a new flow's server is chosen by: the client address (source-IP persistence) or the client address and port. */
export function flowHashKey(vip: Pick<KernelVip, 'protocol' | 'persistenceTimeout'>): string {
  return vip.persistenceTimeout === null ? `ip saddr . ${vip.protocol} sport` : 'ip saddr';
}

/**
 * `jhash KEY mod W seed S map { ranges : mark }` over the selectable servers' weights, in the
 * order of their marks, or null. A hash of the flow, not a random number: the choice depends
 * only on the flow and the selectable servers, so the other node of an HA pair, given the
 * same servers, sends a flow it never saw (after a takeover) to the server it was on.
 * Established flows never depend on it: the flow map (DR) and conntrack (nat) hold them.
 */
export function weightedPick(servers: readonly KernelServer[], key = 'ip saddr'): string | null {
  const pick = servers.filter((s) => s.selectable && s.weight > 0).sort((a, b) => a.mark - b.mark);
  if (pick.length === 0) return null;
  let at = 0;
  const entries: string[] = [];
  for (const s of pick) {
    const end = at + s.weight - 1;
    entries.push(`${end > at ? `${at}-${end}` : at} : ${hex(s.mark)}`);
    at = end + 1;
  }
  return `jhash ${key} mod ${at} seed 0x${FLOW_HASH_SEED.toString(16)} map ${set(entries)}`;
}

function marks(servers: readonly KernelServer[], keep: (s: KernelServer) => boolean): string[] {
  return servers.filter(keep).map((s) => hex(s.mark));
}

/** The sticky set of one server of a VIP: the clients source-IP persistence holds to it. */
export function stickyName(vip: KernelVip, mark: number): string {
  return `st_${vipName(vip.id)}_${mark.toString(16)}`;
}

/**
 * The rules that choose a new flow's server into the packet mark (0: none). With source-IP
 * persistence each server has a set of the clients stuck to it (with a timeout): a client
 * whose server may still keep it (online or draining, and up) goes back there; any other
 * client is given a weighted pick, which becomes its only server (it leaves the other sets,
 * so a server that comes back does not take it back). Sets, not one map: the kernel deletes
 * set elements from the packet path, and `update` never overwrites a map's value.
 */
function choose(vip: KernelVip, fresh: string): string[] {
  const when = fresh === '' ? '' : `${fresh} `;
  const rules: string[] = [];
  if (vip.persistenceTimeout !== null) {
    for (const s of vip.servers.filter((x) => x.keepsPersistent)) rules.push(`${when}meta mark 0 ip saddr @${stickyName(vip, s.mark)} meta mark set ${hex(s.mark)}`);
  }
  const pick = weightedPick(vip.servers, flowHashKey(vip));
  if (pick) rules.push(`${when}meta mark 0 meta mark set ${pick}`);
  if (vip.persistenceTimeout !== null) {
    for (const s of vip.servers) {
      rules.push(`${when}meta mark ${hex(s.mark)} update @${stickyName(vip, s.mark)} { ip saddr timeout ${vip.persistenceTimeout}s }`);
      rules.push(`${when}meta mark != 0 meta mark != ${hex(s.mark)} delete @${stickyName(vip, s.mark)} { ip saddr }`);
    }
  }
  return rules;
}

/** The rules of one direct-routing VIP's chain. */
function directRoutingRules(vip: KernelVip): string[] {
  const n = vipName(vip.id);
  const p = vip.protocol;
  const key = `ip saddr . ${p} sport . ${p} dport`;
  // A flow this node has no record of is given a server: a new one (a SYN, a first datagram),
  // or an established one that the other node of a pair carried until a takeover (the flow
  // hash sends it where that node did, when both see the same servers).
  const fresh = `${key} != @flows_${n}`;
  const rules: string[] = ['meta mark set 0', `meta mark set ${key} map @flows_${n}`];
  rules.push(...choose(vip, fresh));
  if (p === 'tcp') {
    // Idle time counts from the last segment; once a FIN or RST is seen the flow only lingers (its last ACKs do not revive it).
    rules.push(`tcp flags & (fin | rst) == 0 meta mark != 0 ${key} != @closing_${n} update @flows_${n} { ${key} timeout ${vip.flowTimeout}s : meta mark }`);
    rules.push(`tcp flags & (fin | rst) != 0 meta mark != 0 update @flows_${n} { ${key} timeout ${CLOSED_FLOW_TIMEOUT}s : meta mark }`);
    rules.push(`tcp flags & (fin | rst) != 0 meta mark != 0 update @closing_${n} { ${key} timeout ${CLOSED_FLOW_TIMEOUT}s }`);
  } else {
    rules.push(`meta mark != 0 update @flows_${n} { ${key} timeout ${vip.flowTimeout}s : meta mark }`);
  }
  const halted = marks(vip.servers, (s) => s.halted);
  if (halted.length > 0) rules.push(`meta mark ${set(halted)} meta mark set 0 drop`);
  const byDevice = new Map<string, KernelServer[]>();
  for (const s of vip.servers) {
    if (s.halted || s.device === null) continue;
    byDevice.set(s.device, [...(byDevice.get(s.device) ?? []), s]);
  }
  for (const [device, servers] of byDevice) {
    rules.push(`meta mark ${set(servers.map((s) => hex(s.mark)))} fwd ip to meta mark map ${set(servers.map((s) => `${hex(s.mark)} : ${s.address}`))} device ${JSON.stringify(device)}`);
  }
  // Unknown flows (a stray segment, a halted flow, no server to pick) stop here.
  rules.push('meta mark set 0 drop');
  return rules;
}

/** The rules of one nat or snat VIP's chain (only a connection's first packet gets here). */
function natRules(vip: KernelVip): string[] {
  const rules: string[] = ['meta mark set 0', ...choose(vip, '')];
  // No server: the packet goes on to the local stack, which refuses it (RST, port unreachable).
  rules.push('meta mark 0 return');
  rules.push('ct mark set meta mark', 'meta mark set 0');
  const withPort = vip.servers.filter((s) => s.port !== null && !s.halted);
  const samePort = vip.servers.filter((s) => s.port === null && !s.halted);
  if (withPort.length > 0) rules.push(`meta l4proto ${vip.protocol} ct mark ${set(withPort.map((s) => hex(s.mark)))} dnat ip to ct mark map ${set(withPort.map((s) => `${hex(s.mark)} : ${s.address} . ${s.port}`))}`);
  if (samePort.length > 0) rules.push(`ct mark ${set(samePort.map((s) => hex(s.mark)))} dnat ip to ct mark map ${set(samePort.map((s) => `${hex(s.mark)} : ${s.address}`))}`);
  return rules;
}

function stickies(v: KernelVip): string[] {
  return v.persistenceTimeout === null ? [] : v.servers.map((s) => stickyName(v, s.mark));
}

/** The whole transaction: the VIPs given, and nothing else of the appliance's tables. */
export function renderRuleset(table: string, vips: readonly KernelVip[], existing: ExistingObjects): string {
  const out: string[] = [`add table ip ${table}`, `add table netdev ${table}`];
  // Every chain goes (flushed first, so no rule holds a map), the wanted ones come back.
  for (const family of ['ip', 'netdev'] as const) {
    const chains = existing[family]?.chains ?? [];
    for (const c of chains) out.push(`flush chain ${family} ${table} ${c}`);
    for (const c of chains) out.push(`delete chain ${family} ${table} ${c}`);
  }
  const dr = vips.filter((v) => v.forwarding === 'direct-routing');
  const nat = vips.filter((v) => v.forwarding !== 'direct-routing');
  const wantedMaps = {
    netdev: new Set(dr.flatMap((v) => [`flows_${vipName(v.id)}`, `closing_${vipName(v.id)}`, ...stickies(v)])),
    ip: new Set(nat.flatMap(stickies)),
  };
  for (const family of ['ip', 'netdev'] as const) {
    for (const m of existing[family]?.maps ?? []) if (!wantedMaps[family].has(m)) out.push(`delete map ${family} ${table} ${m}`);
    for (const m of existing[family]?.sets ?? []) if (!wantedMaps[family].has(m)) out.push(`delete set ${family} ${table} ${m}`);
  }
  const dyn = `flags dynamic,timeout; size ${DYNAMIC_MAP_SIZE};`;
  // Maps that exist keep their elements (`add` of an existing map changes nothing).
  for (const v of dr) {
    const n = vipName(v.id);
    out.push(`add map netdev ${table} flows_${n} { type ipv4_addr . inet_service . inet_service : mark; ${dyn} }`);
    out.push(`add set netdev ${table} closing_${n} { type ipv4_addr . inet_service . inet_service; ${dyn} }`);
    for (const st of stickies(v)) out.push(`add set netdev ${table} ${st} { type ipv4_addr; ${dyn} }`);
  }
  for (const v of nat) for (const st of stickies(v)) out.push(`add set ip ${table} ${st} { type ipv4_addr; ${dyn} }`);

  // Direct routing: a regular chain per VIP, jumped to from an ingress chain per device.
  const devices = [...new Set(dr.flatMap((v) => v.ingress))].sort();
  for (const v of dr) {
    const c = `vs_${vipName(v.id)}`;
    out.push(`add chain netdev ${table} ${c}`);
    for (const r of directRoutingRules(v)) out.push(`add rule netdev ${table} ${c} ${r}`);
  }
  devices.forEach((device, i) => {
    const c = `in_${i}`;
    out.push(`add chain netdev ${table} ${c} { type filter hook ingress device ${JSON.stringify(device)} priority -300; policy accept; }`);
    for (const v of dr) if (v.ingress.includes(device)) out.push(`add rule netdev ${table} ${c} ip daddr ${v.address} ${v.protocol} dport ${ports(v)} jump vs_${vipName(v.id)}`);
  });

  // nat and snat.
  if (nat.length > 0) {
    out.push(`add chain ip ${table} prerouting { type nat hook prerouting priority dstnat; policy accept; }`);
    out.push(`add chain ip ${table} postrouting { type nat hook postrouting priority srcnat; policy accept; }`);
    out.push(`add chain ip ${table} forward { type filter hook forward priority filter; policy accept; }`);
    for (const v of nat) {
      const c = `vs_${vipName(v.id)}`;
      out.push(`add chain ip ${table} ${c}`);
      for (const r of natRules(v)) out.push(`add rule ip ${table} ${c} ${r}`);
      out.push(`add rule ip ${table} prerouting ip daddr ${v.address} ${v.protocol} dport ${ports(v)} jump ${c}`);
    }
    const snat = nat.filter((v) => v.forwarding === 'snat' && !v.snatSource).flatMap((v) => v.servers.map((s) => hex(s.mark)));
    if (snat.length > 0) out.push(`add rule ip ${table} postrouting ct mark ${set(snat)} masquerade`);
    // In an HA pair the source is the VIP address, which moves with the VIP: the servers' replies reach the active node.
    for (const v of nat) {
      if (v.forwarding !== 'snat' || !v.snatSource || v.servers.length === 0) continue;
      out.push(`add rule ip ${table} postrouting ct mark ${set(v.servers.map((s) => hex(s.mark)))} snat ip to ${v.snatSource}`);
    }
    const halted = nat.flatMap((v) => v.servers.filter((s) => s.halted).map((s) => hex(s.mark)));
    if (halted.length > 0) {
      out.push(`add rule ip ${table} forward ct mark ${set(halted)} meta l4proto tcp reject with tcp reset`);
      out.push(`add rule ip ${table} forward ct mark ${set(halted)} drop`);
    }
  }
  return `${out.join('\n')}\n`;
}

/**
 * The transaction of a node that gave its nat and snat VIPs up (HA passive) after carrying
 * them: no rules, no maps, only the two nat base chains, empty. Until the network's ARP caches
 * follow the addresses to the new active node, packets of the connections this node translated
 * still reach it (a server's reply through its old gateway, a client's next segment); the nat
 * hooks of these chains keep translating them from the connection tracking entries. Without
 * them a server's reply went to the client untranslated (from the server's own address), and
 * the client's reset killed the connection.
 */
export function renderPassive(table: string, existing: ExistingObjects): string {
  const out = [renderRuleset(table, [], existing).trimEnd()];
  out.push(`add chain ip ${table} prerouting { type nat hook prerouting priority dstnat; policy accept; }`);
  out.push(`add chain ip ${table} postrouting { type nat hook postrouting priority srcnat; policy accept; }`);
  return `${out.join('\n')}\n`;
}

/** The transaction that removes both tables (stop, passive node). */
export function renderRemoval(table: string, existing: ExistingObjects): string {
  const out: string[] = [];
  if (existing.ip) out.push(`delete table ip ${table}`);
  if (existing.netdev) out.push(`delete table netdev ${table}`);
  return out.length > 0 ? `${out.join('\n')}\n` : '';
}
