// Runs DCMTK's command-line tools. They are the real thing a PACS speaks to, so the backends
// use them as they are instead of reimplementing DICOM: this module only spawns them, bounds
// their time and turns "not installed" into a typed error.
import { spawn } from 'node:child_process';
import { BackendError } from '../errors.js';

/** What a finished tool run printed and how it ended. */
export interface ToolResult {
  /** Exit code, or null when a signal ended it. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall time of the run in milliseconds. */
  elapsedMs: number;
}

/** Options of one tool run. */
export interface RunToolOptions {
  /** Kill the tool (SIGKILL) after this many milliseconds (default 120 000). */
  timeoutMs?: number;
  cwd?: string;
}

/** Runs a DCMTK tool to completion; throws BACKEND_TOOL_MISSING when it is not installed. */
export function runTool(command: string, args: readonly string[], options: RunToolOptions = {}): Promise<ToolResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 120_000);
    child.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(toolError(command, err));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) {
        reject(new BackendError('BACKEND_TIMEOUT', `${command} did not finish in ${options.timeoutMs ?? 120_000} ms`, { command, args, stdout, stderr }));
        return;
      }
      resolve({ code, signal, stdout, stderr, elapsedMs: Date.now() - started });
    });
  });
}

/** The typed error for a failed spawn: missing tools get their own code and the package name. */
export function toolError(command: string, err: NodeJS.ErrnoException): BackendError {
  if (err.code === 'ENOENT') {
    return new BackendError('BACKEND_TOOL_MISSING', `${command} is not installed (Debian package dcmtk: apt-get install dcmtk)`, { command }, { cause: err });
  }
  return new BackendError('BACKEND_TOOL_MISSING', `${command} could not be started: ${err.message}`, { command }, { cause: err });
}
