// Handlers of whole-configuration export and restore and of the revision history. What a
// restore makes lives in config/config-restore.ts; these only check If-Match and answer.
import { ifMatchSatisfied } from '../../config/canonical-json.js';
import { encryptedKeys } from '../../config/backup-keys.js';
import { prepareRestore, restoredConfig, type ConfigInput } from '../../config/config-restore.js';
import { applyMergePatch } from '../../config/merge-patch.js';
import { commitWrite, notFound, requireMatch, type ApiContext } from '../api-context.js';
import type { Handlers, RequestContext } from '../handler-types.js';
import { configView } from '../views.js';
import type { OperationId } from '../../../openapi/generated/operations.js';

type ConfigHandlers = Pick<Handlers, 'getConfig' | 'exportBackup' | 'replaceConfig' | 'patchConfig' | 'listRevisions' | 'getRevision' | 'rollbackToRevision'>;

/** The ETag of the whole configuration at a revision. */
export function configEtag(revision: number): string {
  return `"r${revision}"`;
}

/** The configuration handlers. */
export function configHandlers(api: ApiContext): ConfigHandlers {
  /** Replaces the whole configuration with `input` in one revision (config/config-restore.ts). */
  const restore = async (ctx: RequestContext<OperationId>, input: ConfigInput) => {
    const material = await prepareRestore(input, api.store.current.config);
    await commitWrite(api, ctx, '', (draft, tools) => {
      requireMatch(ctx.ifMatch, configEtag(tools.baseRevision), 'the configuration', ifMatchSatisfied);
      Object.assign(draft, restoredConfig(input, material, tools));
    });
    const { revision, config } = api.store.current;
    return { status: 200 as const, body: configView(revision, config), headers: { etag: configEtag(revision) } };
  };

  return {
    async getConfig() {
      const { revision, config } = api.store.current;
      return { status: 200, body: configView(revision, config), headers: { etag: configEtag(revision) } };
    },

    async exportBackup(ctx) {
      const { revision, config } = api.store.current;
      const { keyEncryption, byId } = await encryptedKeys(config.certificates, (ref) => api.store.keystore.get(ref), ctx.body.passphrase);
      const body = configView(revision, config);
      for (const [id, sealed] of Object.entries(byId)) (body.certificates[id] as (typeof body.certificates)[string]).encryptedPrivateKey = sealed;
      return { status: 200, body: { ...body, keyEncryption }, headers: { etag: configEtag(revision) } };
    },

    async replaceConfig(ctx) {
      return restore(ctx, ctx.body);
    },

    async patchConfig(ctx) {
      const { revision, config } = api.store.current;
      const { revision: _r, ...base } = configView(revision, config);
      const merged = applyMergePatch(base, ctx.body) as ConfigInput;
      api.validator.schema('ConfigInput', merged);
      return restore(ctx, merged);
    },

    async listRevisions() {
      return { status: 200, body: { current: api.store.current.revision, items: api.store.history() } };
    },

    async getRevision(ctx) {
      const record = await api.store.revision(ctx.params.revision);
      if (!record) throw notFound('kept revision', String(ctx.params.revision), 'revision');
      return { status: 200, body: configView(record.revision, record.config) };
    },

    async rollbackToRevision(ctx) {
      const record = await api.store.revision(ctx.params.revision);
      if (!record) throw notFound('kept revision', String(ctx.params.revision), 'revision');
      await commitWrite(api, ctx, '', (draft, tools) => {
        requireMatch(ctx.ifMatch, configEtag(tools.baseRevision), 'the configuration', ifMatchSatisfied);
        const old = structuredClone(record.config);
        draft.virtualServices = old.virtualServices;
        draft.realServers = old.realServers;
        draft.certificates = old.certificates;
      });
      const { revision, config } = api.store.current;
      return { status: 200, body: configView(revision, config), headers: { etag: configEtag(revision) } };
    },
  };
}
