// Decides the cheapest hitless way from the running snapshot to the next one: runtime-API
// commands (server weights and admin states, servers added and removed, certificate
// material) when every change is of that kind, else a seamless reload. HAProxy 2.6 cannot
// create proxies, change a backend's algorithm, persistence or checks, or give a dynamic
// server a persistence cookie at run time; those need the reload.
import { isIP } from 'node:net';
import { vipOf } from '../../config/snapshot-step.js';
import type { ConfigSnapshot, RealServerSnapshot, VipChange, VirtualServiceSnapshot } from '../types.js';
import { backendServerIds, certBundle, certPath, listens, serverArgs, type RenderSettings } from './config-render.js';
import { backendName, serverName } from './names.js';

/** One runtime-API step. */
export interface RuntimeStep {
  command: string;
  payload?: string;
  /** A `del server` that may have to wait for the server's last connections. */
  deferrable?: boolean;
}

/** What applying the next snapshot takes. */
export interface ChangePlan {
  /** Why a reload is needed (empty when the runtime steps suffice). */
  reloadReasons: string[];
  steps: RuntimeStep[];
  /** Listener (bind line) changes a reload would make. */
  listenersChanged: number;
}

function vipShape(vs: VirtualServiceSnapshot): string {
  // Everything of a VIP that only a reload can change: its spec without servers and certificate material.
  const { realServers: _r, certificate, ...spec } = vs;
  // `hasCertificate`, not `tls`: the spec's own `tls` (the VIP's TLS policy) must count.
  return JSON.stringify({ ...spec, hasCertificate: certificate !== null });
}

function serverShape(rs: RealServerSnapshot): string {
  return JSON.stringify([rs.address, rs.port, rs.backup, rs.reEncrypt, rs.maxConnections]);
}

/** A VIP's bind lines as keys, built once per VIP snapshot (the store reuses an unchanged VIP's). */
const bindKeysOf = new WeakMap<VirtualServiceSnapshot, readonly string[]>();
function bindKeys(vs: VirtualServiceSnapshot): readonly string[] {
  let keys = bindKeysOf.get(vs);
  if (!keys) bindKeysOf.set(vs, (keys = vs.ports.map((port) => `${vs.id}|${vs.ipAddress}|${port}|${vs.protocol}|${vs.certificate !== null}`)));
  return keys;
}

/** How many bind lines differ between a VIP as it was (or absent) and as it will be (or absent). Keys carry the VIP's id, so VIPs never share one. */
function bindChanges(old: VirtualServiceSnapshot | undefined, next: VirtualServiceSnapshot | undefined, prevSettings: Pick<RenderSettings, 'active' | 'unbindable'>, nextSettings: Pick<RenderSettings, 'active' | 'unbindable'>): number {
  const before = old && listens(old, prevSettings) ? bindKeys(old) : [];
  const after = next && listens(next, nextSettings) ? bindKeys(next) : [];
  return before.filter((k) => !after.includes(k)).length + after.filter((k) => !before.includes(k)).length;
}

function stateSteps(be: string, rs: RealServerSnapshot): RuntimeStep[] {
  const name = `${be}/${serverName(rs.id)}`;
  const state = rs.adminState === 'online' ? 'ready' : rs.adminState === 'drain' ? 'drain' : 'maint';
  return [{ command: `set server ${name} weight ${rs.weight}` }, { command: `set server ${name} state ${state}` }];
}

/**
 * Whether a plan only sets weights and admin states of existing servers: values the contract
 * bounds, which change no line HAProxy's parser could refuse (the store's check of such a
 * revision need not run `haproxy -c`).
 */
export function onlyServerStates(plan: ChangePlan): boolean {
  return plan.reloadReasons.length === 0 && plan.steps.every((s) => /^set server \S+ (weight \d+|state (ready|drain|maint))$/.test(s.command));
}

