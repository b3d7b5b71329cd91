// DICOM clients for tests and for people: C-ECHO with echoscu and C-STORE of a whole study
// with storescu, both from DCMTK, against any address and port (a backend or a VIP).
import { BackendError } from '../errors.js';
import { runTool } from './dcmtk.js';
import type { GeneratedStudy } from './study-generator.js';

/** Where a DICOM client connects, and as whom. */
export interface DicomTarget {
  address: string;
  port: number;
  /** Called AE title (default ANY-SCP: the backends accept any called AE title). */
  calledAeTitle?: string;
  /** Calling AE title (default LBDEMO-SCU). */
  callingAeTitle?: string;
  /** Seconds for connect, association and each DIMSE message (default 10). */
  timeoutSeconds?: number;
}

/** Outcome of a successful C-ECHO. */
export interface EchoResult {
  elapsedMs: number;
}

/** Outcome of a successful C-STORE of several files in one association. */
export interface StoreResult {
  files: number;
  bytes: number;
  elapsedMs: number;
}

function commonArgs(target: DicomTarget): string[] {
  const t = String(target.timeoutSeconds ?? 10);
  return ['-v', '-aet', target.callingAeTitle ?? 'LBDEMO-SCU', '-aec', target.calledAeTitle ?? 'ANY-SCP', '-to', t, '-ta', t, '-td', t];
}

// Success is read from the responses echoscu/storescu log, not from the exit code alone:
// storescu can exit 0 although a single C-STORE response reported a failure.
function successes(output: string, what: 'Echo' | 'Store'): number {
  return output.split('\n').filter((line) => line.includes(`Received ${what} Response (Success)`)).length;
}

/** Sends one C-ECHO with echoscu (throws BACKEND_DICOM_ECHO_FAILED). */
export async function dicomEcho(target: DicomTarget): Promise<EchoResult> {
  const r = await runTool('echoscu', [...commonArgs(target), target.address, String(target.port)]);
  const output = r.stdout + r.stderr;
  if (r.code !== 0 || successes(output, 'Echo') !== 1) {
    throw new BackendError('BACKEND_DICOM_ECHO_FAILED', `C-ECHO to ${target.address}:${target.port} failed (exit ${r.code})`, { exitCode: r.code, output });
  }
  return { elapsedMs: r.elapsedMs };
}

/** Sends every file of a study (or a list of files) in one association with storescu (throws BACKEND_DICOM_STORE_FAILED). */
export async function dicomStore(target: DicomTarget, study: GeneratedStudy | readonly string[]): Promise<StoreResult> {
  const files = Array.isArray(study) ? (study as readonly string[]) : (study as GeneratedStudy).files.map((f) => f.path);
  const bytes = Array.isArray(study) ? 0 : (study as GeneratedStudy).totalBytes;
  const r = await runTool('storescu', [...commonArgs(target), target.address, String(target.port), ...files], { timeoutMs: 300_000 });
  const output = r.stdout + r.stderr;
  const stored = successes(output, 'Store');
  if (r.code !== 0 || stored !== files.length) {
    throw new BackendError('BACKEND_DICOM_STORE_FAILED', `C-STORE to ${target.address}:${target.port}: ${stored} of ${files.length} files stored (exit ${r.code})`, { exitCode: r.code, stored, files: files.length, output });
  }
  return { files: files.length, bytes, elapsedMs: r.elapsedMs };
}
