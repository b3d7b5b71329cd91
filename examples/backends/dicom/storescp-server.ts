// A DICOM storage server (C-STORE and C-ECHO SCP) that is DCMTK's storescp, on its own
// loopback address and port.
//
// storescp can only listen on the wildcard address (0.0.0.0:port). Two servers on
// 127.0.40.6:104 and 127.0.40.7:104 could not both run that way, and neither could the
// appliance's VIP on 127.0.60.100:104 beside them. So the supervisor binds the exact address
// itself and hands each accepted connection to a new `storescp --inetd` process, the way
// inetd runs it: the TCP socket becomes the process's stdin/stdout, and storescp speaks the
// whole association on it directly. No byte passes through Node. One process per
// association is what storescp's own --fork mode does too.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { BackendError } from '../errors.js';
import { ListeningService, type ServiceIdentity } from '../service.js';
import { runTool } from './dcmtk.js';

/** How to run one DICOM storage server. */
export interface DicomServerOptions extends ServiceIdentity {
  /** The server's own AE title (default STORESCP). It accepts any called AE title. */
  aeTitle?: string;
  /** Directory for this server: received files go to `received/`, storescp's log to `storescp.log`. */
  workDir: string;
  /** Refuse every association (storescp --refuse): a PACS whose port is open but that takes nothing. */
  refuseAssociations?: boolean;
}

// storescp's options, and why:
// --inetd        the accepted socket is stdin/stdout (see the header comment)
// +B             --bit-preserving: write the data set exactly as it arrived, so the received
//                file can be compared byte for byte with the sent one (verify.ts)
// -od            --output-directory: this server's own directory
// -dhl           no reverse lookups of loopback peers
// -ta/-td        bound how long a silent peer can hold a process
// -lc            log to a file: in inetd mode storescp's stdout/stderr are the socket
// --refuse       (refuseAssociations) reject every association request
function storescpArgs(o: DicomServerOptions, receivedDir: string, logConfig: string): string[] {
  const refuse = o.refuseAssociations ? ['--refuse'] : [];
  return ['--inetd', '-aet', o.aeTitle ?? 'STORESCP', ...refuse, '+B', '-od', receivedDir, '-dhl', '-ta', '30', '-td', '60', '-lc', logConfig];
}

function logConfigText(logFile: string): string {
  return [
    'log4cplus.rootLogger = INFO, logfile',
    'log4cplus.appender.logfile = log4cplus::FileAppender',
    `log4cplus.appender.logfile.File = ${logFile}`,
    'log4cplus.appender.logfile.Append = true',
    'log4cplus.appender.logfile.ImmediateFlush = true',
    'log4cplus.appender.logfile.layout = log4cplus::PatternLayout',
    'log4cplus.appender.logfile.layout.ConversionPattern = %D{%Y-%m-%d %H:%M:%S.%q} %5p: %m%n',
    '',
  ].join('\n');
}

/** A storescp-backed DICOM server on one address and port. */
export class DicomServer extends ListeningService {
  /** Always 'dicom'. */
  readonly kind = 'dicom' as const;
  /** Where received files are written. */
  readonly receivedDir: string;
  /** storescp's log file (all associations, appended). */
  readonly logFile: string;
  readonly #options: DicomServerOptions;
  readonly #children = new Set<ChildProcess>();
  #associations = 0;
  #checked = false;

  constructor(options: DicomServerOptions) {
    // pauseOnConnect: Node must not read a byte of the association; storescp reads it all.
    super(options, createServer({ pauseOnConnect: true }));
    this.#options = options;
    this.receivedDir = join(options.workDir, 'received');
    this.logFile = join(options.workDir, 'storescp.log');
    this.listener.server.on('connection', (socket: Socket) => this.#handOver(socket));
  }

  /** Associations accepted since start (each one a storescp process). */
  get associations(): number {
    return this.#associations;
  }

  /** PIDs of the storescp processes serving open associations now. */
  get pids(): number[] {
    return [...this.#children].map((c) => c.pid).filter((p): p is number => p !== undefined);
  }

  /** Checks storescp is installed, prepares the directories and binds the address. */
  override async start(): Promise<void> {
    if (this.running) return;
    if (!this.#checked) {
      const v = await runTool('storescp', ['--version'], { timeoutMs: 10_000 });
      if (v.code !== 0) throw new BackendError('BACKEND_TOOL_MISSING', `storescp --version exited with ${v.code}`, { stderr: v.stderr });
      this.#checked = true;
    }
    await mkdir(this.receivedDir, { recursive: true });
    await writeFile(join(this.#options.workDir, 'storescp-log.cfg'), logConfigText(this.logFile));
    await super.start();
  }

  /** Stops accepting and ends every storescp process (SIGTERM, then SIGKILL after 3 s). */
  override async stop(): Promise<void> {
    await super.stop();
    await Promise.all([...this.#children].map((child) => endChild(child)));
  }

  /** The DICOM files received so far (paths, sorted). */
  async receivedFiles(): Promise<string[]> {
    const names = await readdir(this.receivedDir).catch(() => [] as string[]);
    return names.sort().map((n) => join(this.receivedDir, n));
  }

  /** Deletes every received file. */
  async clearReceived(): Promise<void> {
    await rm(this.receivedDir, { recursive: true, force: true });
    await mkdir(this.receivedDir, { recursive: true });
  }

  #handOver(socket: Socket): void {
    // start() checked that storescp runs; a spawn failure now (e.g. out of processes) only
    // loses this association, as a refused connection would.
    const child = spawn('storescp', storescpArgs(this.#options, this.receivedDir, join(this.#options.workDir, 'storescp-log.cfg')), { stdio: [socket, socket, 'ignore'] });
    this.#associations++;
    this.#children.add(child);
    child.once('exit', () => this.#children.delete(child));
    child.once('error', () => this.#children.delete(child));
    // The child has its own copy of the socket now; closing ours does not end the connection.
    socket.destroy();
  }
}

async function endChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await exited;
  clearTimeout(timer);
}
