// Runs a real `bin/lbappliance serve` process for a test: its own data dir, its own
// loopback address and port, a known password. Kill it (-9 or SIGTERM) and restart it on
// the same data dir.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ApplianceClient } from '../../openapi/sdk/index.js';
import { LBAPPLIANCE_BIN } from './paths.js';

/** Options of a test appliance. */
export interface TestApplianceOptions {
  /** Reuse a data dir (default: a new temporary one). */
  dataDir?: string;
  /** Whether dispose() removes dataDir (default: only a directory this helper made). A restart keeps the first start's answer. */
  removeDataDir?: boolean;
  /** API listen host (default 127.0.0.1). */
  host?: string;
  /** API port (default 0: any free port; reused across restarts). */
  port?: number;
  engine?: 'none' | 'embedded' | 'haproxy';
  password?: string;
  /** Extra `serve` arguments. */
  args?: string[];
  env?: Record<string, string>;
  /** Options of node itself (e.g. `--cpu-prof`, which NODE_OPTIONS may not carry). */
  nodeArgs?: string[];
  /** A command the appliance runs under, e.g. `['ip', 'netns', 'exec', 'ns1']` (it must exec the appliance in place). */
  wrap?: string[];
}

/** A running test appliance. */
export interface TestAppliance {
  endpoint: string;
  password: string;
  dataDir: string;
  process: ChildProcess;
  /** Every stdout/stderr line so far. */
  output: string[];
  /** A new SDK client for the administrator (closed with the appliance). */
  client(options?: { username?: string; password?: string }): ApplianceClient;
  /** kill -9 */
  kill(): Promise<void>;
  /** SIGTERM and wait for exit. */
  stop(): Promise<number | null>;
  /** Starts the appliance again on the same data dir, address and port. */
  restart(): Promise<TestAppliance>;
  /** Stops it and removes the data dir (unless given). */
  dispose(): Promise<void>;
}

const DEFAULT_PASSWORD = 'test-password-0123456789';

/** The embedded engine's worker processes of an appliance process. */
function engineWorkers(pid: number | undefined): number[] {
  if (pid === undefined) return [];
  const r = spawnSync('pgrep', ['-P', String(pid), '-f', 'worker-main'], { encoding: 'utf8' });
  return (r.stdout ?? '').split('\n').filter(Boolean).map(Number);
}

/** Starts `lbappliance serve` and waits until its API listens. */
export async function startTestAppliance(options: TestApplianceOptions = {}): Promise<TestAppliance> {
  const ownDir = options.removeDataDir ?? options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'lbappliance-test-')));
  const host = options.host ?? '127.0.0.1';
  const password = options.password ?? DEFAULT_PASSWORD;
  const listen = `${host.includes(':') ? `[${host}]` : host}:${options.port ?? 0}`;
  const args = [LBAPPLIANCE_BIN, 'serve', '--data-dir', dataDir, '--api-listen', listen, '--engine', options.engine ?? 'none', ...(options.args ?? [])];
  const [command, ...prefix] = [...(options.wrap ?? []), process.execPath];
  const child = spawn(command as string, [...prefix, ...(options.nodeArgs ?? []), ...args], {
    // Outside a network namespace a test appliance never programs the host's own kernel (layer 4 VIPs report it).
    env: { ...process.env, LBAPPLIANCE_PASSWORD: password, LBAPPLIANCE_LOG_LEVEL: 'info', ...(options.wrap ? {} : { LBAPPLIANCE_KERNEL: 'off' }), ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const clients: ApplianceClient[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const endpoint = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`appliance did not start in 30 s:\n${output.join('\n')}`)), 30_000);
    const onLine = (line: string) => {
      output.push(line);
      if (line.includes('"api listening"')) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { endpoint: string }).endpoint);
      }
    };
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', (l) => output.push(l));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`appliance exited with ${code} before listening:\n${output.join('\n')}`));
    });
  });
  const port = Number(new URL(endpoint).port);
  const closeClients = async () => {
    await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
  };
  const self: TestAppliance = {
    endpoint,
    password,
    dataDir,
    process: child,
    output,
    client(o = {}) {
      const c = new ApplianceClient({ endpoint, username: o.username ?? 'loadbalancer', password: o.password ?? password, insecure: true });
      clients.push(c);
      return c;
    },
    async kill() {
      // The node dies whole: the embedded engine's worker processes would otherwise serve a
      // few more requests until they notice their engine is gone, which a crashed node does not.
      const workers = engineWorkers(child.pid);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      for (const pid of workers) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await exited;
      await closeClients();
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const code = await exited;
      await closeClients();
      return code;
    },
    async restart() {
      await self.stop();
      return startTestAppliance({ ...options, dataDir, port, host, removeDataDir: ownDir });
    },
    async dispose() {
      await self.kill();
      if (ownDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
  return self;
}
