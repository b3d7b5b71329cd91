// Connection tracking state of the layer 4 nat and snat VIPs, replicated to the peer with
// Debian's conntrackd (the kernel's own sync engine), so that an established connection
// survives a takeover: the passive node holds the active node's connections in conntrackd's
// external cache and commits them into its kernel as it becomes active, before its gratuitous
// ARP draws the traffic. The pattern is keepalived's primary-backup.sh: on becoming active
// `-c` (commit the external cache), `-f` (flush both caches), `-R` (resync the internal
// cache with the kernel), `-B` (bulk send to the peer); on becoming passive `-t` (shorten the
// kernel timers of the connections left behind) and `-n` (ask the peer for its state).
//
// One conntrackd per node of a pair, a child of the appliance process in its network
// namespace, with its own configuration, socket and lock under the data dir. The channel is
// UDP between the pair's link addresses (FTFW: acknowledged and resent), on the pair's
// replicationPort (the TCP persistence stream uses the same number over TCP). Connections of
// the pair's own addresses (API, heartbeat, this channel) are not replicated.
// Nothing here throws into the process: a conntrackd that cannot run is logged, and the pair
// runs without connection state (connections then survive only as docs/ha.md says).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { isIPv6 } from 'node:net';
import { join } from 'node:path';
import type { Logger } from 'pino';

/** Debian's conntrackd (LBAPPLIANCE_CONNTRACKD_BIN overrides it). */
export const CONNTRACKD = process.env.LBAPPLIANCE_CONNTRACKD_BIN ?? '/usr/sbin/conntrackd';
const SETPRIV = '/usr/bin/setpriv';
/** The longest path a UNIX socket may have (sun_path, with its NUL). */
const MAX_SOCKET_PATH = 107;

/** What the sync of one pair member is built from. */
export interface ConntrackSyncOptions {
  /** The appliance's data dir; conntrackd's files go under `conntrackd/`. */
  dataDir: string;
  localAddress: string;
  peerAddress: string;
  /** UDP port of the channel, the same on both nodes. */
  port: number;
  /** The device holding localAddress (conntrackd watches its link), or null. */
  device: string | null;
  logger: Logger;
}

/** The conntrackd.conf of one node (exported for the tests and the docs). */
export function conntrackdConfig(o: Pick<ConntrackSyncOptions, 'localAddress' | 'peerAddress' | 'port' | 'device'>, dir: string): string {
  const v6 = isIPv6(o.localAddress);
  const family = v6 ? 'IPv6' : 'IPv4';
  const ignored = v6 ? [`IPv6_address ::1`, `IPv6_address ${o.localAddress}`, `IPv6_address ${o.peerAddress}`] : [`IPv4_address 127.0.0.1`, `IPv4_address ${o.localAddress}`, `IPv4_address ${o.peerAddress}`];
  return [
    '# Written by lbappliance (appliance/ha/conntrack-sync.ts) at each start of the pair; edits are lost.',
    'Sync {',
    '  Mode FTFW {',
    '    ResendQueueSize 131072',
    '    StartupResync on',
    '  }',
    '  UDP {',
    `    ${family}_address ${o.localAddress}`,
    `    ${family}_Destination_Address ${o.peerAddress}`,
    `    Port ${o.port}`,
    ...(o.device ? [`    Interface ${o.device}`] : []),
    '    SndSocketBuffer 1249280',
    '    RcvSocketBuffer 1249280',
    '    Checksum on',
    '  }',
    '}',
    'General {',
    '  HashSize 32768',
    '  HashLimit 131072',
    `  LogFile ${join(dir, 'conntrackd.log')}`,
    '  Syslog off',
    `  LockFile ${join(dir, 'conntrackd.lock')}`,
    '  UNIX {',
    `    Path ${join(dir, 'conntrackd.ctl')}`,
    '  }',
    '  NetlinkBufferSize 2097152',
    '  NetlinkBufferSizeMaxGrowth 8388608',
    '  NetlinkOverrunResync on',
    '  Filter From Userspace {',
    '    Protocol Accept {',
    '      TCP',
    '      UDP',
    '    }',
    '    Address Ignore {',
    ...ignored.map((a) => `      ${a}`),
    '    }',
    '  }',
    '}',
    '',
  ].join('\n');
}

/** Whether conntrackd is installed. */
export function conntrackdAvailable(): boolean {
  return existsSync(CONNTRACKD);
}

