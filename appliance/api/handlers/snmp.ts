// Handlers of the SNMP settings (GET and PUT /api/v1/snmp): one object, replaced whole in one
// revision like the rest of the configuration (so it is replicated to the secondary of a
// pair). Reads, ETags and audit entries are built from the view without secrets
// (config/snmp-settings.ts); a secret left out of a write is kept by name.
import { diff } from '../../audit/audit-log.js';
import { etagOf, ifMatchSatisfied } from '../../config/canonical-json.js';
import { SNMP_SETTINGS_KEY, snmpSettingsOf, snmpSettingsView, storedSnmpSettings } from '../../config/snmp-settings.js';
import { commitWrite, requireMatch, type ApiContext } from '../api-context.js';
import type { Handlers } from '../handler-types.js';

type SnmpHandlers = Pick<Handlers, 'getSnmpSettings' | 'replaceSnmpSettings'>;

/** The SNMP handlers. */
export function snmpHandlers(api: ApiContext): SnmpHandlers {
  const answer = () => {
    const { revision, config } = api.store.current;
    const view = snmpSettingsView(snmpSettingsOf(config));
    return { status: 200 as const, body: { ...view, revision }, headers: { etag: etagOf(view) } };
  };
  return {
    async getSnmpSettings() {
      return answer();
    },

    async replaceSnmpSettings(ctx) {
      let before: ReturnType<typeof snmpSettingsView> | null = null;
      let after: ReturnType<typeof snmpSettingsView> | null = null;
      await commitWrite(api, ctx, '', (draft) => {
        const current = snmpSettingsOf(draft);
        before = snmpSettingsView(current);
        requireMatch(ctx.ifMatch, etagOf(before), 'the SNMP settings', ifMatchSatisfied);
        const next = storedSnmpSettings(ctx.body, current);
        after = snmpSettingsView(next);
        draft.snmp = { ...draft.snmp, [SNMP_SETTINGS_KEY]: next };
      });
      // The audit entry shows what changed, secrets never (the view has none).
      ctx.audit.changes = diff({ snmp: before }, { snmp: after }) ?? null;
      return answer();
    },
  };
}
