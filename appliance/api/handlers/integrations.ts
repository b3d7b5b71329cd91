// Handlers of the integration settings (issue 18): the syslog collectors (a collection) and
// the e-mail alert settings (a singleton). They are configuration like the VIPs: each write
// is a revision, replicated to the HA secondary. The SMTP password is write-only: it goes to
// the keystore (config/stored-secret.ts) and a read says only whether one is stored.
import { etagOf, ifMatchSatisfied } from '../../config/canonical-json.js';
import { newId } from '../../config/ids.js';
import { ALERT_MAIL_ID, type StoredAlertMail, type StoredConfig, type StoredSyslogCollector } from '../../config/model.js';
import { sealSecret } from '../../config/stored-secret.js';
import { diff } from '../../audit/audit-log.js';
import type { components } from '../../../openapi/generated/types.js';
import { commitWrite, notFound, requireMatch, type ApiContext } from '../api-context.js';
import type { Handlers, RequestContext } from '../handler-types.js';
import type { OperationId } from '../../../openapi/generated/operations.js';

type Schemas = components['schemas'];
type IntegrationHandlers = Pick<
  Handlers,
  'listSyslogCollectors' | 'createSyslogCollector' | 'getSyslogCollector' | 'replaceSyslogCollector' | 'deleteSyslogCollector' | 'getAlertMail' | 'replaceAlertMail' | 'deleteAlertMail'
>;

/** A syslog collector as the API returns it. */
export function syslogCollectorView(config: StoredConfig, id: string): Schemas['SyslogCollector'] {
  return { id, ...(config.syslogCollectors[id] as StoredSyslogCollector) };
}

/** The e-mail alert settings as the API returns them: never the password nor its reference. */
export function alertMailView(config: StoredConfig): Schemas['AlertMail'] {
  const stored = config.alertMail?.[ALERT_MAIL_ID];
  if (!stored) return { enabled: false, passwordSet: false };
  const { passwordRef, ...settings } = stored;
  return { enabled: true, passwordSet: passwordRef !== null, ...settings };
}

/** The ETag of the alert settings: a new password changes it too (through its reference). */
function alertMailEtag(config: StoredConfig): string {
  return etagOf({ view: alertMailView(config), ref: config.alertMail?.[ALERT_MAIL_ID]?.passwordRef ?? null });
}

/** The audit entry's changes: the API views before and after (no secret is in a view). */
function auditChanges(ctx: RequestContext<OperationId>, path: string, before: unknown, after: unknown): void {
  const wrap = (v: unknown) => (v === undefined ? {} : { [path]: v });
  ctx.audit.changes = diff(wrap(before), wrap(after));
}

/** The integration handlers. */
export function integrationHandlers(api: ApiContext): IntegrationHandlers {
  const collector = (draft: StoredConfig, id: string, ifMatch: string | undefined): StoredSyslogCollector => {
    const c = draft.syslogCollectors[id];
    if (!c) throw notFound('syslog collector', id, 'syslogCollectorId');
    requireMatch(ifMatch, etagOf(c), `syslog collector ${id}`, ifMatchSatisfied);
    return c;
  };
  const answer = (id: string) => {
    const { config } = api.store.current;
    return { body: syslogCollectorView(config, id), headers: { etag: etagOf(config.syslogCollectors[id]) } };
  };
  const mailAnswer = () => {
    const { config } = api.store.current;
    return { body: alertMailView(config), headers: { etag: alertMailEtag(config) } };
  };

  return {
    async listSyslogCollectors() {
      const { revision, config } = api.store.current;
      return { status: 200, body: { revision, items: Object.keys(config.syslogCollectors).map((id) => syslogCollectorView(config, id)) } };
    },

    async createSyslogCollector(ctx) {
      let id = '';
      await commitWrite(api, ctx, () => `/syslogCollectors/${id}`, (draft) => {
        id = newId('syslog', draft.syslogCollectors);
        draft.syslogCollectors[id] = ctx.body as StoredSyslogCollector;
      });
      const { body, headers } = answer(id);
      auditChanges(ctx, `/syslogCollectors/${id}`, undefined, body);
      return { status: 201, body, headers: { ...headers, location: `/api/v1/syslog-collectors/${id}` } };
    },

    async getSyslogCollector(ctx) {
      const { syslogCollectorId: id } = ctx.params;
      if (!api.store.current.config.syslogCollectors[id]) throw notFound('syslog collector', id, 'syslogCollectorId');
      return { status: 200, ...answer(id) };
    },

    async replaceSyslogCollector(ctx) {
      const { syslogCollectorId: id } = ctx.params;
      let before: unknown;
      await commitWrite(api, ctx, `/syslogCollectors/${id}`, (draft) => {
        before = { id, ...collector(draft, id, ctx.ifMatch) };
        draft.syslogCollectors[id] = ctx.body as StoredSyslogCollector;
      });
      const { body, headers } = answer(id);
      auditChanges(ctx, `/syslogCollectors/${id}`, before, body);
      return { status: 200, body, headers };
    },

    async deleteSyslogCollector(ctx) {
      const { syslogCollectorId: id } = ctx.params;
      let before: unknown;
      await commitWrite(api, ctx, `/syslogCollectors/${id}`, (draft) => {
        before = { id, ...collector(draft, id, ctx.ifMatch) };
        delete draft.syslogCollectors[id];
      });
      auditChanges(ctx, `/syslogCollectors/${id}`, before, undefined);
      return { status: 204, body: undefined };
    },

    async getAlertMail() {
      return { status: 200, ...mailAnswer() };
    },

    async replaceAlertMail(ctx) {
      const { password, ...settings } = ctx.body as Schemas['AlertMailInput'] & { password?: string };
      let before: unknown;
      await commitWrite(api, ctx, `/alertMail/${ALERT_MAIL_ID}`, (draft, tools) => {
        requireMatch(ctx.ifMatch, alertMailEtag(draft), 'the e-mail alert settings', ifMatchSatisfied);
        before = alertMailView(draft);
        const old = draft.alertMail[ALERT_MAIL_ID];
        const spec = settings as Omit<StoredAlertMail, 'passwordRef'>;
        // Left out, the stored password stays while the user name does.
        const passwordRef = password !== undefined ? tools.addKey(sealSecret(password)) : old && old.username === spec.username && spec.username !== null ? old.passwordRef : null;
        draft.alertMail = { [ALERT_MAIL_ID]: { ...spec, passwordRef } };
      });
      const { body, headers } = mailAnswer();
      auditChanges(ctx, '/alertMail', before, body);
      return { status: 200, body, headers };
    },

    async deleteAlertMail(ctx) {
      let before: unknown;
      await commitWrite(api, ctx, `/alertMail/${ALERT_MAIL_ID}`, (draft) => {
        requireMatch(ctx.ifMatch, alertMailEtag(draft), 'the e-mail alert settings', ifMatchSatisfied);
        before = alertMailView(draft);
        draft.alertMail = {};
      });
      auditChanges(ctx, '/alertMail', before, alertMailView(api.store.current.config));
      return { status: 204, body: undefined };
    },
  };
}
