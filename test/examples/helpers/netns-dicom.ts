// DICOM across network namespaces, for the examples that put a VIP on layer 4: DCMTK's
// `storescp` run inside a real server's namespace (listening on the wildcard address, so it
// takes associations for the server's own address and for a direct-routing VIP it holds on
// `lo`), with its debug log kept, which names each association's peer address
// (`Association Received: ADDR`); and `storescu` run inside a client's namespace (a modality
// of its own), so the address the server logs is the modality's, not this test's.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { compareReceivedStudy, generateStudy } from '../../../examples/backends/index.js';
import { needProgram } from '../../helpers/programs.js';
import { run } from './env.js';

function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port, timeout: 2000 }, () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}

/** A storescp in a namespace. */
export interface NamespacedStorescp {
  label: string;
  receivedDir: string;
  /** Every line storescp logged so far. */
  log: string[];
  /** The peer addresses of the associations it received, in order (from the log). */
  peers(): string[];
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** A storescp (AE title `aeTitle`) on `port` in namespace `ns`, whose own `address` this process reaches; received files under `workDir`. */
export function namespacedStorescp(label: string, ns: string, address: string, port: number, aeTitle: string, workDir: string): NamespacedStorescp {
  needProgram('storescp');
  needProgram('ip');
  const receivedDir = join(workDir, 'received');
  let child: ChildProcess | null = null;
  const log: string[] = [];
  return {
    label,
    receivedDir,
    log,
    peers: () => log.flatMap((l) => /Association Received: (\S+)/.exec(l)?.slice(1) ?? []),
    async start() {
      await mkdir(receivedDir, { recursive: true });
      // -d: the debug log names each peer; +B: files exactly as sent; --fork: a check's
      // association never waits behind a store; -dhl: no reverse lookups; -ta/-td bound a silent peer.
      const c = spawn('ip', ['netns', 'exec', ns, 'storescp', '-d', '--fork', '-aet', aeTitle, '+B', '-od', receivedDir, '-dhl', '-ta', '30', '-td', '60', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
      child = c;
      let buffer = '';
      const take = (chunk: Buffer) => {
        buffer += chunk.toString('utf8');
        const lines = buffer.split('\n');
        buffer = lines.pop() ?? '';
        log.push(...lines);
      };
      c.stdout!.on('data', take);
      c.stderr!.on('data', take);
      // Listening once its port accepts a connection (this process is on the servers' segment).
      const until = Date.now() + 20_000;
      for (;;) {
        if (c.exitCode !== null) throw new Error(`storescp in ${ns} exited with ${c.exitCode}:\n${log.join('\n')}`);
        if (await accepts(address, port)) return;
        if (Date.now() > until) throw new Error(`storescp in ${ns} does not listen on ${address}:${port}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async stop() {
      const c = child;
      child = null;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
      c.kill('SIGTERM');
      const timer = setTimeout(() => c.kill('SIGKILL'), 3_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Where a study stored from a namespace went, and the peer its server logged for that association. */
export interface NamespacedStoreOutcome {
  label: string;
  files: number;
  /** Peer addresses the receiving server logged while the study was being sent. */
  peers: string[];
}

/** Stores a fresh study from namespace `ns` (AE title `callingAeTitle`) through `address:port`; exactly one of `servers` must hold all of it, byte for byte. */
export async function storeStudyFromNamespace(ns: string, address: string, port: number, servers: readonly NamespacedStorescp[], callingAeTitle = 'MODALITY', slices = 8): Promise<NamespacedStoreOutcome> {
  needProgram('storescu');
  const dir = await mkdtemp(join(tmpdir(), 'lbappliance-ns-study-'));
  try {
    const study = await generateStudy({ dir, slices });
    const before = servers.map((s) => s.log.length);
    const r = await run('ip', ['netns', 'exec', ns, 'storescu', '-v', '-aet', callingAeTitle, '-aec', 'ANY-SCP', '-to', '20', '-ta', '20', '-td', '20', address, String(port), ...study.files.map((f) => f.path)], { timeoutMs: 180_000 });
    const stored = r.output.split('\n').filter((l) => l.includes('Received Store Response (Success)')).length;
    if (r.code !== 0 || stored !== study.files.length) throw new Error(`storescu from ${ns} to ${address}:${port}: ${stored} of ${study.files.length} files stored (exit ${r.code})\n${r.output.slice(-3000)}`);
    const found: NamespacedStorescp[] = [];
    for (const s of servers) {
      const c = await compareReceivedStudy(study, s.receivedDir).catch(() => undefined);
      if (!c || c.intact === 0) continue;
      if (!c.complete) throw new Error(`${s.label} received ${c.intact} of ${c.expected} instances intact:\n${c.problems.join('\n')}`);
      found.push(s);
    }
    if (found.length !== 1) throw new Error(`the study arrived complete on ${found.length} servers (${found.map((s) => s.label).join(', ')}), expected exactly one`);
    const server = found[0]!;
    const newLines = server.log.slice(before[servers.indexOf(server)]);
    const peers = newLines.flatMap((l) => /Association Received: (\S+)/.exec(l)?.slice(1) ?? []);
    return { label: server.label, files: stored, peers };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
