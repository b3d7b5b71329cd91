// A test-owned rsyslogd (Debian's rsyslog): its own configuration file, pid file and work
// directory in a temporary directory, imudp/imtcp inputs (and imtcp over TLS with the gtls
// driver) on the test's loopback addresses, and every message it receives written as one
// JSON object a line (rsyslog's own parse of the RFC 5424 fields) to a file the test reads.
// stop() and start() again keep the directory and the file: a collector that restarts.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { needProgram } from './programs.js';

/** One received message, as rsyslog parsed it. */
export interface ReceivedSyslog {
  pri: string;
  facility: string;
  severity: string;
  hostname: string;
  app: string;
  procid: string;
  msgid: string;
  sd: string;
  msg: string;
  input: string;
}

/** What the collector listens on. */
export interface RsyslogOptions {
  address: string;
  udpPort?: number;
  tcpPort?: number;
  /** TLS input (gtls driver): port, the server certificate and key, the CA file. */
  tls?: { port: number; certFile: string; keyFile: string; caFile: string };
}

/** The gtls driver module of Debian's rsyslog-gnutls. */
export const GTLS_MODULE = '/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so';

/** A running test collector. */
export interface TestRsyslog {
  dir: string;
  /** Every message received so far (across restarts). */
  messages(): Promise<ReceivedSyslog[]>;
  stop(): Promise<void>;
  start(): Promise<void>;
  dispose(): Promise<void>;
}

function config(dir: string, o: RsyslogOptions): string {
  const fields = ['pri', 'syslogfacility-text:facility', 'syslogseverity-text:severity', 'hostname', 'app-name:app', 'procid', 'msgid', 'structured-data:sd', 'msg', 'inputname:input'];
  const tls = o.tls
    ? `global(defaultNetstreamDriverCAFile="${o.tls.caFile}" defaultNetstreamDriverCertFile="${o.tls.certFile}" defaultNetstreamDriverKeyFile="${o.tls.keyFile}")\n`
    : '';
  return `global(workDirectory="${dir}/work" maxMessageSize="64k")
${tls}module(load="imudp")
module(load="imtcp" maxSessions="100"${o.tls ? ' streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon"' : ''})
${o.udpPort ? `input(type="imudp" address="${o.address}" port="${o.udpPort}")` : ''}
${o.tcpPort ? `input(type="imtcp" address="${o.address}" port="${o.tcpPort}"${o.tls ? ' streamDriver.mode="0"' : ''})` : ''}
${o.tls ? `input(type="imtcp" address="${o.address}" port="${o.tls.port}" streamDriver.mode="1" streamDriver.authMode="anon")` : ''}
template(name="lbjson" type="list" option.jsonf="on") {
${fields.map((f) => { const [name, out = name] = f.split(':'); return `  property(outname="${out}" name="${name}" format="jsonf")`; }).join('\n')}
}
action(type="omfile" file="${dir}/received.log" template="lbjson" flushOnTXEnd="on")
`;
}

/** Starts rsyslogd with its own configuration; resolves once its inputs listen. */
export async function startRsyslog(options: RsyslogOptions): Promise<TestRsyslog> {
  const rsyslogd = needProgram('rsyslogd');
  const dir = await mkdtemp(join(tmpdir(), 'lb-rsyslog-'));
  await rm(join(dir, 'work'), { recursive: true, force: true });
  await (await import('node:fs/promises')).mkdir(join(dir, 'work'));
  const conf = join(dir, 'rsyslog.conf');
  await writeFile(conf, config(dir, options));
  let child: ChildProcess | null = null;
  const output: string[] = [];
  const start = async () => {
    child = spawn(rsyslogd, ['-n', '-f', conf, '-i', join(dir, 'rsyslogd.pid')], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (d: Buffer) => output.push(d.toString()));
    child.stderr?.on('data', (d: Buffer) => output.push(d.toString()));
    // Listening once a TCP connect succeeds (or, for UDP only, once the pid file is written).
    const { connect } = await import('node:net');
    const port = options.tcpPort ?? options.tls?.port;
    const end = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`rsyslogd exited: ${output.join('')}`);
      const ok = port
        ? await new Promise<boolean>((resolve) => {
            const s = connect(port, options.address, () => { s.destroy(); resolve(true); });
            s.on('error', () => resolve(false));
          })
        : existsSync(join(dir, 'rsyslogd.pid'));
      if (ok) return;
      if (Date.now() > end) throw new Error(`rsyslogd did not listen in 30 s: ${output.join('')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const stop = async () => {
    const c = child as ChildProcess | null;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await exited;
    child = null;
  };
  await start();
  return {
    dir,
    async messages() {
      const text = await readFile(join(dir, 'received.log'), 'utf8').catch(() => '');
      return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as ReceivedSyslog);
    },
    stop,
    start,
    async dispose() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
