// Whether this host lets a VIP listen, asked before a revision is stored: every engine binds
// its VIPs after the write is acknowledged, so an address and port another program already
// holds would otherwise be accepted ("Apply complete") and then sit down with EADDRINUSE.
// Only listeners the revision adds are probed (a VIP already in the running configuration is
// never a reason to refuse an unrelated write), and only on the active node (a passive node
// binds nothing). An address this host does not have (EADDRNOTAVAIL) is accepted: an HA
// takeover or the network team may add it later, and the overview shows it red until then.
import { createServer } from 'node:net';
import { ApplianceError } from '../errors.js';
import { changesSince } from '../config/snapshot-step.js';
import type { ConfigSnapshot } from './types.js';

/** Why `host:port` cannot be bound from this process (null: it can). */
export function bindProbe(host: string, port: number): Promise<{ code: string; message: string } | null> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', (err: NodeJS.ErrnoException) => resolve({ code: err.code ?? 'ERROR', message: `cannot listen on ${host}:${port}: ${err.code ?? err.message}` }));
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => resolve(null)));
  });
}

function key(address: string, port: number): string {
  return `${address.toLowerCase()}|${port}`;
}

/** What a running snapshot holds: its enabled VIPs' listeners as keys, and its VIP snapshots. */
interface Held {
  keys: Set<string>;
  vips: Set<object>;
}
// Built once per running snapshot, not per write: a revision is probed against the same
// running snapshot until the engine applies another (issue 17: a pass over every VIP's
// listeners per write at a thousand VIPs).
const heldOf = new WeakMap<ConfigSnapshot, Held>();

function held(running: ConfigSnapshot): Held {
  let h = heldOf.get(running);
  if (!h) {
    h = { keys: new Set(), vips: new Set(running.virtualServices) };
    for (const vs of running.virtualServices) if (vs.enabled) for (const p of vs.ports) h.keys.add(key(vs.ipAddress, p));
    heldOf.set(running, h);
  }
  return h;
}

/**
 * Refuses a candidate whose new listeners this host will not let the engine bind: a port
 * another program holds (409 LB_ADDRESS_IN_USE) or one this process may not bind (422
 * LB_ENGINE_REFUSED, e.g. a port below 1024 without CAP_NET_BIND_SERVICE). `running`: the
 * configuration the engine runs. A VIP whose snapshot is the running one (the store reuses an
 * unchanged VIP's frozen snapshot) adds no listener and is not looked at.
 */
export async function checkListeners(candidate: ConfigSnapshot, running: ConfigSnapshot): Promise<void> {
  // A candidate made from the running snapshot by replacing VIPs (snapshot-step.ts): only those
  // are looked at, and a port the same VIP held before needs no pass over every listener.
  const changes = changesSince(running, candidate);
  const candidates = changes ? changes.map((c) => [c.before, c.after] as const) : candidate.virtualServices.map((vs) => [undefined, vs] as const);
  for (const [before, vs] of candidates) {
    if (!vs.enabled || (!changes && held(running).vips.has(vs))) continue;
    for (const [index, port] of vs.ports.entries()) {
      if (before?.enabled && before.ipAddress.toLowerCase() === vs.ipAddress.toLowerCase() && before.ports.includes(port)) continue;
      if (held(running).keys.has(key(vs.ipAddress, port))) continue;
      const why = await bindProbe(vs.ipAddress, port);
      if (!why) continue;
      const field = `/virtualServices/${vs.id}/ports/${index}`;
      if (why.code === 'EADDRINUSE') {
        throw new ApplianceError('LB_ADDRESS_IN_USE', `${vs.ipAddress}:${port} is already held by another program on this appliance (EADDRINUSE): virtual service ${vs.label} could not listen`, { field });
      }
      if (why.code === 'EACCES') {
        throw new ApplianceError('LB_ENGINE_REFUSED', `the appliance may not listen on ${vs.ipAddress}:${port} (EACCES): ports below 1024 need root or CAP_NET_BIND_SERVICE`, { field });
      }
    }
  }
}
