// Handlers of the certificate operations. Material is parsed, checked (key matches, TLS can
// use it) or generated before the write is queued, so a slow RSA generation does not hold
// other writes; the key goes to the keystore, never into a response.
import { etagOf, ifMatchSatisfied } from '../../config/canonical-json.js';
import { checkOneMaterial, hasMaterial, materialFrom, storedCertificate, type MaterialInput } from '../../config/certificate-material.js';
import { newId } from '../../config/ids.js';
import { applyMergePatch } from '../../config/merge-patch.js';
import type { SelfSignedSpec, StoredCertificate, StoredConfig } from '../../config/model.js';
import type { MutationTools } from '../../config/store.js';
import { certificatesOf } from '../../config/rules.js';
import { ApplianceError } from '../../errors.js';
import { commitWrite, notFound, requireMatch, type ApiContext } from '../api-context.js';
import type { Handlers } from '../handler-types.js';
import { certificatePublic, certificateView } from '../views.js';

type CertHandlers = Pick<Handlers, 'listCertificates' | 'createCertificate' | 'getCertificate' | 'replaceCertificate' | 'updateCertificate' | 'deleteCertificate'>;

interface CertificateBody extends MaterialInput {
  label: string;
  selfSigned?: SelfSignedSpec;
}

/** The ETag of a stored certificate (its public details). */
export function certificateEtag(cert: StoredCertificate): string {
  return etagOf(certificatePublic(cert));
}

/** The certificate handlers. */
export function certificateHandlers(api: ApiContext): CertHandlers {
  const answer = (id: string) => {
    const { config } = api.store.current;
    return { body: certificateView(config, id), headers: { etag: certificateEtag(config.certificates[id] as StoredCertificate) } };
  };
  const existing = (draft: StoredConfig, id: string, ifMatch: string | undefined): StoredCertificate => {
    const cert = draft.certificates[id];
    if (!cert) throw notFound('certificate', id, 'certificateId');
    requireMatch(ifMatch, certificateEtag(cert), `certificate ${id}`, ifMatchSatisfied);
    return cert;
  };

  return {
    async listCertificates(ctx) {
      const { revision, config } = api.store.current;
      const items = Object.keys(config.certificates)
        .filter((id) => ctx.query.label === undefined || config.certificates[id]?.label === ctx.query.label)
        .map((id) => certificateView(config, id));
      return { status: 200, body: { revision, items } };
    },

    async createCertificate(ctx) {
      const body = ctx.body as CertificateBody;
      const material = await materialFrom(body);
      let id = '';
      await commitWrite(api, ctx, () => `/certificates/${id}`, (draft, tools) => {
        id = newId('cert', draft.certificates);
        draft.certificates[id] = storedCertificate(body.label, material, tools);
      });
      const { body: view, headers } = answer(id);
      return { status: 201, body: view, headers: { ...headers, location: `/api/v1/certificates/${id}` } };
    },

    async getCertificate(ctx) {
      if (!api.store.current.config.certificates[ctx.params.certificateId]) throw notFound('certificate', ctx.params.certificateId, 'certificateId');
      return { status: 200, ...answer(ctx.params.certificateId) };
    },

    async replaceCertificate(ctx) {
      const { certificateId: certId } = ctx.params;
      const body = ctx.body as CertificateBody;
      if (!api.store.current.config.certificates[certId]) throw notFound('certificate', certId, 'certificateId');
      const material = await materialFrom(body);
      await commitWrite(api, ctx, `/certificates/${certId}`, (draft, tools) => {
        existing(draft, certId, ctx.ifMatch);
        draft.certificates[certId] = storedCertificate(body.label, material, tools);
      });
      return { status: 200, ...answer(certId) };
    },

    async updateCertificate(ctx) {
      const { certificateId: certId } = ctx.params;
      const current = api.store.current.config.certificates[certId];
      if (!current) throw notFound('certificate', certId, 'certificateId');
      const merged = applyMergePatch({ label: current.label }, ctx.body) as CertificateBody;
      api.validator.schema('CertificateInput', merged);
      checkOneMaterial(merged);
      const material = hasMaterial(merged) ? await materialFrom(merged) : null;
      await commitWrite(api, ctx, `/certificates/${certId}`, (draft, tools) => {
        const cert = existing(draft, certId, ctx.ifMatch);
        draft.certificates[certId] = material ? storedCertificate(merged.label, material, tools) : { ...cert, label: merged.label };
      });
      return { status: 200, ...answer(certId) };
    },

    async deleteCertificate(ctx) {
      const { certificateId: certId } = ctx.params;
      await commitWrite(api, ctx, `/certificates/${certId}`, (draft) => {
        existing(draft, certId, ctx.ifMatch);
        const users = Object.entries(draft.virtualServices).filter(([, vs]) => certificatesOf(vs).includes(certId));
        if (users.length > 0) {
          throw new ApplianceError('LB_CERTIFICATE_IN_USE', `certificate ${certId} is used by ${users.map(([vsId, vs]) => `${vs.label} (${vsId})`).join(', ')}`, {
            field: 'certificateId',
          });
        }
        delete draft.certificates[certId];
      });
      return { status: 204, body: undefined };
    },
  };
}
