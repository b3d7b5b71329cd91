// One health check of one real server, whatever its kind: the kind's module (./kinds/, one
// per contract type, registered in ./kinds/registry.ts) starts the probe, and this runner
// adds what every kind shares: the timeout (naming what the probe was waiting for), one
// verdict, and the rule that a probe never throws and never rejects. Whatever goes wrong
// (even a setting the request cannot carry) is a failed check of that server, with the
// reason as its detail, never the appliance's end (issue 19). Each probe opens its own
// connection and closes it, so a check never shares a socket with client traffic.
import type { CheckResult } from '../types.js';
import type { ProbeSpec } from './probe-spec.js';
import { CHECK_KINDS } from './kinds/registry.js';

function result(started: number, ok: boolean, detail: string): CheckResult {
  return { at: new Date().toISOString(), ok, durationMs: Math.round((performance.now() - started) * 100) / 100, detail };
}

/** Runs one probe; never rejects. */
export function runProbe(spec: ProbeSpec): Promise<CheckResult> {
  const started = performance.now();
  return new Promise<CheckResult>((resolve) => {
    let done = false;
    let cleanup: () => void = () => undefined;
    const finish = (ok: boolean, detail: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      try {
        cleanup();
      } catch {
        // the check is over either way
      }
      resolve(result(started, ok, detail));
    };
    let waitingFor: () => string = () => '';
    const timer = setTimeout(() => {
      const what = waitingFor();
      finish(false, `timeout after ${spec.timeoutMs} ms${what ? ` waiting for ${what}` : ''}`);
    }, spec.timeoutMs);
    try {
      const run = CHECK_KINDS[spec.type].start(spec, finish);
      cleanup = () => run.cancel();
      if (run.waitingFor) waitingFor = () => run.waitingFor?.() ?? '';
    } catch (err) {
      // A setting the request cannot carry (a path or Host node refuses): the server's check fails, saying why.
      finish(false, `check not sent: ${(err as Error).message}`);
    }
  });
}
