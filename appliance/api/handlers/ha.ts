// Handlers of the HA pair operations: thin, the HA controller does the work. The internal
// peer operations (the contract's `ha-internal` tag) are authenticated by the router with the
// pair's token before they get here (joinHaPair with the administrator's password).
import { applyMergePatch } from '../../config/merge-patch.js';
import { haPairEtag, type HaPairView } from '../../ha/controller.js';
import type { ApiContext } from '../api-context.js';
import type { Handlers } from '../handler-types.js';

type HaHandlers = Pick<
  Handlers,
  | 'getHaPair'
  | 'createHaPair'
  | 'updateHaPair'
  | 'deleteHaPair'
  | 'getHaStatus'
  | 'takeoverHaPair'
  | 'joinHaPair'
  | 'leaveHaPair'
  | 'getHaPeerState'
  | 'putHaPeerRevision'
  | 'putHaPeerUsers'
  | 'putHaPeerSettings'
  | 'putHaPeerFlowState'
  | 'releaseHaPeer'
>;

/** A pair view with its ETag header (reads and writes of the pair carry it; updateHaPair matches it). */
function withEtag<S extends 200 | 201>(status: S, body: HaPairView) {
  return { status, body, headers: { etag: haPairEtag(body) } };
}

/**
 * The contract types a replicated revision's `config` only as an object; its virtual services
 * and real servers are checked here against their own schemas (the store checks the rest of
 * the shape, the rules and the keys before it takes the revision), so a broken one is refused
 * naming its field instead of reaching the engine.
 */
function checkReplicatedObjects(api: ApiContext, config: Record<string, unknown>): void {
  const byId = (v: unknown): [string, unknown][] => (typeof v === 'object' && v !== null && !Array.isArray(v) ? Object.entries(v) : []);
  const at = (collection: string, id: string) => `/record/config/${collection}/${id.replace(/~/g, '~0').replace(/\//g, '~1')}`;
  for (const [id, vs] of byId(config.virtualServices)) api.validator.schema('VirtualServiceSpec', vs, at('virtualServices', id));
  for (const [id, rs] of byId(config.realServers)) {
    if (typeof rs !== 'object' || rs === null || Array.isArray(rs)) continue;
    const { virtualServiceId: _vs, ...spec } = rs as Record<string, unknown>;
    api.validator.schema('RealServerSpec', spec, at('realServers', id));
  }
}

/** The HA handlers. */
export function haHandlers(api: ApiContext): HaHandlers {
  return {
    async getHaPair() {
      return withEtag(200, api.ha.pair());
    },
    async createHaPair(ctx) {
      return withEtag(201, await api.ha.create(ctx.body, ctx.principal ?? { username: 'system', role: 'admin' }));
    },
    async updateHaPair(ctx) {
      return withEtag(200, await api.ha.update(applyMergePatch({}, ctx.body) as Record<string, unknown>, ctx.ifMatch));
    },
    async deleteHaPair() {
      await api.ha.remove();
      return { status: 204, body: undefined };
    },
    async getHaStatus() {
      return { status: 200, body: api.ha.status() };
    },
    async takeoverHaPair() {
      return { status: 200, body: await api.ha.takeover() };
    },
    async joinHaPair(ctx) {
      return { status: 200, body: await api.ha.peer.join(ctx.body) };
    },
    async leaveHaPair() {
      await api.ha.peer.leave();
      return { status: 204, body: undefined };
    },
    async getHaPeerState() {
      return { status: 200, body: api.ha.peer.state() };
    },
    async putHaPeerRevision(ctx) {
      checkReplicatedObjects(api, ctx.body.record.config);
      return { status: 200, body: await api.ha.peer.revision(ctx.body) };
    },
    async putHaPeerUsers(ctx) {
      return { status: 200, body: await api.ha.peer.users(ctx.body) };
    },
    async putHaPeerSettings(ctx) {
      return { status: 200, body: await api.ha.peer.settings(ctx.body) };
    },
    async putHaPeerFlowState(ctx) {
      api.ha.peer.flowState(ctx.body);
      return { status: 204, body: undefined };
    },
    async releaseHaPeer(ctx) {
      return { status: 200, body: await api.ha.peer.release(ctx.body) };
    },
  };
}
