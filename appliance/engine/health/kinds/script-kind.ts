// The `script` check kind: a program from the check scripts directory (../check-scripts.ts),
// run without a shell with the configured arguments and an environment holding only PATH
// and HAProxy's external-check variables (the VIP and the server). Exit status 0 is up;
// the first line it printed is the detail. On timeout the runner cancels the probe, which
// kills the program's whole process group, so a script that started children leaves none.
import { spawn } from 'node:child_process';
import { resolveCheckScript } from '../../../config/check-scripts.js';
import type { CheckKind } from './check-kind.js';

/** What of a script's output is kept for the detail. */
const OUTPUT_LIMIT = 4096;

function firstLine(out: Buffer): string {
  const line = out.toString('utf8').split(/\r?\n/).find((l) => l.trim() !== '') ?? '';
  return line.trim().slice(0, 200);
}

/** `script`: the program's exit status. */
export const scriptKind: CheckKind = {
  start(spec, finish) {
    const { path, args } = spec.script;
    if (path === null) {
      finish(false, 'no script.path set');
      return { cancel: () => undefined };
    }
    // Checked again at every run: the file or a link may have changed since the VIP was written.
    const resolved = resolveCheckScript(path);
    if (!resolved.ok) {
      finish(false, `script not run: ${resolved.reason}`);
      return { cancel: () => undefined };
    }
    const child = spawn(resolved.file, args, {
      shell: false,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: '/usr/local/bin:/usr/bin:/bin',
        HAPROXY_PROXY_NAME: spec.names.vip,
        HAPROXY_PROXY_ADDR: spec.names.vipAddress,
        HAPROXY_PROXY_PORT: String(spec.names.vipPort),
        HAPROXY_SERVER_NAME: spec.names.server,
        HAPROXY_SERVER_ADDR: spec.address,
        HAPROXY_SERVER_PORT: String(spec.port),
      },
    });
    let out: Buffer = Buffer.alloc(0);
    const keep = (chunk: Buffer) => {
      if (out.length < OUTPUT_LIMIT) out = Buffer.concat([out, chunk]).subarray(0, OUTPUT_LIMIT);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.once('error', (err: NodeJS.ErrnoException) => finish(false, `script not run: ${err.code ?? err.message}`));
    let lingering: NodeJS.Timeout | null = null;
    const verdict = (code: number | null, signal: NodeJS.Signals | null) => {
      if (lingering) clearTimeout(lingering);
      const said = firstLine(out);
      const how = code !== null ? `exit ${code}` : `killed by ${signal ?? 'a signal'}`;
      finish(code === 0, said ? `${how}: ${said}` : how);
    };
    // The output is read to its end ('close'), but a child the script left running may hold
    // the pipes: the exit status decides shortly after the exit whatever is still open.
    child.once('exit', (code, signal) => {
      lingering = setTimeout(() => verdict(code, signal), 200);
    });
    child.once('close', verdict);
    return {
      cancel: () => {
        if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          child.kill('SIGKILL');
        }
      },
      waitingFor: () => 'the script to exit',
    };
  },
};
