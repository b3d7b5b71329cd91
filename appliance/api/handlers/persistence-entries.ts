// Handlers of a VIP's source-IP persistence table: which client (or client network) the
// data plane keeps on which real server, and clearing one client. The table is this node's
// runtime state, not configuration: reading or clearing it writes no revision. A client is
// named by an address; the VIP's prefix lengths say which entry (network) it falls in.
import { clientKey, keepsSourceTable, plainAddress } from '../../engine/client-network.js';
import { notFound, type ApiContext } from '../api-context.js';
import type { Handlers } from '../handler-types.js';
import { ApplianceError } from '../../errors.js';

type PersistenceHandlers = Pick<Handlers, 'listPersistenceEntries' | 'deletePersistenceEntry'>;

/** The persistence table handlers. */
export function persistenceEntryHandlers(api: ApiContext): PersistenceHandlers {
  const vipOf = (id: string) => {
    const vs = api.store.current.config.virtualServices[id];
    if (!vs) throw notFound('virtual service', id, 'virtualServiceId');
    return vs;
  };
  return {
    async listPersistenceEntries(ctx) {
      const { virtualServiceId: id } = ctx.params;
      const vs = vipOf(id);
      if (!keepsSourceTable(vs.persistence)) return { status: 200, body: { items: [] } };
      // Entries of servers that left the configuration are not shown (the engine drops them).
      const items = (await api.engine.persistenceTables.list(id)).filter((e) => api.store.current.config.realServers[e.realServerId]?.virtualServiceId === id);
      return { status: 200, body: { items } };
    },

    async deletePersistenceEntry(ctx) {
      const { virtualServiceId: id, client } = ctx.params;
      const vs = vipOf(id);
      const address = plainAddress(client);
      if (address === null) throw new ApplianceError('LB_VALIDATION', `${client} is not an IP address`, { field: 'client' });
      const key = clientKey(address, vs.persistence);
      if (!keepsSourceTable(vs.persistence) || !(await api.engine.persistenceTables.clear(id, key))) {
        throw new ApplianceError('LB_NOT_FOUND', `virtual service ${id} keeps no persistence entry for ${key}`, { field: 'client' });
      }
      ctx.audit.changes = [{ op: 'remove', path: `/persistenceEntries/${id}/${key}` }];
      return { status: 204, body: undefined };
    },
  };
}
