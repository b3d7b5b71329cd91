// Rules of the integration settings (issue 18) beyond their schemas: collector labels are
// unique, a `tls` collector names the CA it trusts (and only `tls` names one), a CA parses
// as PEM certificates, an SMTP password goes with a user name. Fields are JSON Pointers into
// the Config document, like the other rules, so the API re-roots them under the body.
import { X509Certificate } from 'node:crypto';
import { ApplianceError } from '../errors.js';
import type { StoredConfig } from './model.js';

/** Throws LB_CERTIFICATE_INVALID unless `pem` holds at least one certificate and nothing else. */
function checkCaPem(pem: string, field: string): void {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  try {
    if (blocks.length === 0) throw new Error('no PEM certificate');
    for (const block of blocks) new X509Certificate(block);
  } catch (err) {
    throw new ApplianceError('LB_CERTIFICATE_INVALID', `caPem is not a PEM CA certificate: ${(err as Error).message}`, { field });
  }
}

/** The integration rules, on the objects a write changed. */
export function checkIntegrationRules(before: StoredConfig, after: StoredConfig): void {
  for (const [id, c] of Object.entries(after.syslogCollectors ?? {})) {
    if (before.syslogCollectors?.[id] === c) continue;
    const at = `/syslogCollectors/${id}`;
    for (const [otherId, other] of Object.entries(after.syslogCollectors)) {
      if (otherId !== id && other.label === c.label) throw new ApplianceError('LB_LABEL_IN_USE', `label "${c.label}" is already used by syslog collector ${otherId}`, { field: `${at}/label` });
    }
    if (c.transport === 'tls' && c.caPem === null) throw new ApplianceError('LB_INVALID_COMBINATION', 'a tls collector needs caPem, the CA that signed its certificate', { field: `${at}/caPem` });
    if (c.transport !== 'tls' && c.caPem !== null) throw new ApplianceError('LB_INVALID_COMBINATION', `caPem is for the tls transport, not ${c.transport}`, { field: `${at}/caPem` });
    if (c.caPem !== null) checkCaPem(c.caPem, `${at}/caPem`);
  }
  for (const [id, m] of Object.entries(after.alertMail ?? {})) {
    if (before.alertMail?.[id] === m) continue;
    const at = `/alertMail/${id}`;
    if (m.passwordRef !== null && m.username === null) throw new ApplianceError('LB_INVALID_COMBINATION', 'a password goes with a username', { field: `${at}/password` });
    if (m.caPem !== null) {
      if (m.security === 'none') throw new ApplianceError('LB_INVALID_COMBINATION', 'caPem is for the starttls and tls security modes, not none', { field: `${at}/caPem` });
      checkCaPem(m.caPem, `${at}/caPem`);
    }
    if (m.security === 'none' && m.username !== null) throw new ApplianceError('LB_INVALID_COMBINATION', 'authentication is never sent in the clear: use starttls or tls with a username', { field: `${at}/username` });
  }
}