/** conntrackd beside one pair member. */
export class ConntrackSync {
  readonly #o: ConntrackSyncOptions;
  readonly #dir: string;
  readonly #config: string;
  #child: ChildProcess | null = null;
  #exited: Promise<void> = Promise.resolve();
  #stopping = false;

  constructor(options: ConntrackSyncOptions) {
    this.#o = options;
    this.#dir = join(options.dataDir, 'conntrackd');
    this.#config = join(this.#dir, 'conntrackd.conf');
  }

  /** The configuration file conntrackd runs with. */
  get configPath(): string {
    return this.#config;
  }

  /** Writes the configuration and starts conntrackd; resolves once it answers on its socket. */
  async start(active: boolean): Promise<void> {
    if (join(this.#dir, 'conntrackd.ctl').length > MAX_SOCKET_PATH) throw new Error(`the data dir is too deep for conntrackd's socket (${join(this.#dir, 'conntrackd.ctl')})`);
    await mkdir(this.#dir, { recursive: true });
    await writeFile(this.#config, conntrackdConfig(this.#o, this.#dir));
    // A lock left by a conntrackd that did not stop cleanly (this directory is only ours).
    await rm(join(this.#dir, 'conntrackd.lock'), { force: true });
    await rm(join(this.#dir, 'conntrackd.ctl'), { force: true });
    const args = ['-C', this.#config];
    const child = existsSync(SETPRIV) ? spawn(SETPRIV, ['--pdeathsig', 'SIGTERM', '--', CONNTRACKD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }) : spawn(CONNTRACKD, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    const output: string[] = [];
    const keep = (d: Buffer) => {
      for (const line of d.toString().split('\n')) if (line.trim()) output.push(line.trim());
      output.splice(0, Math.max(0, output.length - 20));
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.#exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        if (this.#child === child) this.#child = null;
        if (!this.#stopping) this.#o.logger.error({ code, signal, output: output.join(' | ') }, 'conntrackd exited: connection state is no longer replicated to the peer');
        resolve();
      });
      child.once('error', (err) => {
        this.#o.logger.error({ err: err.message }, 'conntrackd could not be started');
        resolve();
      });
    });
    // Ready when it answers a statistics request on its socket.
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (this.#child !== child) throw new Error(`conntrackd exited at start: ${output.join(' | ')}`);
      if ((await this.#command('-s')) === null) break;
      if (Date.now() > deadline) throw new Error(`conntrackd did not answer on its socket: ${output.join(' | ')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    this.#o.logger.info({ peer: this.#o.peerAddress, port: this.#o.port, config: this.#config }, 'conntrackd replicates connection state to the peer');
    if (!active) await this.becomePassive();
  }

  /** Puts the peer's connections into this node's kernel (before it draws their traffic) and sends its own to the peer. */
  async becomeActive(): Promise<void> {
    if (!this.#child) return;
    for (const step of ['-c', '-f', '-R', '-B']) {
      const problem = await this.#command(step);
      if (problem !== null) this.#o.logger.warn({ step, problem }, 'conntrackd: a step of becoming active failed');
    }
  }

  /** The connections left behind time out sooner; the peer is asked for its state. */
  async becomePassive(): Promise<void> {
    if (!this.#child) return;
    for (const step of ['-t', '-n']) {
      const problem = await this.#command(step);
      if (problem !== null) this.#o.logger.warn({ step, problem }, 'conntrackd: a step of becoming passive failed');
    }
  }

  /** The external cache (the peer's connections) as conntrackd prints it, for the tests and support. */
  async externalCache(): Promise<string> {
    return (await this.#output('-e', 'ct')) ?? '';
  }

  /** Stops conntrackd. */
  async stop(): Promise<void> {
    this.#stopping = true;
    const child = this.#child;
    if (child) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await this.#exited;
      clearTimeout(timer);
    }
    this.#child = null;
  }

  /** Runs one conntrackd client command; null when it succeeded, else what went wrong. */
  async #command(...args: string[]): Promise<string | null> {
    return new Promise((resolve) => {
      execFile(CONNTRACKD, ['-C', this.#config, ...args], { timeout: 30_000 }, (err, _stdout, stderr) => resolve(err ? (stderr.trim() || err.message) : null));
    });
  }

  async #output(...args: string[]): Promise<string | null> {
    return new Promise((resolve) => {
      execFile(CONNTRACKD, ['-C', this.#config, ...args], { timeout: 30_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout) => resolve(err ? null : stdout));
    });
  }
}
