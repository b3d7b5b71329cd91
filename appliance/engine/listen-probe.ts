// Whether this host lets a VIP listen, asked before a revision is stored: every engine binds
// its VIPs after the write is acknowledged, so an address and port another program already
// holds would otherwise be accepted ("Apply complete") and then sit down with EADDRINUSE.
// Only listeners the revision adds are probed (a VIP already in the running configuration is
// never a reason to refuse an unrelated write), and only on the active node (a passive node
// binds nothing). An address this host does not have (EADDRNOTAVAIL) is accepted: an HA
// takeover or the network team may add it later, and the overview shows it red until then.
import { createServer } from 'node:net';
import { ApplianceError } from '../errors.js';
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

/** The listeners of a snapshot's enabled VIPs, as keys. */
export function listenerKeys(snapshot: ConfigSnapshot): Set<string> {
  const out = new Set<string>();
  for (const vs of snapshot.virtualServices) if (vs.enabled) for (const p of vs.ports) out.add(key(vs.ipAddress, p));
  return out;
}

/**
 * Refuses a candidate whose new listeners this host will not let the engine bind: a port
 * another program holds (409 LB_ADDRESS_IN_USE) or one this process may not bind (422
 * LB_ENGINE_REFUSED, e.g. a port below 1024 without CAP_NET_BIND_SERVICE). `held`: the
 * listeners of the running configuration.
 */
export async function checkListeners(candidate: ConfigSnapshot, held: Set<string>): Promise<void> {
  for (const vs of candidate.virtualServices) {
    if (!vs.enabled) continue;
    for (const [index, port] of vs.ports.entries()) {
      if (held.has(key(vs.ipAddress, port))) continue;
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
