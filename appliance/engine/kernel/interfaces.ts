// Which network devices a layer 4 VIP uses, asked of the kernel with iproute2's JSON: the
// device a real server is reached through (direct routing forwards there) and the device
// that holds the VIP address (direct routing's ingress hook listens there).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** The device the kernel routes `address` through, or null when there is no route. */
export async function deviceTowards(address: string): Promise<string | null> {
  try {
    const { stdout } = await exec('ip', ['-j', 'route', 'get', address]);
    const [route] = JSON.parse(stdout) as { dev?: string; type?: string }[];
    if (!route?.dev || route.dev === 'lo') return null;
    return route.dev;
  } catch {
    return null;
  }
}

/** The device that holds `address` as one of its own addresses, or null. */
export async function deviceHolding(address: string): Promise<string | null> {
  try {
    const { stdout } = await exec('ip', ['-j', '-4', 'addr', 'show']);
    const links = JSON.parse(stdout) as { ifname: string; addr_info?: { local?: string }[] }[];
    for (const link of links) if (link.addr_info?.some((a) => a.local === address)) return link.ifname;
    return null;
  } catch {
    return null;
  }
}
