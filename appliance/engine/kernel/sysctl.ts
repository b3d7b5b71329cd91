// The kernel settings layer 4 forwarding needs, set by the kernel plane itself in the
// network namespace the appliance runs in (each namespace has its own):
// - net.ipv4.ip_forward = 1: nat and snat route the rewritten packets to the servers (and
//   nat routes the servers' replies back to the clients). Direct routing does not need it
//   (the netdev ingress hook forwards before the IP layer).
// - net.ipv4.conf.{all,default}.send_redirects = 0: in a one-arm nat, client and server share
//   the segment, and an ICMP redirect would tell the server to answer the client directly,
//   bypassing the reverse translation.
import { readFile, writeFile } from 'node:fs/promises';

/** One setting: its /proc/sys path (dotted name) and wanted value. */
export interface SysctlSetting {
  name: string;
  value: string;
}

/** What nat and snat VIPs need. */
export const NAT_SYSCTLS: readonly SysctlSetting[] = [
  { name: 'net.ipv4.ip_forward', value: '1' },
  { name: 'net.ipv4.conf.all.send_redirects', value: '0' },
  { name: 'net.ipv4.conf.default.send_redirects', value: '0' },
];

function path(name: string): string {
  return `/proc/sys/${name.replace(/\./g, '/')}`;
}

/** Sets each setting that differs; returns the problems (empty when all are as wanted). */
export async function ensureSysctls(settings: readonly SysctlSetting[]): Promise<string[]> {
  const problems: string[] = [];
  for (const s of settings) {
    try {
      const now = (await readFile(path(s.name), 'utf8')).trim();
      if (now !== s.value) await writeFile(path(s.name), `${s.value}\n`);
    } catch (e) {
      problems.push(`cannot set ${s.name}=${s.value}: ${(e as Error).message}`);
    }
  }
  return problems;
}
