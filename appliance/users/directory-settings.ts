// The directory (LDAP / Active Directory) settings as stored with the users: the contract's
// DirectoryStored (with the bind password, which the appliance must send, so it is kept in
// the clear in the 0600 users file and replicated to the HA peer with the users), the view a
// read returns (never the password), and the rules a schema cannot say.
import type { components } from '../../openapi/generated/types.js';
import { directoryProblems } from '../../openapi/sdk/rules.js';
import { ApplianceError } from '../errors.js';

/** The settings as stored and replicated (with the bind password). */
export type DirectorySettings = components['schemas']['DirectoryStored'];

/** The settings as written by a client. */
export type DirectoryInput = components['schemas']['DirectoryInput'];

/** The settings as read: everything but the bind password. */
export type DirectoryView = components['schemas']['Directory'];

/** The settings as read (the bind password left out). */
export function directoryView(settings: DirectorySettings): DirectoryView {
  const { bindPassword: _secret, ...view } = settings;
  // Stored from a request body the contract validator completed with every default.
  return view as DirectoryView;
}

/** The stored settings of a validated input (contract defaults already filled in). */
export function directoryFromInput(input: DirectoryInput, now = new Date()): DirectorySettings {
  checkDirectoryRules(input);
  return { ...input, updatedAt: now.toISOString() };
}

/** Refuses combinations the schema cannot express (422 naming the field; the rule is shared with the providers' plans). */
export function checkDirectoryRules(input: Pick<DirectoryInput, 'url' | 'startTls'>): void {
  const [problem] = directoryProblems({ url: input.url, startTls: input.startTls ?? null });
  if (problem) throw new ApplianceError(problem.code, problem.message, { field: problem.field });
}
