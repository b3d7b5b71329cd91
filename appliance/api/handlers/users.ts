// Handlers of API users, the caller's own identity and the audit log. User writes tell the
// audit log what changed as JSON Patch operations on `/users/<name>` (never the password).
import { ApplianceError } from '../../errors.js';
import type { ApiContext } from '../api-context.js';
import type { Handlers } from '../handler-types.js';

type UserHandlers = Pick<Handlers, 'listUsers' | 'createUser' | 'deleteUser' | 'setUserPassword' | 'listAuditEntries' | 'getCurrentUser'>;

/** The user and audit handlers. */
export function userHandlers(api: ApiContext): UserHandlers {
  return {
    async listUsers() {
      return { status: 200, body: { items: api.users.list() } };
    },
    async createUser(ctx) {
      const user = await api.users.create(ctx.body.username, ctx.body.password, ctx.body.role);
      ctx.audit.changes = [{ op: 'add', path: `/users/${user.username}`, value: user }];
      return { status: 201, body: user };
    },
    async deleteUser(ctx) {
      await api.users.remove(ctx.params.username);
      ctx.audit.changes = [{ op: 'remove', path: `/users/${ctx.params.username}` }];
      return { status: 204, body: undefined };
    },
    async setUserPassword(ctx) {
      await api.users.setPassword(ctx.params.username, ctx.body.password);
      ctx.audit.changes = [{ op: 'replace', path: `/users/${ctx.params.username}/password`, value: '(redacted)' }];
      return { status: 204, body: undefined };
    },
    async listAuditEntries(ctx) {
      return { status: 200, body: { items: await api.audit.list(ctx.query.limit ?? 100, ctx.query.before) } };
    },
    async getCurrentUser(ctx) {
      const p = ctx.principal;
      if (p?.source === 'directory') return { status: 200, body: { username: p.username, role: p.role, createdAt: p.checkedAt ?? new Date().toISOString(), source: 'directory' as const } };
      const me = api.users.list().find((u) => u.username === ctx.principal?.username);
      // Authenticated a moment ago, so only a removal in between gets here.
      if (!me) throw new ApplianceError('LB_UNAUTHORIZED', `user ${ctx.principal?.username ?? '-'} no longer exists`);
      return { status: 200, body: me };
    },
  };
}
