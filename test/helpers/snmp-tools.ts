// Debian's net-snmp tools as the network operations centre uses them against the appliance:
// snmpget/snmpwalk/snmpset with LBAPPLIANCE-MIB loaded (so the output names its objects),
// and a test-owned snmptrapd (its own configuration, persistent directory and log file in a
// temporary directory, on a loopback address of the test's range) receiving the traps and
// informs. Debian ships no IETF MIB modules, so test/fixtures/mibs holds minimal stand-ins
// for the three LBAPPLIANCE-MIB imports from; the tools read no configuration of the host.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { needProgram } from './programs.js';
import { ROOT } from './paths.js';

const run = promisify(execFile);

/** -M: the MIB stand-ins, then the repository's MIB. */
export const MIB_DIRS = `${join(ROOT, 'test', 'fixtures', 'mibs')}:${join(ROOT, 'mibs')}`;
const MIB_ARGS = ['-M', MIB_DIRS, '-m', 'LBAPPLIANCE-MIB'];

/** How a manager authenticates. */
export type SnmpCredentials = { community: string } | { user: string; authPassword: string; privPassword: string; authProtocol?: 'SHA' | 'SHA-256' | 'SHA-512' };

function credentialArgs(c: SnmpCredentials): string[] {
  if ('community' in c) return ['-v2c', '-c', c.community];
  return ['-v3', '-l', 'authPriv', '-u', c.user, '-a', c.authProtocol ?? 'SHA', '-A', c.authPassword, '-x', 'AES', '-X', c.privPassword];
}

/** The outcome of one tool run. */
export interface SnmpToolResult {
  ok: boolean;
  stdout: string;
  stderr: string;
}

let persistent: Promise<string> | null = null;
/** A private persistent directory and no configuration of the host (snmp.conf). */
async function toolEnv(): Promise<NodeJS.ProcessEnv> {
  persistent ??= mkdtemp(join(tmpdir(), 'lb-snmp-tools-'));
  const dir = await persistent;
  return { ...process.env, SNMP_PERSISTENT_DIR: dir, SNMPCONFPATH: dir, MIBS: '', MIBDIRS: MIB_DIRS };
}

/** Runs snmpget, snmpwalk or snmpset (1 retry, 2 s timeout) and returns its output. */
export async function snmpTool(tool: 'snmpget' | 'snmpwalk' | 'snmpset', target: string, credentials: SnmpCredentials, args: string[]): Promise<SnmpToolResult> {
  const program = needProgram(tool);
  try {
    const { stdout, stderr } = await run(program, [...credentialArgs(credentials), ...MIB_ARGS, '-t', '2', '-r', '1', target, ...args], { env: await toolEnv(), timeout: 30_000 });
    return { ok: true, stdout, stderr };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { ok: false, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** A running snmptrapd of the test. */
export interface TrapReceiver {
  /** `udp:<address>:<port>` */
  address: string;
  port: number;
  /** Every notification received so far, one string each (header line and varbinds). */
  notifications(): Promise<string[]>;
  stop(): Promise<void>;
  start(): Promise<void>;
  dispose(): Promise<void>;
}

/**
 * Starts snmptrapd on `address:port`, logging (-Lf) every notification it accepts: v2c traps
 * with `community`, v3 informs from `user` (authPriv, the same passwords as the appliance's).
 * Each entry starts with `%P` (the PDU type, version and community or user).
 */
export async function startTrapReceiver(options: { address: string; port: number; community: string; user: { name: string; authPassword: string; privPassword: string } }): Promise<TrapReceiver> {
  const program = needProgram('snmptrapd');
  const dir = await mkdtemp(join(tmpdir(), 'lb-snmptrapd-'));
  const log = join(dir, 'traps.log');
  await mkdir(join(dir, 'persist'), { recursive: true });
  const conf = join(dir, 'snmptrapd.conf');
  await writeFile(
    conf,
    [
      `authCommunity log ${options.community}`,
      `createUser ${options.user.name} SHA ${options.user.authPassword} AES ${options.user.privPassword}`,
      `authUser log ${options.user.name} priv`,
      '',
    ].join('\n'),
  );
  let child: ChildProcess | null = null;
  const output: string[] = [];
  const start = async () => {
    child = spawn(program, ['-f', '-C', '-c', conf, '-Lf', log, '-F', '@@ %P\n%v\n', ...MIB_ARGS, `udp:${options.address}:${options.port}`], {
      env: { ...process.env, SNMP_PERSISTENT_DIR: join(dir, 'persist'), SNMPCONFPATH: dir, MIBS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (d: Buffer) => output.push(d.toString()));
    child.stderr?.on('data', (d: Buffer) => output.push(d.toString()));
    // Listening once it logged its banner.
    const end = Date.now() + 15_000;
    for (;;) {
      const text = await readFile(log, 'utf8').catch(() => '');
      if (text.includes('NET-SNMP version')) return;
      if (child.exitCode !== null) throw new Error(`snmptrapd exited with ${child.exitCode}: ${output.join('')}`);
      if (Date.now() > end) throw new Error(`snmptrapd did not start: ${output.join('')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const stop = async () => {
    const c = child as ChildProcess | null;
    child = null;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await exited;
  };
  await start();
  return {
    address: options.address,
    port: options.port,
    async notifications() {
      const text = await readFile(log, 'utf8').catch(() => '');
      return text.split('@@ ').slice(1).map((s) => s.trim());
    },
    stop,
    async start() {
      // A restart keeps the log: the banner check must see a new one.
      await writeFile(log, '');
      await start();
    },
    async dispose() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
