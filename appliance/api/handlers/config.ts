// Handlers of whole-configuration export and restore and of the revision history.
import { ifMatchStrong } from '../if-match.js';
import { checkOneMaterial, materialFrom, type CertificateMaterial } from '../../config/certificate-material.js';
import { applyMergePatch } from '../../config/merge-patch.js';
import type { SelfSignedSpec, StoredCertificate, StoredConfig } from '../../config/model.js';
import type { components } from '../../../openapi/generated/types.js';
import { ApplianceError } from '../../errors.js';
import { commitWrite, notFound, requireMatch, type ApiContext } from '../api-context.js';
import type { Handlers, RequestContext } from '../handler-types.js';
import { configView } from '../views.js';
import { storedFrom } from './certificates.js';
import type { OperationId } from '../../../openapi/generated/operations.js';

type ConfigHandlers = Pick<Handlers, 'getConfig' | 'replaceConfig' | 'patchConfig' | 'listRevisions' | 'getRevision' | 'rollbackToRevision'>;
type ConfigInput = components['schemas']['ConfigInput'];
type ConfigCertificate = components['schemas']['ConfigCertificate'];

/** The ETag of the whole configuration at a revision. */
export function configEtag(revision: number): string {
  return `"r${revision}"`;
}

function reroot(err: unknown, prefix: string): unknown {
  return err instanceof ApplianceError ? err.withFieldPrefix(prefix) : err;
}

/** Material for certificates that bring their own (pem, pfx), resolved before the write. */
async function uploadedMaterial(certs: Record<string, ConfigCertificate>): Promise<Map<string, CertificateMaterial>> {
  const out = new Map<string, CertificateMaterial>();
  for (const [id, entry] of Object.entries(certs)) {
    const prefix = `/certificates/${id}`;
    try {
      checkOneMaterial({ pem: entry.pem, pfx: entry.pfx, passphrase: entry.passphrase }, '');
      if (entry.pem !== undefined || entry.pfx !== undefined) out.set(id, await materialFrom({ pem: entry.pem, pfx: entry.pfx, passphrase: entry.passphrase }));
    } catch (err) {
      throw reroot(err, prefix);
    }
  }
  return out;
}

/** The configuration handlers. */
export function configHandlers(api: ApiContext): ConfigHandlers {
  /** Replaces the whole configuration with `input` in one revision. */
  const restore = async (ctx: RequestContext<OperationId>, input: ConfigInput) => {
    const uploaded = await uploadedMaterial(input.certificates);
    // Self-signed certificates without a kept twin are generated outside the write lock.
    const generated = new Map<string, CertificateMaterial>();
    for (const [id, entry] of Object.entries(input.certificates)) {
      if (!uploaded.has(id) && !api.store.current.config.certificates[id] && entry.selfSigned) {
        generated.set(id, await materialFrom({ selfSigned: entry.selfSigned as SelfSignedSpec }).catch((err: unknown) => Promise.reject(reroot(err, `/certificates/${id}`))));
      }
    }
    await commitWrite(api, ctx, '', (draft, tools) => {
      requireMatch(ctx.ifMatch, configEtag(tools.baseRevision), 'the configuration', ifMatchStrong);
      const certificates: Record<string, StoredCertificate> = {};
      for (const [id, entry] of Object.entries(input.certificates)) {
        const material = uploaded.get(id) ?? generated.get(id);
        const kept = tools.base.certificates[id];
        if (material) {
          certificates[id] = storedFrom(entry.label, material, tools);
        } else if (kept) {
          if (entry.fingerprintSha256 !== undefined && entry.fingerprintSha256 !== kept.fingerprintSha256) {
            throw new ApplianceError('LB_CERTIFICATE_INVALID', `certificate ${id} has fingerprint ${kept.fingerprintSha256} here, not ${entry.fingerprintSha256}; give its pem or pfx`, {
              field: `/certificates/${id}/fingerprintSha256`,
            });
          }
          certificates[id] = { ...kept, label: entry.label };
        } else {
          throw new ApplianceError('LB_CERTIFICATE_INVALID', `certificate ${id} does not exist here and brings no pem, pfx or selfSigned material`, {
            field: `/certificates/${id}`,
          });
        }
      }
      const next: StoredConfig = {
        virtualServices: input.virtualServices as StoredConfig['virtualServices'],
        realServers: input.realServers as StoredConfig['realServers'],
        certificates,
      };
      draft.virtualServices = next.virtualServices;
      draft.realServers = next.realServers;
      draft.certificates = next.certificates;
    });
    const { revision, config } = api.store.current;
    return { status: 200 as const, body: configView(revision, config), headers: { etag: configEtag(revision) } };
  };

  return {
    async getConfig() {
      const { revision, config } = api.store.current;
      return { status: 200, body: configView(revision, config), headers: { etag: configEtag(revision) } };
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
        requireMatch(ctx.ifMatch, configEtag(tools.baseRevision), 'the configuration', ifMatchStrong);
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
