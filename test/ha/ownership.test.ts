// The ownership state machine and the heartbeat packet, without processes: the rules of
// docs/ha.md one by one, and what the packet check refuses.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decideOwnership, recordProbe, type ApiProbe, type OwnershipInput } from '../../appliance/ha/ownership.js';
import { decodeHeartbeat, encodeHeartbeat, ReplayGuard, type Heartbeat } from '../../appliance/ha/heartbeat-packet.js';

const T0 = 1_000_000;
const base: OwnershipInput = {
  now: T0,
  role: 'secondary',
  state: 'passive',
  term: 1,
  since: T0 - 60_000,
  startedAt: T0 - 60_000,
  intervalMs: 300,
  deadTimeMs: 1500,
  preferPrimary: false,
  returned: true,
  heartbeat: { at: T0 - 100, state: 'active', term: 1 },
  probe: null,
};

describe('ownership state machine', () => {
  it('takes over only when the heartbeat is lost for the dead time and two API probes failed after it', () => {
    const lost = { ...base, heartbeat: { at: T0 - 1600, state: 'active' as const, term: 1 } };
    const failed = (failingSince: number, failures: number) => ({ startedAt: T0 - 600, finishedAt: T0 - 590, ok: false, failures, failingSince });
    expect(decideOwnership(lost).action).toBe('none');
    expect(decideOwnership({ ...lost, probe: { startedAt: T0 - 900, finishedAt: T0 - 890, ok: true, state: 'active', term: 1, failures: 0, failingSince: 0 } }).action).toBe('none');
    expect(decideOwnership({ ...lost, probe: failed(T0 - 1700, 3) }).action).toBe('none');
    expect(decideOwnership({ ...lost, probe: failed(T0 - 900, 1) }).action).toBe('none');
    expect(decideOwnership({ ...lost, probe: failed(T0 - 900, 2) })).toEqual({ action: 'takeover', reason: 'heartbeat lost' });
    expect(decideOwnership({ ...lost, now: T0 - 200, probe: failed(T0 - 900, 2) }).action).toBe('none');
  });

  it('counts only probe failures after the last heartbeat: a run of failures from an earlier partition does not carry over', () => {
    // An earlier partition: the probes failed, then heartbeats came back before any probe answered.
    const heardAt = T0 - 1600;
    let probe: ApiProbe | null = null;
    probe = recordProbe(probe, { startedAt: T0 - 5000, finishedAt: T0 - 4900, ok: false }, T0 - 6000);
    probe = recordProbe(probe, { startedAt: T0 - 4800, finishedAt: T0 - 4700, ok: false }, T0 - 6000);
    expect(probe).toMatchObject({ failures: 2, failingSince: T0 - 5000 });
    // A new partition after the heartbeat at `heardAt`: the first failure starts a new run.
    const lost = { ...base, heartbeat: { at: heardAt, state: 'active' as const, term: 1 } };
    probe = recordProbe(probe, { startedAt: T0 - 1000, finishedAt: T0 - 700, ok: false }, heardAt);
    expect(probe).toMatchObject({ failures: 1, failingSince: T0 - 1000 });
    expect(decideOwnership({ ...lost, probe }).action).toBe('none');
    probe = recordProbe(probe, { startedAt: T0 - 700, finishedAt: T0 - 400, ok: false }, heardAt);
    expect(probe).toMatchObject({ failures: 2, failingSince: T0 - 1000 });
    expect(decideOwnership({ ...lost, probe })).toEqual({ action: 'takeover', reason: 'heartbeat lost' });
    // A failure of a probe started before the last heartbeat does not count either.
    const early = recordProbe(null, { startedAt: heardAt - 100, finishedAt: heardAt + 200, ok: false }, heardAt);
    expect(decideOwnership({ ...lost, probe: recordProbe(early, { startedAt: T0 - 700, finishedAt: T0 - 400, ok: false }, heardAt) }).action).toBe('none');
    // One answer ends the run.
    expect(recordProbe(probe, { startedAt: T0 - 300, finishedAt: T0 - 200, ok: true, state: 'active', term: 1 }, heardAt)).toMatchObject({ ok: true, failures: 0 });
  });

  it('never leaves both passive: the primary takes over after two intervals, the secondary after the dead time', () => {
    const bothPassive = { ...base, since: T0 - 5000, heartbeat: { at: T0 - 10, state: 'passive' as const, term: 3 } };
    expect(decideOwnership({ ...bothPassive, role: 'primary' })).toEqual({ action: 'takeover', reason: 'both passive' });
    expect(decideOwnership({ ...bothPassive, since: T0 - 500 }).action).toBe('none');
    expect(decideOwnership({ ...bothPassive, since: T0 - 1600 })).toEqual({ action: 'takeover', reason: 'both passive' });
    // A peer heard passive just before it takes over (after asking this node to release) does not count.
    expect(decideOwnership({ ...bothPassive, role: 'primary', since: T0 - 100 }).action).toBe('none');
    // A primary that handed the VIPs over on request gives the asker the dead time, as the secondary does.
    expect(decideOwnership({ ...bothPassive, role: 'primary', returned: false, since: T0 - 1000 }).action).toBe('none');
    expect(decideOwnership({ ...bothPassive, role: 'primary', returned: false, since: T0 - 1600 })).toEqual({ action: 'takeover', reason: 'both passive' });
  });

  it('after releasing on request, a slow API answer from before the peer took over does not make it passive again', () => {
    // This primary released at T0 - 2000 for the peer's takeover (term 4); the peer's heartbeat says
    // active since; a probe started before the takeover answered 'passive' only at T0 - 100.
    const released = { ...base, role: 'primary' as const, intervalMs: 50, since: T0 - 2000, returned: false, term: 4, heartbeat: { at: T0 - 600, state: 'active' as const, term: 4 } };
    const slow = { startedAt: T0 - 2200, finishedAt: T0 - 100, ok: true, state: 'passive' as const, term: 3, failures: 0, failingSince: 0 };
    expect(decideOwnership({ ...released, probe: slow }).action).toBe('none');
    // An answer started after the release still counts: a peer that stays passive is taken over from.
    expect(decideOwnership({ ...released, heartbeat: null, probe: { ...slow, startedAt: T0 - 400 } })).toEqual({ action: 'takeover', reason: 'both passive' });
  });

  it('after a partition the higher term keeps the VIPs, the primary on a tie, and the primary always with preferPrimary', () => {
    const split = { ...base, state: 'active' as const, since: T0 - 5000, heartbeat: { at: T0 - 10, state: 'active' as const, term: 5 } };
    expect(decideOwnership({ ...split, term: 4 })).toEqual({ action: 'release', reason: 'split brain' });
    expect(decideOwnership({ ...split, term: 6 }).action).toBe('none');
    expect(decideOwnership({ ...split, term: 5, role: 'secondary' }).action).toBe('release');
    expect(decideOwnership({ ...split, term: 5, role: 'primary' }).action).toBe('none');
    expect(decideOwnership({ ...split, term: 9, role: 'secondary', preferPrimary: true }).action).toBe('release');
    expect(decideOwnership({ ...split, term: 1, role: 'primary', preferPrimary: true }).action).toBe('none');
    // A heartbeat older than this node's takeover is not a split brain.
    expect(decideOwnership({ ...split, term: 4, since: T0 }).action).toBe('none');
  });

  it('fails back with preferPrimary only after a return, not after handing the VIPs over on request', () => {
    const back = { ...base, role: 'primary' as const, preferPrimary: true, since: T0 - 2000 };
    expect(decideOwnership(back)).toEqual({ action: 'failback' });
    expect(decideOwnership({ ...back, returned: false }).action).toBe('none');
    expect(decideOwnership({ ...back, since: T0 - 500 }).action).toBe('none');
    expect(decideOwnership({ ...back, preferPrimary: false }).action).toBe('none');
  });
});

