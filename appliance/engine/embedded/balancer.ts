// Chooses the real server for a new session: weighted round robin (smooth, so weights
// interleave rather than burst) or weighted least connections. Backup servers serve only
// when no primary can; drain and halt servers, weight 0 and servers found down take no new
// sessions.
import type { UpstreamServer } from './upstream-server.js';

/** The balancing algorithms. */
export type Algorithm = 'roundrobin' | 'leastconn';

function pickRoundRobin(candidates: UpstreamServer[]): UpstreamServer {
  // Smooth weighted round robin: every pick adds each weight to its server's credit and
  // takes the richest, which then pays the total back.
  let total = 0;
  let best = candidates[0] as UpstreamServer;
  for (const s of candidates) {
    s.current += s.weight;
    total += s.weight;
    if (s.current > best.current) best = s;
  }
  best.current -= total;
  return best;
}

function pickLeastConn(candidates: UpstreamServer[], rrState: { next: number }): UpstreamServer {
  // Lowest active/weight wins; ties rotate so equal servers share evenly.
  const start = rrState.next++ % candidates.length;
  let best: UpstreamServer | null = null;
  let bestScore = Infinity;
  for (let i = 0; i < candidates.length; i++) {
    const s = candidates[(start + i) % candidates.length] as UpstreamServer;
    const score = (s.active + 1) / s.weight;
    if (score < bestScore) {
      best = s;
      bestScore = score;
    }
  }
  return best as UpstreamServer;
}

function eligible(servers: readonly UpstreamServer[], exclude?: ReadonlySet<UpstreamServer>): UpstreamServer[] | null {
  let candidates = servers.filter((s) => !s.backup && s.acceptsNew && !exclude?.has(s));
  if (candidates.length === 0) {
    // Failover mode: a backup serves only when no primary is left to serve.
    candidates = servers.filter((s) => s.backup && s.acceptsNew && !exclude?.has(s));
    if (candidates.length === 0) return null;
  }
  // A server at its maxConnections still counts as serving (backups stay out), but takes no one new.
  candidates = candidates.filter((s) => !s.full);
  return candidates.length === 0 ? null : candidates;
}

/** Whether every server that could take a new session is at its maxConnections (the session should wait). */
export function allFull(servers: readonly UpstreamServer[]): boolean {
  let usable = servers.filter((s) => !s.backup && s.acceptsNew);
  if (usable.length === 0) usable = servers.filter((s) => s.backup && s.acceptsNew);
  return usable.length > 0 && usable.every((s) => s.full);
}

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Picks servers for one VIP. */
export class Balancer {
  algorithm: Algorithm = 'roundrobin';
  readonly #leastConnState = { next: 0 };

  /** The server for a new session, or null when none can take one; `exclude` holds servers already tried. */
  pick(servers: readonly UpstreamServer[], exclude?: ReadonlySet<UpstreamServer>): UpstreamServer | null {
    const candidates = eligible(servers, exclude);
    if (candidates === null) return null;
    if (candidates.length === 1) return candidates[0] as UpstreamServer;
    return this.algorithm === 'leastconn' ? pickLeastConn(candidates, this.#leastConnState) : pickRoundRobin(candidates);
  }

  /**
   * A weighted rendezvous-hash pick for `key`: the same key and the same eligible servers
   * give the same server in every process (worker processes share no balancer state).
   */
  pickByHash(servers: readonly UpstreamServer[], key: string): UpstreamServer | null {
    const candidates = eligible(servers);
    if (candidates === null) return null;
    let best: UpstreamServer | null = null;
    let bestScore = -Infinity;
    for (const s of candidates) {
      const h = (fnv1a(`${key}|${s.id}`) + 0.5) / 4294967296;
      const score = s.weight / -Math.log(h);
      if (score > bestScore) {
        best = s;
        bestScore = score;
      }
    }
    return best;
  }
}
