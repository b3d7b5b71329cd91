// The layer 4 state an HA pair hands over besides conntrack: the flow map of each
// direct-routing VIP (which server each established flow goes to) and the source-IP
// persistence sets of every layer 4 VIP (which server each client sticks to). The kernel
// keeps both in dynamic nftables maps and sets, filled from the packet path, where conntrackd
// cannot see them. The active node reads them (one `nft -j list table` per family) and sends
// them to the passive node every second; the passive node holds the last copy and writes it
// into its own maps as it takes over, before its addresses draw the traffic. So after a
// takeover an established DICOM association stays on its server, and a persistent client goes
// back to its own, even when the new node sees other servers selectable than the old one did
// (a server drained since the flow began, a check that differs between the nodes) and the
// shared flow hash alone would choose another.
//
// Pure functions: reading nft's JSON into the contract's shape, and writing the contract's
// shape back as one nftables transaction. The plane (kernel-plane.ts) runs them.
import { hex, serverMark } from './marks.js';
import type { KernelFlowState, VipFlowState } from '../types.js';
import { stickyName, vipName, type KernelVip } from './ruleset.js';

/** The most entries (flows and clients together) one hand-over carries: the API's 1 MiB body holds about this many. */
export const MAX_HANDED_OVER = 8000;

/** What reading needs of a VIP: its id, how it forwards, and its servers' ids. */
export interface VipOfState {
  id: string;
  forwarding: string;
  persistent: boolean;
  realServerIds: readonly string[];
}

type Elem = { elem?: { val?: unknown; expires?: number; timeout?: number } } | string;

/** An element of a listed set or map: its key and the seconds it has left. */
function element(e: unknown): { key: unknown; expires: number } | null {
  const x = e as Elem;
  if (typeof x === 'string') return { key: x, expires: 0 };
  if (x && typeof x === 'object' && 'elem' in x && x.elem) return { key: x.elem.val, expires: Math.max(0, Math.round(x.elem.expires ?? 0)) };
  return null;
}

/**
 * The state in `nft -j list table` output (both families' objects together), for the VIPs
 * given. Entries whose server is no longer one of the VIP's are left out; the longest-lived
 * entries are kept when there are more than `MAX_HANDED_OVER`.
 */
export function readFlowState(objects: readonly Record<string, unknown>[], vips: readonly VipOfState[]): KernelFlowState {
  const byName = new Map<string, { family: string; elem: unknown[] }>();
  for (const o of objects) {
    const m = (o.map ?? o.set) as { name?: string; family?: string; elem?: unknown[] } | undefined;
    if (m?.name) byName.set(`${m.family}/${m.name}`, { family: m.family ?? '', elem: m.elem ?? [] });
  }
  const out: VipFlowState[] = [];
  for (const v of vips) {
    const serverOf = new Map(v.realServerIds.map((id) => [serverMark(id), id]));
    const state: VipFlowState = { id: v.id, flows: [], clients: [] };
    if (v.forwarding === 'direct-routing') {
      for (const raw of byName.get(`netdev/flows_${vipName(v.id)}`)?.elem ?? []) {
        // A map element is [key, value]: the key a concatenation (client . client port . port), the value the mark.
        if (!Array.isArray(raw) || raw.length !== 2) continue;
        const e = element(raw[0]);
        const concat = (e?.key as { concat?: unknown[] } | undefined)?.concat;
        const server = serverOf.get(Number(raw[1]));
        if (!e || !Array.isArray(concat) || concat.length !== 3 || server === undefined) continue;
        const [client, clientPort, port] = concat;
        if (typeof client !== 'string' || typeof clientPort !== 'number' || typeof port !== 'number') continue;
        state.flows.push({ client, clientPort, port, realServerId: server, expiresSeconds: e.expires });
      }
    }
    if (v.persistent) {
      const family = v.forwarding === 'direct-routing' ? 'netdev' : 'ip';
      for (const [mark, server] of serverOf) {
        for (const raw of byName.get(`${family}/${stickyName({ id: v.id } as KernelVip, mark)}`)?.elem ?? []) {
          const e = element(raw);
          if (e && typeof e.key === 'string') state.clients.push({ client: e.key, realServerId: server, expiresSeconds: e.expires });
        }
      }
    }
    if (state.flows.length > 0 || state.clients.length > 0) out.push(state);
  }
  return { virtualServices: trim(out) };
}

/** At most MAX_HANDED_OVER entries in all, the longest-lived kept. */
function trim(vips: VipFlowState[]): VipFlowState[] {
  const all = vips.flatMap((v) => [...v.flows, ...v.clients]);
  if (all.length <= MAX_HANDED_OVER) return vips;
  const kept = new Set<object>(all.sort((a, b) => b.expiresSeconds - a.expiresSeconds).slice(0, MAX_HANDED_OVER));
  return vips.map((v) => ({ id: v.id, flows: v.flows.filter((f) => kept.has(f)), clients: v.clients.filter((c) => kept.has(c)) })).filter((v) => v.flows.length + v.clients.length > 0);
}

/**
 * The commands that write a peer's state (received `ageSeconds` ago) into this node's maps
 * and sets (appended to the ruleset's transaction of the node taking over), for the VIPs as this node programs them: an entry whose server this node
 * would not send it to (gone, halted, down) or whose time ran out is left out, so the flow
 * meets this node's own choice. Empty when nothing is left.
 */
export function renderFlowState(table: string, state: KernelFlowState, vips: readonly KernelVip[], ageSeconds: number): string {
  const out: string[] = [];
  const byId = new Map(vips.map((v) => [v.id, v]));
  for (const s of state.virtualServices) {
    const vip = byId.get(s.id);
    if (!vip) continue;
    const takes = new Map(vip.servers.filter((x) => x.keepsPersistent).map((x) => [x.mark, x]));
    const n = vipName(vip.id);
    if (vip.forwarding === 'direct-routing') {
      const elements: string[] = [];
      for (const f of s.flows) {
        const mark = serverMark(f.realServerId);
        const left = Math.min(vip.flowTimeout, f.expiresSeconds - ageSeconds);
        if (!takes.has(mark) || left <= 0 || !vip.ports.includes(f.port)) continue;
        elements.push(`${f.client} . ${f.clientPort} . ${f.port} timeout ${vip.flowTimeout}s expires ${left}s : ${hex(mark)}`);
      }
      // The map is this node's own from before it was passive (emptied then) or new; an entry
      // of a different server for the same flow would refuse the whole transaction.
      if (elements.length > 0) out.push(`flush map netdev ${table} flows_${n}`, `add element netdev ${table} flows_${n} { ${elements.join(', ')} }`);
    }
    if (vip.persistenceTimeout !== null) {
      const family = vip.forwarding === 'direct-routing' ? 'netdev' : 'ip';
      const bySet = new Map<string, string[]>();
      for (const c of s.clients) {
        const mark = serverMark(c.realServerId);
        const left = Math.min(vip.persistenceTimeout, c.expiresSeconds - ageSeconds);
        if (!takes.has(mark) || left <= 0) continue;
        const name = stickyName(vip, mark);
        bySet.set(name, [...(bySet.get(name) ?? []), `${c.client} timeout ${vip.persistenceTimeout}s expires ${left}s`]);
      }
      for (const [name, elements] of bySet) out.push(`add element ${family} ${table} ${name} { ${elements.join(', ')} }`);
    }
  }
  return out.length > 0 ? `${out.join('\n')}\n` : '';
}
