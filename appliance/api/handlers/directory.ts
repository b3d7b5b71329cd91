// Handlers of the directory logins' settings (a singleton, stored with the users and
// replicated with them). The audit log records what changed with the bind password redacted.
import { ApplianceError } from '../../errors.js';
import { directoryFromInput, directoryView } from '../../users/directory-settings.js';
import type { ApiContext } from '../api-context.js';
import type { Handlers } from '../handler-types.js';

type DirectoryHandlers = Pick<Handlers, 'getDirectory' | 'replaceDirectory' | 'deleteDirectory'>;

function none(): ApplianceError {
  return new ApplianceError('LB_NOT_FOUND', 'no directory is configured: only local users log in', { field: 'directory' });
}

/** The directory handlers. */
export function directoryHandlers(api: ApiContext): DirectoryHandlers {
  return {
    async getDirectory() {
      const settings = api.users.directory();
      if (!settings) throw none();
      return { status: 200, body: directoryView(settings) };
    },
    async replaceDirectory(ctx) {
      const had = api.users.directory() !== null;
      const settings = directoryFromInput(ctx.body);
      await api.users.setDirectory(settings);
      ctx.audit.changes = [{ op: had ? 'replace' : 'add', path: '/directory', value: { ...directoryView(settings), bindPassword: '(redacted)' } }];
      return { status: 200, body: directoryView(settings) };
    },
    async deleteDirectory(ctx) {
      if (!api.users.directory()) throw none();
      await api.users.setDirectory(null);
      ctx.audit.changes = [{ op: 'remove', path: '/directory' }];
      return { status: 204, body: undefined };
    },
  };
}