describe('heartbeat packet', () => {
  const key = randomBytes(32);
  const pairId = randomBytes(16).toString('hex');
  const hb: Heartbeat = { role: 'primary', state: 'active', pairId, bootId: 'a1b2c3d4e5f60718', seq: 7n, sentAt: T0, term: 3, revision: 42, usersDigest: '0011223344556677' };

  it('round-trips and refuses a wrong key, another pair, a flipped bit or another length', () => {
    const packet = encodeHeartbeat(hb, key);
    expect(packet).toHaveLength(96);
    expect(decodeHeartbeat(packet, key, pairId)).toEqual(hb);
    expect(decodeHeartbeat(packet, randomBytes(32), pairId)).toBe('bad-mac');
    expect(decodeHeartbeat(encodeHeartbeat({ ...hb, pairId: randomBytes(16).toString('hex') }, key), key, pairId)).toBe('other-pair');
    const flipped = Buffer.from(packet);
    flipped[50] = (flipped[50] as number) ^ 1;
    expect(decodeHeartbeat(flipped, key, pairId)).toBe('bad-mac');
    expect(decodeHeartbeat(packet.subarray(0, 95), key, pairId)).toBe('malformed');
  });

  it('refuses replays within a boot, older boots, and send times outside the window', () => {
    const guard = new ReplayGuard(30_000);
    expect(guard.accept(hb, T0)).toBeNull();
    expect(guard.accept(hb, T0 + 10)).toBe('replayed');
    expect(guard.accept({ ...hb, seq: 6n }, T0 + 10)).toBe('replayed');
    expect(guard.accept({ ...hb, seq: 8n, sentAt: T0 + 300 }, T0 + 300)).toBeNull();
    // A new boot must be later than anything accepted.
    expect(guard.accept({ ...hb, bootId: 'ffffffffffffffff', seq: 1n, sentAt: T0 + 100 }, T0 + 400)).toBe('replayed');
    expect(guard.accept({ ...hb, bootId: 'ffffffffffffffff', seq: 1n, sentAt: T0 + 500 }, T0 + 500)).toBeNull();
    expect(guard.accept({ ...hb, bootId: 'ffffffffffffffff', seq: 2n, sentAt: T0 - 40_000 }, T0 + 600)).toBe('stale-clock');
  });
});
