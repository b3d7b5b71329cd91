// The kernel's connection tracking entries of nat and snat flows, forgotten by mark when their
// server is halted. The forward chain resets a halted server's established flows
// (ruleset.ts), but their entries would stay for the conntrack timeout (five days for an
// established TCP flow): a client that opens a new connection from the source port of a cut
// one sends a SYN that conntrack files under the old entry, with the halted server's mark,
// and the new connection is reset too. The halted server's connection count also stayed up.
// `conntrack -D --mark` (conntrack-tools, over netlink) deletes them.
import { execFile } from 'node:child_process';
import type { Logger } from 'pino';
import { hex } from './marks.js';

/** The conntrack binary the appliance runs. */
export const CONNTRACK_BIN = process.env.LBAPPLIANCE_CONNTRACK_BIN ?? '/usr/sbin/conntrack';

/** Deletes the entries of each mark; a failure is logged (the flows then end by their own timeouts), never thrown. */
export async function forgetConnections(marks: readonly number[], log: Logger): Promise<void> {
  for (const mark of marks) {
    const error = await new Promise<string | null>((resolve) => {
      execFile(CONNTRACK_BIN, ['-D', '--mark', hex(mark)], { timeout: 10_000 }, (err, _stdout, stderr) => {
        // Exit 1 with "0 flow entries have been deleted": there were none.
        if (!err || /\b0 flow entries have been deleted/.test(stderr)) resolve(null);
        else resolve(stderr.trim() || err.message);
      });
    });
    if (error) log.warn({ mark: hex(mark), error }, "a halted server's connection tracking entries were not deleted");
  }
}
