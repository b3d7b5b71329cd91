// What the examples' tools read to reach a test appliance, and small process helpers.
import { execFile } from 'node:child_process';
import type { TestAppliance } from '../../helpers/appliance-process.js';

/** The LBAPPLIANCE_* variables the provider, the plugin and the SDK scripts read. */
export function applianceEnv(app: TestAppliance): Record<string, string> {
  return { LBAPPLIANCE_ENDPOINT: app.endpoint, LBAPPLIANCE_USERNAME: 'loadbalancer', LBAPPLIANCE_PASSWORD: app.password, LBAPPLIANCE_INSECURE: 'true' };
}

/** Output and exit code of a finished command. */
export interface RunResult {
  code: number;
  output: string;
}

/** Runs a command to its end (never rejects). */
export function run(file: string, args: string[], options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, timeout: options.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

/** Waits until the check returns a value other than undefined (polls every 200 ms). */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
