// The `dicom` check kind: a DICOM Verification (C-ECHO) association (../dicom-echo.ts).
import { dicomEcho } from '../dicom-echo.js';
import type { CheckKind } from './check-kind.js';

/** `dicom`: C-ECHO with the check's AE titles, optionally over TLS. */
export const dicomKind: CheckKind = {
  start(spec, finish) {
    const run = dicomEcho({ address: spec.address, port: spec.port, ...spec.dicom }, (o) => finish(o.ok, o.detail));
    return { cancel: run.cancel, waitingFor: run.waitingFor };
  },
};
