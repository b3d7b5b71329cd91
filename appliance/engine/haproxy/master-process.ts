// Runs HAProxy in master-worker mode (`-W -db`) and supervises it. The master re-executes
// itself on SIGUSR2 and hands the listening sockets to the new worker over a socket pair
// (HAProxy's own `-x sockpair@`, enabled by `expose-fd listeners`), so a reload refuses no
// connection. If the master dies (HAProxy's master also leaves when its worker crashes),
// it is started again at once with the last configuration that ran: `restarts` and
// `lastExit` tell the API.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Logger } from 'pino';
import { writeFileAtomic } from '../../config/atomic-file.js';
import { RuntimeApi } from './runtime-api.js';

const SETPRIV = '/usr/bin/setpriv';

/** How long a reload signal may go unacknowledged before it is sent again. */
const RESIGNAL_MS = 1000;
/** How long after the last runtime-API change the running configuration is written to disk. */
const RECORD_FLUSH_MS = 1000;

/** Where HAProxy's files live and how it is run. */
export interface MasterProcessOptions {
  binary: string;
  configPath: string;
  masterSocket: string;
  /** The master's pid file: a master left by an appliance that died is stopped at start. */
  pidFile: string;
  runtime: RuntimeApi;
  logger: Logger;
  /** How long a start or a reload may take before it counts as failed. */
  readyTimeoutMs?: number;
}

/** How the last unexpected exit happened. */
export interface ExitRecord {
  at: string;
  code: number | null;
  signal: string | null;
  /** Milliseconds from the exit to the new worker answering. */
  restoredInMs: number | null;
}

/**
 * Whether an [ALERT] line says the new configuration failed. A running worker also alerts when
 * the last server of a backend goes down ("backend 'x' has no server available!"): printed
 * during a reload, that is news about the servers, not a refusal of the configuration (a
 * change made while a VIP's servers were failing was refused with it).
 */
function isConfigAlert(line: string): boolean {
  return line.includes('[ALERT]') && !/has no server available!/.test(line);
}

/** The supervised HAProxy master. */
export class MasterProcess {
  readonly #o: MasterProcessOptions;
  readonly #log: Logger;
  #child: ChildProcess | null = null;
  #workerPid = 0;
  /** "Reloading HAProxy" lines the master has logged (one per reload signal it took). */
  #reloadsSeen = 0;
  #lastGood = '';
  /** A configuration HAProxy runs already (runtime-API changes), rendered when first needed. */
  #pending: (() => string) | null = null;
  #flushTimer: NodeJS.Timeout | null = null;
  #flushing: Promise<void> | null = null;
  #stopping = false;
  #restarting: Promise<void> | null = null;
  /** Masters whose worker answered once: only their exit is a crash to recover from. */
  readonly #ready = new WeakSet<ChildProcess>();
  /** Recent alert and warning lines, for error messages. */
  readonly #recent: string[] = [];
  /** Unexpected exits the supervisor recovered from. */
  restarts = 0;
  /** Seamless reloads done. */
  reloads = 0;
  lastExit: ExitRecord | null = null;
  /** Why HAProxy is not running, when it is not. */
  error: string | null = null;

  constructor(options: MasterProcessOptions) {
    this.#o = options;
    this.#log = options.logger;
  }

  /** The current worker's pid (0 before the first start). */
  get workerPid(): number {
    return this.#workerPid;
  }

