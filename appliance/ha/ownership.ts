// The ownership state machine, as a pure function of what a node knows: its own role, state
// and term, the peer's last accepted heartbeat and the last probe of the peer's API. The pair
// runtime calls it on every tick and every heartbeat and carries out what it returns.
//
// The rules (documented for operators in docs/ha.md):
// - A passive node takes over when the peer's heartbeat has been missing for the dead time
//   AND the last two probes of the peer's API, started after the last heartbeat, failed. A
//   peer whose API still answers is alive: a lost heartbeat alone never moves the VIPs.
// - Both nodes passive (the peer says so, well after this node became passive): the primary
//   takes over after two intervals, the secondary only after the dead time (should the
//   primary fail to); a node that handed the VIPs over on request waits the dead time too,
//   whatever its role (the asker is taking them). So the pair never stays without an active node.
// - Both nodes active (a healed partition): with `preferPrimary` the primary keeps the VIPs;
//   otherwise the node with the higher ownership term (the latest takeover, whose gratuitous
//   ARP the network learned last) keeps them, the primary on a tie. The other releases.
// - With `preferPrimary`, a passive primary that hears an active secondary takes the VIPs
//   back (fails back) once it has been up and passive for the dead time; not after it handed
//   them over on request (a manual takeover on the secondary stands).

/** A node's ownership state. */
export type OwnershipState = 'active' | 'passive';

/** The peer as last heard, through the heartbeat or the API. */
export interface PeerObservation {
  /** When it was heard (ms). */
  at: number;
  state: OwnershipState;
  term: number;
}

/** The latest finished probe of the peer's API. */
export interface ApiProbe {
  startedAt: number;
  finishedAt: number;
  ok: boolean;
  state?: OwnershipState;
  term?: number;
  /** Failed probes in a row, this one included (0 when it succeeded). */
  failures: number;
  /** When the first probe of that failing run started. */
  failingSince: number;
}

/** Failed probes in a row that, with the heartbeat lost, make the peer dead (one slow answer is not enough). */
export const PROBE_FAILURES_FOR_DEAD = 2;

/** Everything the decision needs. */
export interface OwnershipInput {
  now: number;
  role: 'primary' | 'secondary';
  state: OwnershipState;
  term: number;
  /** When this node entered its current state (or started). */
  since: number;
  /** When the runtime started (a node that never heard its peer counts from here). */
  startedAt: number;
  intervalMs: number;
  deadTimeMs: number;
  preferPrimary: boolean;
  /** Whether this node is passive because it (re)started, not because it handed the VIPs over on request. */
  returned: boolean;
  heartbeat: PeerObservation | null;
  probe: ApiProbe | null;
}

/** What to do. */
export type OwnershipDecision =
  | { action: 'none' }
  | { action: 'takeover'; reason: 'heartbeat lost' | 'both passive' }
  | { action: 'failback' }
  | { action: 'release'; reason: 'split brain' };

/** Whether a node in `me` keeps the VIPs against an active peer. */
export function winsSplitBrain(me: { role: 'primary' | 'secondary'; term: number }, peerTerm: number, preferPrimary: boolean): boolean {
  if (preferPrimary) return me.role === 'primary';
  if (me.term !== peerTerm) return me.term > peerTerm;
  return me.role === 'primary';
}

/**
 * The freshest view of the peer: its heartbeat, or an answer of its API, if recent enough. An
 * answer counts as of the probe's start: the peer may have said it any time after, and a slow
 * answer dated by its arrival made a peer that took over meanwhile look passive after it
 * announced itself active (the old active node then took the VIPs back as 'both passive').
 */
export function peerView(input: OwnershipInput): PeerObservation | null {
  const { heartbeat, probe, now, deadTimeMs } = input;
  const fromProbe: PeerObservation | null = probe?.ok && probe.state !== undefined ? { at: probe.startedAt, state: probe.state, term: probe.term ?? 0 } : null;
  const best = [heartbeat, fromProbe].filter((o): o is PeerObservation => o !== null && now - o.at < deadTimeMs).sort((a, b) => b.at - a.at)[0];
  return best ?? null;
}

/** Milliseconds since the peer's last heartbeat (counted from start if never heard). */
export function heartbeatAge(input: Pick<OwnershipInput, 'now' | 'heartbeat' | 'startedAt'>): number {
  return input.now - (input.heartbeat?.at ?? input.startedAt);
}

/** Whether the peer is dead: no heartbeat for the dead time, and its API failed twice in a row since. */
export function peerDead(input: OwnershipInput): boolean {
  if (heartbeatAge(input) < input.deadTimeMs) return false;
  const lastHeard = input.heartbeat?.at ?? input.startedAt;
  const { probe } = input;
  return probe !== null && !probe.ok && probe.failures >= PROBE_FAILURES_FOR_DEAD && probe.failingSince >= lastHeard;
}

/** One finished probe of the peer's API, before it is folded into the run of failures. */
export type ProbeOutcome = Pick<ApiProbe, 'startedAt' | 'finishedAt' | 'ok' | 'state' | 'term'>;

/**
 * The probe record after `outcome`: a failure continues the previous run of failures only if
 * that run started after the peer was last heard (`lastHeard`: its last heartbeat, or the
 * start). A heartbeat in between ends the run: otherwise failures from before it (an earlier
 * partition) would keep `failingSince` before every later heartbeat, and the peer could never
 * be found dead again until a probe succeeded.
 */
export function recordProbe(before: ApiProbe | null, outcome: ProbeOutcome, lastHeard: number): ApiProbe {
  if (outcome.ok) return { ...outcome, failures: 0, failingSince: 0 };
  const continues = before !== null && !before.ok && before.failingSince >= lastHeard;
  return continues
    ? { ...outcome, failures: before.failures + 1, failingSince: before.failingSince }
    : { ...outcome, failures: 1, failingSince: outcome.startedAt };
}

/** Decides the next step of the ownership state machine. */
export function decideOwnership(input: OwnershipInput): OwnershipDecision {
  const { now, role, state, since, intervalMs, deadTimeMs, preferPrimary } = input;
  const peer = peerView(input);
  if (state === 'passive') {
    if (peerDead(input)) return { action: 'takeover', reason: 'heartbeat lost' };
    if (!peer) return { action: 'none' };
    if (peer.state === 'passive') {
      // Only a peer heard passive well after this node became passive counts (not one that is
      // about to take over after asking this node to release). A node that handed the VIPs over
      // on request gives the asker the dead time to take them, whatever its role: under load the
      // asker may still be waiting for the release's answer many intervals later, and the
      // primary took the VIPs back after two intervals (a manual takeover ended with the old
      // active node active again).
      const grace = role === 'primary' && input.returned ? 2 * intervalMs : deadTimeMs;
      if (peer.at - since >= grace) return { action: 'takeover', reason: 'both passive' };
      return { action: 'none' };
    }
    if (preferPrimary && role === 'primary' && input.returned && now - since >= deadTimeMs) return { action: 'failback' };
    return { action: 'none' };
  }
  if (peer && peer.state === 'active' && peer.at > since && !winsSplitBrain(input, peer.term, preferPrimary)) return { action: 'release', reason: 'split brain' };
  return { action: 'none' };
}
