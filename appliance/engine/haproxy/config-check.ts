// `haproxy -c`: the candidate configuration, with its certificate files, is written to a
// scratch directory of its own and checked by the same binary that will run it. Nothing the
// running HAProxy reads is touched; a refusal names the cause in HAProxy's own words.
import { execFile } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../config/atomic-file.js';
import type { ConfigSnapshot } from '../types.js';
import { certFiles, renderConfig, type RenderSettings } from './config-render.js';

/** HAProxy's verdict on a candidate. */
export interface CheckVerdict {
  ok: boolean;
  /** HAProxy's alert lines when it refuses. */
  alerts: string[];
}

function run(binary: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(binary, args, { timeout: 30_000, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as NodeJS.ErrnoException & { code?: unknown }).code === 'number' ? ((err as unknown as { code: number }).code) : 1) : 0;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

/** Writes the candidate under `dir` and runs `haproxy -c` on it. */
export async function checkCandidate(binary: string, dir: string, snapshot: ConfigSnapshot, settings: RenderSettings): Promise<CheckVerdict> {
  await rm(dir, { recursive: true, force: true });
  const certDir = join(dir, 'certs');
  await mkdir(certDir, { recursive: true, mode: 0o700 });
  const candidate: RenderSettings = { ...settings, certDir };
  for (const vs of snapshot.virtualServices) for (const f of certFiles(vs, certDir)) await writeFileAtomic(f.path, f.content, 0o600);
  const file = join(dir, 'haproxy.cfg');
  await writeFileAtomic(file, renderConfig(snapshot, candidate), 0o600);
  const { code, output } = await run(binary, ['-c', '-f', file]);
  const alerts = output
    .split('\n')
    .filter((l) => l.includes('[ALERT]'))
    .map((l) => l.replace(/^\[ALERT\]\s*(\(\d+\)\s*)?:\s*/, '').trim());
  return { ok: code === 0, alerts: code === 0 ? [] : alerts.length > 0 ? alerts : [output.trim() || `haproxy -c exited with ${code}`] };
}
