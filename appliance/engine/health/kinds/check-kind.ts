// What a check kind is: a way to start one probe of one server that ends by calling
// `finish` once (ok or not, with what it saw) and can be cancelled on timeout. Each kind is
// one module beside this one, registered once in ./registry.ts.
import type { ProbeSpec } from '../probe-spec.js';

/** Ends a probe: whether the server passed and what was seen; later calls are ignored. */
export type ProbeFinish = (ok: boolean, detail: string) => void;

/** A started probe. */
export interface ProbeRun {
  /** Stops it (its socket closed); called on timeout and after `finish`. */
  cancel(): void;
  /** What it is waiting for now, for the timeout's message (e.g. `the association answer`). */
  waitingFor?(): string;
}

/** One kind of health check. */
export interface CheckKind {
  /** Starts a probe of `spec`; may throw for a setting the request cannot carry (a failed check). */
  start(spec: ProbeSpec, finish: ProbeFinish): ProbeRun;
}
