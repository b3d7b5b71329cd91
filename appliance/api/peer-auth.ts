// The HTTP side of the HA pair's internal operations, kept in the API layer so that HA never
// parses or writes HTTP: the peer's `Authorization: Bearer` token is read here and judged by
// the HA controller in its own terms (is this our pair's token), and the primary's
// `X-Lbappliance-Peer` header on a replicated write is written here from the controller's
// replication state.
import { operationTable, type OperationId } from '../../openapi/generated/operations.js';
import { ApplianceError } from '../errors.js';
import type { HaController } from '../ha/controller.js';
import type { Principal } from '../users/user-store.js';

/** Who a peer call runs as (an administrator: it replicates what the primary's did). */
export const PEER_PRINCIPAL: Principal = { username: 'ha-peer', role: 'admin' };

/** The token of an `Authorization: Bearer` header, or null. */
export function parseBearer(header: string | undefined): string | null {
  const m = /^Bearer\s+([A-Za-z0-9_-]+)\s*$/i.exec(header ?? '');
  return m ? (m[1] as string) : null;
}

/** Authenticates a peer call from its Authorization header, or throws LB_UNAUTHORIZED with the Bearer challenge. */
export function peerAuthenticator(ha: Pick<HaController, 'peerToken'>): (authorization: string | undefined) => Principal {
  return (authorization) => {
    const token = parseBearer(authorization);
    const verdict = ha.peerToken(token ?? '');
    if (token !== null && verdict === 'accepted') return PEER_PRINCIPAL;
    throw new ApplianceError('LB_UNAUTHORIZED', verdict === 'unpaired' ? 'this node is not part of an HA pair' : 'wrong HA peer token', {
      headers: { 'www-authenticate': 'Bearer realm="lbappliance-ha"' },
    });
  };
}

/** The headers of a successful write's answer: on the primary, whether the secondary has it (cluster writes only). */
export function peerWriteHeaders(ha: Pick<HaController, 'peerSync'>): (operationId: OperationId, revision: number | null) => Record<string, string> {
  return (operationId, revision): Record<string, string> => {
    // Whether the secondary holds this write's revision (later writes of a group commit may still be on their way).
    const sync = operationTable[operationId].write === 'cluster' ? ha.peerSync(revision) : null;
    return sync === null ? {} : { 'x-lbappliance-peer': sync };
  };
}