  /** Whether a master runs now. */
  get running(): boolean {
    return this.#child !== null && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** Writes the configuration and starts HAProxy with it; resolves once the worker answers. */
  async start(config: string): Promise<void> {
    await writeFileAtomic(this.#o.configPath, config);
    await this.#spawn();
    this.#lastGood = config;
  }

  /** Writes the configuration and reloads seamlessly; resolves once the new worker answers. */
  async reload(config: string): Promise<void> {
    if (this.#restarting) await this.#restarting;
    await this.#settle();
    await writeFileAtomic(this.#o.configPath, config);
    if (!this.running) {
      await this.#spawn();
      this.#lastGood = config;
      return;
    }
    const before = this.#workerPid;
    const mark = this.#recent.length;
    const child = this.#child as ChildProcess;
    const seen = this.#reloadsSeen;
    child.kill('SIGUSR2');
    // The master drops a SIGUSR2 that arrives while it is still finishing the previous reload
    // (seen on a loaded machine: the new worker answers before the master is done). It logs
    // "Reloading HAProxy" for every signal it takes: until it has, the signal is sent again.
    let lastSignal = Date.now();
    try {
      this.#workerPid = await this.#waitForWorker(before, () => {
        const alerts = this.#recent.slice(mark).filter(isConfigAlert);
        if (alerts.length > 0) return alerts.join('; ');
        if (this.#reloadsSeen === seen && Date.now() - lastSignal > RESIGNAL_MS && child.exitCode === null) {
          this.#log.warn('haproxy did not take the reload signal; sending it again');
          child.kill('SIGUSR2');
          lastSignal = Date.now();
        }
        return null;
      });
    } catch (err) {
      // The master keeps the old worker when the new configuration fails: put the file back.
      await writeFileAtomic(this.#o.configPath, this.#lastGood);
      throw err;
    }
    this.#lastGood = config;
    this.reloads++;
  }

  /**
   * Remembers the configuration HAProxy now runs through runtime-API changes. Rendering a
   * thousand VIPs and writing them costs more than the change itself, and the text is only
   * needed to start or reload HAProxy again: it is rendered then, or written a moment later
   * when no other change follows (so the file on disk catches up).
   */
  record(render: () => string): void {
    this.#pending = render;
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = null;
      if (this.#stopping) return;
      void this.#settle().catch((err: unknown) => this.#log.warn({ err: (err as Error).message }, 'could not write the running configuration'));
    }, RECORD_FLUSH_MS);
    this.#flushTimer.unref();
  }

  /** Renders and writes a recorded configuration, once; later callers wait for the same write. */
  #settle(): Promise<void> {
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
    this.#flushTimer = null;
    if (this.#flushing) return this.#flushing;
    if (!this.#pending) return Promise.resolve();
    const flushing = this.#flush();
    this.#flushing = flushing;
    const done = () => {
      if (this.#flushing === flushing) this.#flushing = null;
    };
    flushing.then(done, done);
    return flushing;
  }

  async #flush(): Promise<void> {
    while (this.#pending) {
      const render = this.#pending;
      this.#pending = null;
      const config = render();
      await writeFileAtomic(this.#o.configPath, config);
      this.#lastGood = config;
    }
  }

  /** Soft-stops HAProxy: listeners close, sessions get `graceMs`, then it is killed. */
  async stop(graceMs: number): Promise<void> {
    await this.#settle().catch(() => undefined);
    this.#stopping = true;
    const child = this.#child;
    if (!child || !this.running) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGUSR1');
    const timer = setTimeout(() => child.kill('SIGTERM'), graceMs);
    const hard = setTimeout(() => child.kill('SIGKILL'), graceMs + 2000);
    await exited;
    clearTimeout(timer);
    clearTimeout(hard);
  }

  async #spawn(): Promise<void> {
    await this.#stopOrphan();
    const args = ['-W', '-db', '-S', `${this.#o.masterSocket},mode,600`, '-p', this.#o.pidFile, '-f', this.#o.configPath];
    // The data plane lives and dies with the appliance (an HA peer must be able to take the
    // VIPs over when this node is killed): setpriv gives the master a parent-death signal,
    // which survives the master's re-exec at each reload.
    const child = existsSync(SETPRIV)
      ? spawn(SETPRIV, ['--pdeathsig', 'SIGTERM', '--', this.#o.binary, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(this.#o.binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    const onLine = (line: string) => {
      if (!line.trim()) return;
      this.#recent.push(line);
      if (line.includes('Reloading HAProxy')) this.#reloadsSeen++;
      if (this.#recent.length > 200) this.#recent.splice(0, 100);
      if (line.includes('[ALERT]')) this.#log.error({ haproxy: line }, 'haproxy alert');
      else if (line.includes('[WARNING]')) this.#log.warn({ haproxy: line }, 'haproxy warning');
      else this.#log.debug({ haproxy: line }, 'haproxy');
    };
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', onLine);
    createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', onLine);
    const exitedEarly = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(`haproxy exited with ${code ?? signal}`)));
    child.once('exit', (code, signal) => this.#onExit(child, code, signal));
    const mark = this.#recent.length;
    let exitReason: string | null = null;
    void exitedEarly.then((r) => (exitReason = r));
    this.#workerPid = await this.#waitForWorker(0, () => {
      if (exitReason === null) return null;
      const alerts = this.#recent.slice(mark).filter(isConfigAlert);
      return `${exitReason}${alerts.length ? `: ${alerts.join('; ')}` : ''}`;
    }).catch((err: unknown) => {
      if (exitReason === null) child.kill('SIGKILL');
      throw err;
    });
    this.#ready.add(child);
    this.error = null;
  }

  /** Stops a master a previous appliance process left running on this data dir. */
  async #stopOrphan(): Promise<void> {
    const pid = Number((await readFile(this.#o.pidFile, 'utf8').catch(() => '')).trim());
    if (!Number.isInteger(pid) || pid <= 1 || pid === this.#child?.pid) return;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (!cmdline.includes(this.#o.configPath)) return;
    this.#log.warn({ pid }, 'stopping an HAProxy master left by a previous run');
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      return;
    }
    for (let i = 0; i < 100 && existsSync(`/proc/${pid}`) && !(await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => ' Z ')).includes(') Z '); i++) await new Promise((r) => setTimeout(r, 10));
  }

  /** Polls the runtime socket until a worker other than `previous` answers. */
  async #waitForWorker(previous: number, failed: () => string | null): Promise<number> {
    const deadline = Date.now() + (this.#o.readyTimeoutMs ?? 15_000);
    for (;;) {
      const reason = failed();
      if (reason !== null) throw new Error(reason);
      const pid = await this.#o.runtime.pid().catch(() => 0);
      if (pid !== 0 && pid !== previous) return pid;
      if (Date.now() > deadline) throw new Error(`haproxy did not answer on its runtime socket in time${this.#recent.length ? ` (last: ${this.#recent.at(-1)})` : ''}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  #onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (child !== this.#child || this.#stopping || !this.#ready.has(child)) return;
    const at = Date.now();
    this.restarts++;
    this.lastExit = { at: new Date(at).toISOString(), code, signal, restoredInMs: null };
    this.error = `haproxy exited (${code ?? signal}); restarting with the last good configuration`;
    this.#log.error({ code, signal, restarts: this.restarts }, 'haproxy exited; restarting it with the last good configuration');
    const record = this.lastExit;
    this.#restarting = (async () => {
      for (let attempt = 0; !this.#stopping; attempt++) {
        try {
          await this.#settle().catch(() => undefined);
          await writeFileAtomic(this.#o.configPath, this.#lastGood);
          await this.#spawn();
          record.restoredInMs = Date.now() - at;
          this.#log.info({ restoredInMs: record.restoredInMs }, 'haproxy restarted');
          return;
        } catch (err) {
          this.error = `haproxy does not start: ${(err as Error).message}`;
          this.#log.error({ err, attempt }, 'haproxy restart failed');
          await new Promise((r) => setTimeout(r, Math.min(5000, 100 * 2 ** attempt)));
        }
      }
    })().finally(() => (this.#restarting = null));
  }
}
