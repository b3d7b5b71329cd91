// VIP address ownership on a network interface (`serve --vip-interface IFACE`, as root): the
// active node adds every VIP address to the interface before its listeners bind, announces
// each IPv4 address with gratuitous ARP (so switches and neighbours send the traffic to this
// node at once instead of when their ARP entries expire), and the node that gives the VIPs
// up removes them. Done with iproute2's `ip` and iputils' `arping`: the kernel's own tools,
// rather than netlink and raw sockets from Node, which has neither.
import { execFile, type ChildProcess } from 'node:child_process';
import { isIPv6 } from 'node:net';
import { promisify } from 'node:util';
import type { Logger } from 'pino';

const run = promisify(execFile);

/** How many gratuitous ARP packets announce an address (one may be lost). */
export const GARP_COUNT = 3;

function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}

/** The VIP addresses an interface carries while this node is active. */
export class VipAddresses {
  readonly #iface: string;
  readonly #log: Logger;
  /** Addresses this node added and has not removed. */
  readonly #owned = new Set<string>();
  /** Addresses `ip` refused to add, and when to try again (no retry storm on a missing interface). */
  readonly #failed = new Map<string, number>();
  /** The running announcement of each address (arping repeats for a few seconds). */
  readonly #announcing = new Map<string, ChildProcess>();
  #queue: Promise<unknown> = Promise.resolve();

  constructor(iface: string, logger: Logger) {
    this.#iface = iface;
    this.#log = logger;
  }

  /** The interface. */
  get iface(): string {
    return this.#iface;
  }

  /** Addresses carried now. */
  owned(): string[] {
    return [...this.#owned];
  }

  /** Makes the interface carry exactly `addresses` (wildcards skipped); announces the new ones. */
  own(addresses: Iterable<string>): Promise<void> {
    return this.#serial(async () => {
      const want = new Set([...addresses].filter((a) => !isWildcard(a)));
      for (const a of [...this.#owned]) if (!want.has(a)) await this.#del(a);
      const added: string[] = [];
      for (const a of want) {
        if (this.#owned.has(a) || (this.#failed.get(a) ?? 0) > Date.now()) continue;
        if (await this.#add(a)) added.push(a);
      }
      for (const a of added) this.#announce(a);
    });
  }

  /** Removes every address this node carries (and, at start-up, `stale` ones a killed process left). */
  release(stale: Iterable<string> = []): Promise<void> {
    return this.#serial(async () => {
      for (const a of new Set([...this.#owned, ...[...stale].filter((x) => !isWildcard(x))])) await this.#del(a);
    });
  }

  async #add(address: string): Promise<boolean> {
    const args = isIPv6(address) ? ['-6', 'addr', 'add', `${address}/128`, 'dev', this.#iface, 'nodad'] : ['addr', 'add', `${address}/32`, 'dev', this.#iface];
    try {
      await run('ip', args);
    } catch (err) {
      if (!/File exists/i.test(String((err as { stderr?: string }).stderr))) {
        this.#log.error({ address, iface: this.#iface, err: (err as { stderr?: string }).stderr ?? (err as Error).message }, 'could not add the VIP address; retrying in 5 s');
        this.#failed.set(address, Date.now() + 5000);
        return false;
      }
    }
    this.#failed.delete(address);
    this.#owned.add(address);
    this.#log.info({ address, iface: this.#iface }, 'VIP address added');
    return true;
  }

  async #del(address: string): Promise<void> {
    // An announcement still repeating must stop first: a node that gave the address up and
    // went on announcing it drew the traffic back from the node that took it over (the
    // servers' replies of nat connections then met a node without the address, which
    // redirected them to the clients untranslated, and the clients reset them).
    this.#stopAnnouncing(address);
    const args = isIPv6(address) ? ['-6', 'addr', 'del', `${address}/128`, 'dev', this.#iface] : ['addr', 'del', `${address}/32`, 'dev', this.#iface];
    try {
      await run('ip', args);
      this.#log.info({ address, iface: this.#iface }, 'VIP address removed');
    } catch (err) {
      // Not there (never added, or removed by hand): nothing to give up.
      if (!/Cannot assign|not found|No such/i.test(String((err as { stderr?: string }).stderr))) {
        this.#log.warn({ address, iface: this.#iface, err: (err as { stderr?: string }).stderr ?? (err as Error).message }, 'could not remove the VIP address');
      }
    }
    this.#owned.delete(address);
  }

  #announce(address: string): void {
    // IPv6 neighbours learn from the first packets; unsolicited neighbour advertisements would
    // need ndisc6, which this appliance does not require.
    if (isIPv6(address)) return;
    // In the background: the listeners need not wait for the announcements.
    this.#stopAnnouncing(address);
    const child = execFile('arping', ['-U', '-c', String(GARP_COUNT), '-w', String(GARP_COUNT + 1), '-I', this.#iface, address], (err) => {
      if (this.#announcing.get(address) === child) this.#announcing.delete(address);
      // arping exits 1 when nobody answers an unsolicited ARP, which is normal: only a missing tool matters.
      if ((err as NodeJS.ErrnoException | null)?.code === 'ENOENT') this.#log.warn({ address }, 'arping is not installed: the VIP address was not announced (install iputils-arping)');
    });
    this.#announcing.set(address, child);
  }

  #stopAnnouncing(address: string): void {
    const child = this.#announcing.get(address);
    if (!child) return;
    this.#announcing.delete(address);
    child.kill('SIGKILL');
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}
