// Packet filter rules for HA tests (root): each rule is inserted with iptables and removed by
// the same test, also when it fails. Rules name this file's node addresses and ports only, so
// no other suite's traffic is touched.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { needProgram } from '../../helpers/programs.js';

const run = promisify(execFile);

/** Drops matching packets until `remove()` is called. */
export interface DropRule {
  remove(): Promise<void>;
}

/** Inserts `iptables -I INPUT <match> -j DROP`. */
export async function drop(match: string[]): Promise<DropRule> {
  needProgram('iptables');
  await run('iptables', ['-w', '-I', 'INPUT', ...match, '-j', 'DROP']);
  let removed = false;
  return {
    async remove() {
      if (removed) return;
      removed = true;
      await run('iptables', ['-w', '-D', 'INPUT', ...match, '-j', 'DROP']).catch(() => undefined);
    },
  };
}

/** Removes every rule given (in a finally). */
export async function removeAll(rules: DropRule[]): Promise<void> {
  await Promise.all(rules.splice(0).map((r) => r.remove()));
}
