// Handlers of the virtual service operations.
import { etagOf, ifMatchSatisfied } from '../../config/canonical-json.js';
import { newId } from '../../config/ids.js';
import { applyMergePatch } from '../../config/merge-patch.js';
import type { VirtualServiceSpec } from '../../config/model.js';
import { commitWrite, liveState, notFound, requireMatch, type ApiContext } from '../api-context.js';
import type { Handlers } from '../handler-types.js';
import { virtualServiceView } from '../views.js';

type VsHandlers = Pick<Handlers, 'listVirtualServices' | 'createVirtualService' | 'getVirtualService' | 'replaceVirtualService' | 'updateVirtualService' | 'deleteVirtualService'>;

/** The ETag of a stored virtual service. */
export function virtualServiceEtag(vs: VirtualServiceSpec): string {
  return etagOf(vs);
}

/** The virtual service handlers. */
export function virtualServiceHandlers(api: ApiContext): VsHandlers {
  const existing = (draft: { virtualServices: Record<string, VirtualServiceSpec> }, id: string, ifMatch: string | undefined): VirtualServiceSpec => {
    const vs = draft.virtualServices[id];
    if (!vs) throw notFound('virtual service', id, 'virtualServiceId');
    requireMatch(ifMatch, virtualServiceEtag(vs), `virtual service ${id}`, ifMatchSatisfied);
    return vs;
  };
  const answer = (id: string) => {
    const { config } = api.store.current;
    return { body: virtualServiceView(config, id, liveState(api, id)), headers: { etag: virtualServiceEtag(config.virtualServices[id] as VirtualServiceSpec) } };
  };

  return {
    async listVirtualServices(ctx) {
      const { revision, config } = api.store.current;
      const live = liveState(api);
      const items = Object.keys(config.virtualServices)
        .filter((id) => ctx.query.label === undefined || config.virtualServices[id]?.label === ctx.query.label)
        .map((id) => virtualServiceView(config, id, live));
      return { status: 200, body: { revision, items } };
    },

    async createVirtualService(ctx) {
      let id = '';
      await commitWrite(api, ctx, () => `/virtualServices/${id}`, (draft) => {
        id = newId('vs', draft.virtualServices);
        draft.virtualServices[id] = ctx.body as VirtualServiceSpec;
      });
      const { body: view, headers } = answer(id);
      return { status: 201, body: view, headers: { ...headers, location: `/api/v1/virtual-services/${id}` } };
    },

    async getVirtualService(ctx) {
      const { virtualServiceId: id } = ctx.params;
      if (!api.store.current.config.virtualServices[id]) throw notFound('virtual service', id, 'virtualServiceId');
      return { status: 200, ...answer(id) };
    },

    async replaceVirtualService(ctx) {
      const { virtualServiceId: id } = ctx.params;
      await commitWrite(api, ctx, `/virtualServices/${id}`, (draft) => {
        existing(draft, id, ctx.ifMatch);
        draft.virtualServices[id] = ctx.body as VirtualServiceSpec;
      });
      return { status: 200, ...answer(id) };
    },

    async updateVirtualService(ctx) {
      const { virtualServiceId: id } = ctx.params;
      await commitWrite(api, ctx, `/virtualServices/${id}`, (draft) => {
        const merged = applyMergePatch(existing(draft, id, ctx.ifMatch), ctx.body);
        api.validator.schema('VirtualServiceInput', merged);
        draft.virtualServices[id] = merged as VirtualServiceSpec;
      });
      return { status: 200, ...answer(id) };
    },

    async deleteVirtualService(ctx) {
      const { virtualServiceId: id } = ctx.params;
      await commitWrite(api, ctx, `/virtualServices/${id}`, (draft) => {
        existing(draft, id, ctx.ifMatch);
        delete draft.virtualServices[id];
        for (const [rsId, rs] of Object.entries(draft.realServers)) if (rs.virtualServiceId === id) delete draft.realServers[rsId];
      });
      return { status: 204, body: undefined };
    },
  };
}
