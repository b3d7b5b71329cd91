// Handlers of whole-configuration export and restore and of the revision history. What a
// restore makes lives in config/config-restore.ts (the backup's secrets in
// config/backup-secrets.ts); these check If-Match, answer, and carry the directory settings,
// which are kept with the users rather than in a revision: checked before the revision is
// written, stored after it.
import { ifMatchSatisfied } from '../../config/canonical-json.js';
import { encryptedKeys, keySealer } from '../../config/backup-keys.js';
import { backupSecrets, openBackupSecrets, sealSecrets, type BackupSecrets } from '../../config/backup-secrets.js';
import { CONFIG_MAPS } from '../../config/model.js';
import { ApplianceError } from '../../errors.js';
import { directoryFromInput, directoryView, type DirectoryInput, type DirectorySettings } from '../../users/directory-settings.js';
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
  /** The directory settings as a document shows them (null: local users only). */
  const directoryNow = () => {
    const settings = api.users.directory();
    return settings ? directoryView(settings) : null;
  };

  /**
   * The directory settings a restore makes (undefined: the document leaves them out, they
   * stay): checked now, before the revision. The bind password comes from the backup's
   * secrets, the section, or the settings in place.
   */
  const restoredDirectory = (input: ConfigInput, secrets: BackupSecrets | null): DirectorySettings | null | undefined => {
    if (input.directory === undefined || input.directory === null) return input.directory;
    const { bindPassword, updatedAt: _readOnly, ...spec } = input.directory;
    const password = bindPassword ?? secrets?.directory?.bindPassword ?? api.users.directory()?.bindPassword;
    if (password === undefined) {
      throw new ApplianceError('LB_VALIDATION', 'the directory settings need a bind password: restore a backup (exportBackup) with its keyPassphrase, or give directory.bindPassword', { field: '/directory/bindPassword' });
    }
    try {
      return directoryFromInput({ ...spec, bindPassword: password } as DirectoryInput);
    } catch (err) {
      throw err instanceof ApplianceError ? err.withFieldPrefix('/directory') : err;
    }
  };

  /** Whether two directory settings differ other than by when they were written. */
  const directoryChanged = (a: DirectorySettings | null, b: DirectorySettings | null): boolean => {
    const strip = (d: DirectorySettings | null) => (d ? JSON.stringify(Object.entries({ ...d, updatedAt: '' }).sort(([x], [y]) => x.localeCompare(y))) : 'null');
    return strip(a) !== strip(b);
  };

  /** Replaces the whole configuration with `input` in one revision (config/config-restore.ts). */
  const restore = async (ctx: RequestContext<OperationId>, input: ConfigInput) => {
    // The keys first: a wrong passphrase is reported on the first certificate it does not open.
    const material = await prepareRestore(input, api.store.current.config);
    const secrets = await openBackupSecrets(input);
    const directory = restoredDirectory(input, secrets);
    await commitWrite(api, ctx, '', (draft, tools) => {
      requireMatch(ctx.ifMatch, configEtag(tools.baseRevision), 'the configuration', ifMatchSatisfied);
      Object.assign(draft, restoredConfig(input, material, tools, secrets));
    });
    if (directory !== undefined && directoryChanged(api.users.directory(), directory)) {
      const had = api.users.directory() !== null;
      await api.users.setDirectory(directory);
      // The revision's changes are in the audit entry already; the directory's join them, redacted.
      const change = directory ? { op: had ? 'replace' : 'add', path: '/directory', value: { ...directoryView(directory), bindPassword: '(redacted)' } } : { op: 'remove', path: '/directory' };
      ctx.audit.changes = [...(ctx.audit.changes ?? []), change] as typeof ctx.audit.changes;
    }
    const { revision, config } = api.store.current;
    return { status: 200 as const, body: configView(revision, config, directoryNow()), headers: { etag: configEtag(revision) } };
  };

  return {
    async getConfig() {
      const { revision, config } = api.store.current;
      return { status: 200, body: configView(revision, config, directoryNow()), headers: { etag: configEtag(revision) } };
    },

    async exportBackup(ctx) {
      const { revision, config } = api.store.current;
      const bindPassword = api.users.directory()?.bindPassword ?? null;
      const sealer = await keySealer(ctx.body.passphrase);
      const { keyEncryption, byId } = await encryptedKeys(config.certificates, (ref) => api.store.keystore.get(ref), sealer);
      // The operations settings' secrets, sealed like the keys (never in the clear).
      const encryptedSecrets = sealSecrets(sealer, await backupSecrets(config, bindPassword, (ref) => api.store.keystore.get(ref)));
      const body = configView(revision, config, directoryNow());
      for (const [id, sealed] of Object.entries(byId)) (body.certificates[id] as (typeof body.certificates)[string]).encryptedPrivateKey = sealed;
      return { status: 200, body: { ...body, keyEncryption, encryptedSecrets }, headers: { etag: configEtag(revision) } };
    },

    async replaceConfig(ctx) {
      return restore(ctx, ctx.body);
    },

    async patchConfig(ctx) {
      const { revision, config } = api.store.current;
      const { revision: _r, ...base } = configView(revision, config, directoryNow());
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
        // Every collection of the revision comes back (the operations settings too, with the
        // secrets that revision named); the directory, kept with the users, stays as it is.
        const old = structuredClone(record.config);
        for (const map of CONFIG_MAPS) (draft as unknown as Record<string, unknown>)[map] = old[map];
      });
      const { revision, config } = api.store.current;
      // A revision's document, like getRevision: the directory is not part of it.
      return { status: 200, body: configView(revision, config), headers: { etag: configEtag(revision) } };
    },
  };
}
