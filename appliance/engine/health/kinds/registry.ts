// The one place a check kind is registered: its contract name and the module that runs it.
// A new kind is a module in this folder and one line here (and its settings in the contract).
import type { CheckKindName } from '../probe-spec.js';
import type { CheckKind } from './check-kind.js';
import { connectKind, tcpKind } from './stream-probe.js';
import { httpKind, httpsKind } from './http-probe.js';
import { dicomKind } from './dicom-kind.js';
import { hl7Kind } from './hl7-kind.js';
import { scriptKind } from './script-kind.js';

/** Every kind the appliance runs itself, by the contract's `healthCheck.type`. */
export const CHECK_KINDS: Readonly<Record<CheckKindName, CheckKind>> = {
  connect: connectKind,
  tcp: tcpKind,
  http: httpKind,
  https: httpsKind,
  dicom: dicomKind,
  hl7: hl7Kind,
  script: scriptKind,
};
