// The `hl7` check kind: one HL7 v2 message over MLLP, expecting an accepting ACK (../hl7-probe.ts).
import { hl7Probe } from '../hl7-probe.js';
import type { CheckKind } from './check-kind.js';

/** `hl7`: the check's message (or a minimal MSH) and an AA/CA ACK naming its control id. */
export const hl7Kind: CheckKind = {
  start(spec, finish) {
    const run = hl7Probe({ address: spec.address, port: spec.port, message: spec.hl7.message }, (o) => finish(o.ok, o.detail));
    return { cancel: run.cancel, waitingFor: run.waitingFor };
  },
};
