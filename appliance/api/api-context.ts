// What the handlers share: the stores, the engine, the HA controller, and the write helper
// that commits a mutation, re-roots rule errors under the request body and fills the audit.
import type { Registry } from 'prom-client';
import type { OperationId } from '../../openapi/generated/operations.js';
import type { AuditLog } from '../audit/audit-log.js';
import { diff } from '../audit/audit-log.js';
import type { StoredConfig } from '../config/model.js';
import type { ConfigStore, Mutation } from '../config/store.js';
import type { Engine } from '../engine/types.js';
import { ApplianceError } from '../errors.js';
import type { HaController } from '../ha/controller.js';
import type { UserStore } from '../users/user-store.js';
import type { ContractValidator } from './contract-validator.js';
import type { RequestContext } from './handler-types.js';
import { configView, type LiveState } from './views.js';

/** Everything a handler may use. */
export interface ApiContext {
  store: ConfigStore;
  users: UserStore;
  audit: AuditLog;
  engine: Engine;
  validator: ContractValidator;
  ha: HaController;
  metrics: Registry;
  version: string;
  nodeName: string;
}

/**
 * The live state the views join with stored objects; with `onlyVirtualService`, of that VIP
 * alone (the answer about one VIP or one of its servers costs one VIP, not the site).
 */
export function liveState(api: ApiContext, onlyVirtualService?: string): LiveState {
  const engine = api.engine.status(onlyVirtualService);
  return { engine, active: engine.active };
}

/**
 * Commits a mutation on behalf of a request. Rule errors name fields in the Config document
 * (`/virtualServices/<id>/ports/0`); `prefix` is the part that the request body stands for,
 * which is cut off so the field points into the body (`/ports/0`). A function gives the
 * prefix of an object whose id the mutation chooses.
 */
export async function commitWrite<T>(
  api: ApiContext,
  ctx: RequestContext<OperationId>,
  prefix: string | (() => string),
  mutate: Mutation<T>,
): Promise<{ revision: number; value: T }> {
  try {
    const result = await api.store.commit({ user: ctx.principal?.username ?? 'system', operation: ctx.operationId }, mutate);
    ctx.audit.revision = result.revision;
    // The diff from exactly revision N-1 to N, both taken by the store inside this write's turn
    // (not the revision current when the request arrived: concurrent writes land in between).
    // The entry carries the revision itself; the changes are the objects' (no `/revision` op).
    // Only the objects the write replaced are compared (the store shares the others between
    // revisions): the same patch as diffing the whole documents, at the cost of the change.
    const { before, after, change } = result;
    const pick = (config: StoredConfig): StoredConfig => ({
      virtualServices: only(config.virtualServices, change.virtualServices),
      realServers: only(config.realServers, change.realServers),
      certificates: only(config.certificates, change.certificates),
      // The views of the operations settings hold no secret (nor a secret's reference): a
      // restore or rollback records what it changed; their own handlers replace the entry.
      snmp: config.snmp,
      syslogCollectors: only(config.syslogCollectors, change.syslogCollectors),
      alertMail: config.alertMail,
    });
    ctx.audit.changes = diff({ ...configView(before.revision, pick(before.config)), revision: 0 }, { ...configView(after.revision, pick(after.config)), revision: 0 }) ?? null;
    return result;
  } catch (err) {
    const root = typeof prefix === 'function' ? prefix() : prefix;
    if (err instanceof ApplianceError && root && err.field?.startsWith(root)) {
      const rest = err.field.slice(root.length);
      throw new ApplianceError(err.code, err.message, { field: rest, errors: err.errors, extra: err.extra, headers: err.headers, cause: err.cause });
    }
    throw err;
  }
}

/** The entries of `map` whose ids are in `ids`. */
function only<T>(map: Record<string, T>, ids: Record<string, unknown>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const id in ids) if (map[id] !== undefined) out[id] = map[id] as T;
  return out;
}

/** Throws LB_PRECONDITION_FAILED unless If-Match matches. */
export function requireMatch(ifMatch: string | undefined, etag: string, what: string, matches: (h: string | undefined, e: string) => boolean): void {
  if (!matches(ifMatch, etag)) {
    throw new ApplianceError('LB_PRECONDITION_FAILED', `${what} has changed: its ETag is ${etag}, not ${ifMatch}`, { field: 'If-Match' });
  }
}

/** A 404 for a missing object. */
export function notFound(what: string, id: string, field: string): ApplianceError {
  return new ApplianceError('LB_NOT_FOUND', `no ${what} ${id}`, { field });
}
