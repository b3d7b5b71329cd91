// Handlers of the real server operations (children of a virtual service).
import { etagOf, ifMatchSatisfied } from '../../config/canonical-json.js';
import { newId } from '../../config/ids.js';
import { applyMergePatch } from '../../config/merge-patch.js';
import type { StoredConfig, StoredRealServer } from '../../config/model.js';
import { serversOf } from '../../config/server-index.js';
import { commitWrite, liveState, notFound, requireMatch, type ApiContext } from '../api-context.js';
import type { Handlers } from '../handler-types.js';
import { realServerView } from '../views.js';

type RsHandlers = Pick<Handlers, 'listRealServers' | 'createRealServer' | 'getRealServer' | 'replaceRealServer' | 'updateRealServer' | 'deleteRealServer' | 'setRealServerAdminState'>;

/** The ETag of a stored real server. */
export function realServerEtag(rs: StoredRealServer): string {
  return etagOf(rs);
}

function requireVs(config: StoredConfig, vsId: string): void {
  if (!config.virtualServices[vsId]) throw notFound('virtual service', vsId, 'virtualServiceId');
}

function requireRs(config: StoredConfig, vsId: string, rsId: string): StoredRealServer {
  requireVs(config, vsId);
  const rs = config.realServers[rsId];
  if (!rs || rs.virtualServiceId !== vsId) throw notFound(`real server of virtual service ${vsId}:`, rsId, 'realServerId');
  return rs;
}

/** The real server handlers. */
export function realServerHandlers(api: ApiContext): RsHandlers {
  const answer = (rsId: string) => {
    const { config } = api.store.current;
    return { body: realServerView(config, rsId, liveState(api, config.realServers[rsId]?.virtualServiceId)), headers: { etag: realServerEtag(config.realServers[rsId] as StoredRealServer) } };
  };
  const existing = (draft: StoredConfig, vsId: string, rsId: string, ifMatch: string | undefined): StoredRealServer => {
    const rs = requireRs(draft, vsId, rsId);
    requireMatch(ifMatch, realServerEtag(rs), `real server ${rsId}`, ifMatchSatisfied);
    return rs;
  };

  return {
    async listRealServers(ctx) {
      const { revision, config } = api.store.current;
      requireVs(config, ctx.params.virtualServiceId);
      const live = liveState(api, ctx.params.virtualServiceId);
      const items = serversOf(config, ctx.params.virtualServiceId)
        .filter(([, rs]) => ctx.query.label === undefined || rs.label === ctx.query.label)
        .map(([rsId]) => realServerView(config, rsId, live));
      return { status: 200, body: { revision, items } };
    },

    async createRealServer(ctx) {
      const vsId = ctx.params.virtualServiceId;
      let rsId = '';
      await commitWrite(api, ctx, () => `/realServers/${rsId}`, (draft) => {
        requireVs(draft, vsId);
        rsId = newId('rs', draft.realServers);
        draft.realServers[rsId] = { ...(ctx.body as Omit<StoredRealServer, 'virtualServiceId'>), virtualServiceId: vsId };
      });
      const { body, headers } = answer(rsId);
      return { status: 201, body, headers: { ...headers, location: `/api/v1/virtual-services/${vsId}/real-servers/${rsId}` } };
    },

    async getRealServer(ctx) {
      requireRs(api.store.current.config, ctx.params.virtualServiceId, ctx.params.realServerId);
      return { status: 200, ...answer(ctx.params.realServerId) };
    },

    async replaceRealServer(ctx) {
      const { virtualServiceId: vsId, realServerId: rsId } = ctx.params;
      await commitWrite(api, ctx, `/realServers/${rsId}`, (draft) => {
        existing(draft, vsId, rsId, ctx.ifMatch);
        draft.realServers[rsId] = { ...(ctx.body as Omit<StoredRealServer, 'virtualServiceId'>), virtualServiceId: vsId };
      });
      return { status: 200, ...answer(rsId) };
    },

    async updateRealServer(ctx) {
      const { virtualServiceId: vsId, realServerId: rsId } = ctx.params;
      await commitWrite(api, ctx, `/realServers/${rsId}`, (draft) => {
        const { virtualServiceId: _vs, ...current } = existing(draft, vsId, rsId, ctx.ifMatch);
        const merged = applyMergePatch(current, ctx.body);
        api.validator.schema('RealServerInput', merged);
        draft.realServers[rsId] = { ...(merged as Omit<StoredRealServer, 'virtualServiceId'>), virtualServiceId: vsId };
      });
      return { status: 200, ...answer(rsId) };
    },

    // Drain, halt, online: the operator's one write, which can change nothing else.
    async setRealServerAdminState(ctx) {
      const { virtualServiceId: vsId, realServerId: rsId } = ctx.params;
      await commitWrite(api, ctx, `/realServers/${rsId}`, (draft) => {
        const current = existing(draft, vsId, rsId, ctx.ifMatch);
        draft.realServers[rsId] = { ...current, adminState: ctx.body.adminState ?? 'online' };
      });
      return { status: 200, ...answer(rsId) };
    },

    async deleteRealServer(ctx) {
      const { virtualServiceId: vsId, realServerId: rsId } = ctx.params;
      await commitWrite(api, ctx, `/realServers/${rsId}`, (draft) => {
        existing(draft, vsId, rsId, ctx.ifMatch);
        delete draft.realServers[rsId];
      });
      return { status: 204, body: undefined };
    },
  };
}
