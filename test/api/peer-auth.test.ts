// The HTTP side of the HA peer operations lives in the API layer (issue 13): the Bearer token
// is read from the request here and judged by the HA controller in its own terms, and the
// primary's X-Lbappliance-Peer header is written here from the controller's replication
// state. The controller is a stand-in answering as HaNode does; the whole path runs against
// real paired nodes in test/ha/ (peer-operations, pairing, failover).
import { describe, expect, it } from 'vitest';
import { parseBearer, peerAuthenticator, PEER_PRINCIPAL, peerWriteHeaders } from '../../appliance/api/peer-auth.js';
import { ApplianceError } from '../../appliance/errors.js';

function refusal(fn: () => unknown): ApplianceError {
  try {
    fn();
  } catch (err) {
    return err as ApplianceError;
  }
  throw new Error('not refused');
}

describe('peer authentication', () => {
  const seen: string[] = [];
  const paired = peerAuthenticator({ peerToken: (t) => (seen.push(t), t === 'the-pair-token' ? 'accepted' : 'refused') });

  it('reads the Bearer token and lets the HA controller judge it', () => {
    expect(parseBearer('Bearer abc_DEF-123')).toBe('abc_DEF-123');
    expect(parseBearer('bearer   abc  ')).toBe('abc');
    expect(parseBearer('Basic YTpi')).toBeNull();
    expect(parseBearer('Bearer a b')).toBeNull();
    expect(parseBearer(undefined)).toBeNull();
    expect(paired('Bearer the-pair-token')).toEqual(PEER_PRINCIPAL);
    expect(seen).toContain('the-pair-token');
  });

  it('refuses a wrong, missing or non-Bearer token with 401 and the Bearer challenge', () => {
    for (const header of ['Bearer wrong', undefined, 'Basic dGhlLXBhaXItdG9rZW4=']) {
      const err = refusal(() => paired(header));
      expect(err).toBeInstanceOf(ApplianceError);
      expect(err).toMatchObject({ code: 'LB_UNAUTHORIZED', status: 401, message: 'wrong HA peer token', headers: { 'www-authenticate': 'Bearer realm="lbappliance-ha"' } });
    }
    const alone = peerAuthenticator({ peerToken: () => 'unpaired' });
    expect(refusal(() => alone('Bearer anything'))).toMatchObject({ code: 'LB_UNAUTHORIZED', message: 'this node is not part of an HA pair' });
  });
});

describe('the primary write header', () => {
  it('says whether the secondary has a cluster write, on the primary only', () => {
    expect(peerWriteHeaders({ peerSync: () => 'in-sync' })('createVirtualService', 7)).toEqual({ 'x-lbappliance-peer': 'in-sync' });
    expect(peerWriteHeaders({ peerSync: () => 'behind' })('patchConfig', 8)).toEqual({ 'x-lbappliance-peer': 'behind' });
    // The write's own revision is what the secondary must hold (later ones of a group commit may still be on their way).
    const asked: (number | null | undefined)[] = [];
    peerWriteHeaders({ peerSync: (r) => (asked.push(r), 'in-sync') })('updateRealServer', 12);
    expect(asked).toEqual([12]);
    // Not a cluster write (a node's own operation), or not a primary: no header.
    expect(peerWriteHeaders({ peerSync: () => 'in-sync' })('exportBackup', null)).toEqual({});
    expect(peerWriteHeaders({ peerSync: () => null })('createVirtualService', 9)).toEqual({});
  });
});