/** The plan from `prev` (running with `prevSettings`) to `next` (to run with `nextSettings`). */
export function planChanges(prev: ConfigSnapshot, next: ConfigSnapshot, prevSettings: RenderSettings, nextSettings: RenderSettings, changes?: readonly VipChange[] | null): ChangePlan {
  const reasons: string[] = [];
  const steps: RuntimeStep[] = [];
  const sameActive = prevSettings.active === nextSettings.active;
  // Each VIP before and after (undefined: not there); a VIP that is the same snapshot, with
  // the same ownership and bindability, has nothing to plan, so a revision made from `prev` by
  // replacing VIPs (snapshot-step.ts) needs only those and the ones whose bindability may change.
  const pairs: [VirtualServiceSnapshot | undefined, VirtualServiceSnapshot][] = [];
  const removed: VirtualServiceSnapshot[] = [];
  if (changes && sameActive) {
    const seen = new Set<string>();
    for (const c of changes) {
      pairs.push([c.before, c.after]);
      seen.add(c.after.id);
    }
    for (const id of new Set([...prevSettings.unbindable.keys(), ...nextSettings.unbindable.keys()])) {
      const vs = seen.has(id) ? undefined : vipOf(next, id);
      if (vs) pairs.push([vipOf(prev, id), vs]);
    }
  } else {
    const prevById = new Map(prev.virtualServices.map((v) => [v.id, v]));
    const nextIds = new Set(next.virtualServices.map((v) => v.id));
    for (const vs of next.virtualServices) pairs.push([prevById.get(vs.id), vs]);
    for (const vs of prev.virtualServices) if (!nextIds.has(vs.id)) removed.push(vs);
  }
  // Bind lines.
  let listenersChanged = 0;
  for (const [old, vs] of pairs) {
    if (sameActive && old === vs && prevSettings.unbindable.has(vs.id) === nextSettings.unbindable.has(vs.id)) continue;
    listenersChanged += bindChanges(old, vs, prevSettings, nextSettings);
  }
  for (const vs of removed) listenersChanged += bindChanges(vs, undefined, prevSettings, nextSettings);
  if (listenersChanged > 0) reasons.push(`${listenersChanged} listener(s) change`);
  if (prevSettings.active !== nextSettings.active) reasons.push(nextSettings.active ? 'VIPs bound (active)' : 'VIPs released (passive)');
  if (JSON.stringify(prevSettings.peers) !== JSON.stringify(nextSettings.peers)) reasons.push('replication peers changed');
  for (const vs of removed) reasons.push(`VIP ${vs.label} removed`);
  for (const [old, vs] of pairs) {
    if (!old) {
      reasons.push(`VIP ${vs.label} added`);
      continue;
    }
    // The store reuses a VIP's frozen snapshot while nothing of it changed: nothing to compare.
    if (old === vs) {
      if (prevSettings.unbindable.has(vs.id) !== nextSettings.unbindable.has(vs.id)) reasons.push(`VIP ${vs.label} can now listen`);
      continue;
    }
    if (vipShape(old) !== vipShape(vs)) {
      reasons.push(`VIP ${vs.label} settings changed`);
      continue;
    }
    if (prevSettings.unbindable.has(vs.id) !== nextSettings.unbindable.has(vs.id)) reasons.push(`VIP ${vs.label} can now listen`);
    // New certificate material on the same listener: HAProxy's runtime certificate transaction.
    const bundle = certBundle(vs);
    if (bundle !== null && bundle !== certBundle(old) && listens(vs, nextSettings) && listens(old, prevSettings)) {
      const path = certPath(nextSettings.certDir, vs.id);
      steps.push({ command: `set ssl cert ${path}`, payload: bundle }, { command: `commit ssl cert ${path}` });
    }
    if (vs.forceHttps) continue; // a redirect VIP's backend carries no servers
    const be = backendName(vs.id);
    const oldServers = new Map(old.realServers.map((r) => [r.id, r]));
    const nextServers = new Set(vs.realServers.map((r) => r.id));
    const ids = backendServerIds(vs);
    for (const rs of old.realServers) {
      if (nextServers.has(rs.id)) continue;
      steps.push({ command: `set server ${be}/${serverName(rs.id)} state maint` }, { command: `del server ${be}/${serverName(rs.id)}`, deferrable: true });
    }
    for (const rs of vs.realServers) {
      const was = oldServers.get(rs.id);
      if (!was) {
        // 2.6's dynamic servers take no `cookie` and resolve no host names.
        if (vs.persistence.mode === 'http-cookie') reasons.push(`server ${rs.label} added to a cookie-persistence VIP`);
        else if (isIP(rs.address) === 0) reasons.push(`server ${rs.label} added by host name`);
        else {
          const name = `${be}/${serverName(rs.id)}`;
          steps.push({ command: `add server ${name} ${serverArgs(vs, rs, { dynamic: true, ids })}` });
          // Checked from now on, and usable at once as a new server of the embedded engine is
          // (a dynamic server would otherwise wait for `rise` checks).
          if (vs.healthCheck.type !== 'none') steps.push({ command: `enable health ${name}` }, { command: `set server ${name} health up` });
          // A dynamic server's agent starts down; a static one starts up, and so does this one.
          if (vs.healthCheck.agent?.port != null) steps.push({ command: `enable agent ${name}` }, { command: `set server ${name} agent up` });
          steps.push(...stateSteps(be, rs));
        }
        continue;
      }
      if (serverShape(was) !== serverShape(rs)) {
        reasons.push(`server ${rs.label} address, port, backup, re-encryption or connection limit changed`);
        continue;
      }
      if (was.weight !== rs.weight || was.adminState !== rs.adminState) steps.push(...stateSteps(be, rs));
    }
  }
  return { reloadReasons: reasons, steps: reasons.length > 0 ? [] : steps, listenersChanged };
}
