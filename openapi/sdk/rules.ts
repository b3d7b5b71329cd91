// The rules on a single object that the contract's schemas cannot say, written once: the
// appliance enforces them on every write (appliance/config/rules.ts), the Terraform provider
// and the Pulumi plugin check them at plan/preview time (provider/resources), and SDK users
// may call them before a write. Each problem names the field as a JSON Pointer into the
// request body and carries the appliance's own code, so plan and apply say the same thing.
// A field that is `undefined` is not known yet (a plan's unknown): rules that need it wait.
import { setFlagsFromString } from 'node:v8';

/** The appliance's titles of the rules' codes (appliance/errors.ts says the same). */
export const RULE_TITLES: Record<RuleProblem['code'], string> = {
  LB_CERTIFICATE_REQUIRED: 'A certificate is required',
  LB_INVALID_COMBINATION: 'Settings that cannot be combined',
  LB_UNSAFE_PATTERN: 'A regular expression that cannot run in linear time',
};

/** One broken rule. */
export interface RuleProblem {
  /** The appliance's stable code (docs/errors.md). */
  code: 'LB_INVALID_COMBINATION' | 'LB_CERTIFICATE_REQUIRED' | 'LB_UNSAFE_PATTERN';
  /** JSON Pointer into the object's request body, e.g. `/persistence/mode`. */
  field: string;
  message: string;
}

/** What the virtual service rules look at; `undefined` is unknown, `null` is unset. */
export interface VirtualServiceFacts {
  protocol?: string;
  certificateId?: string | null;
  forceHttps?: boolean | null;
  persistence?: { mode?: string | null } | null;
  healthCheck?: { bodyMatch?: { kind?: string | null; value?: string | null } | null } | null;
}

let linearEngine = false;

/**
 * The regular expression of a body match, compiled for V8's linear-time engine (the `l`
 * flag): its run time grows with the body's length only, whatever the pattern, so a check
 * cannot hang the appliance on a catastrophic pattern. Throws a SyntaxError for a pattern
 * that is not ECMAScript or that needs backtracking (backreferences, lookaround).
 */
export function linearRegExp(pattern: string): RegExp {
  if (!linearEngine) {
    setFlagsFromString('--enable-experimental-regexp-engine');
    linearEngine = true;
  }
  return new RegExp(pattern, 'l');
}

/** Why `pattern` cannot be a body match's regular expression, or null when it can. */
export function unsafePatternReason(pattern: string): string | null {
  try {
    linearRegExp(pattern);
    return null;
  } catch (err) {
    return (err as Error).message.replace(/^Invalid regular expression: /, '');
  }
}

/** The rules a virtual service breaks, in the order the appliance reports them (first wins). */
export function virtualServiceProblems(vs: VirtualServiceFacts): RuleProblem[] {
  const problems: RuleProblem[] = [];
  const { protocol, certificateId } = vs;
  const forceHttps = vs.forceHttps === null ? false : vs.forceHttps;
  const mode = vs.persistence === null ? 'none' : vs.persistence === undefined ? undefined : vs.persistence.mode === null ? 'none' : vs.persistence.mode;
  if (protocol === 'http2' && certificateId === null) {
    problems.push({ code: 'LB_CERTIFICATE_REQUIRED', field: '/certificateId', message: 'an http2 virtual service terminates TLS and needs a certificateId' });
  }
  if (protocol === 'tcp' && mode === 'http-cookie') {
    problems.push({ code: 'LB_INVALID_COMBINATION', field: '/persistence/mode', message: 'http-cookie persistence needs protocol http or http2; use source-ip for tcp' });
  }
  if (forceHttps === true && protocol !== undefined && protocol !== 'http') {
    problems.push({ code: 'LB_INVALID_COMBINATION', field: '/forceHttps', message: 'forceHttps redirects plain HTTP and needs protocol http' });
  }
  const match = vs.healthCheck === null ? null : vs.healthCheck?.bodyMatch;
  const kind = match === null ? 'none' : match?.kind === null ? 'none' : match?.kind;
  const value = match === null ? '' : match?.value === null ? '' : match?.value;
  if (kind !== undefined && kind !== 'none' && value === '') {
    problems.push({ code: 'LB_INVALID_COMBINATION', field: '/healthCheck/bodyMatch/value', message: `a ${kind} body match needs a value` });
  }
  if (kind === 'regex' && typeof value === 'string' && value !== '') {
    const why = unsafePatternReason(value);
    if (why) problems.push({ code: 'LB_UNSAFE_PATTERN', field: '/healthCheck/bodyMatch/value', message: `the body match must run in linear time (no backreferences or lookaround): ${why}` });
  }
  if (forceHttps === true && typeof certificateId === 'string') {
    problems.push({ code: 'LB_INVALID_COMBINATION', field: '/forceHttps', message: 'forceHttps on a VIP that already terminates TLS would redirect to itself' });
  }
  return problems;
}

const LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/**
 * A DNS host name (RFC 1123 2.1, with RFC 3696 2's rule that the last label is not all
 * digits): `pacs1.hospital.example` is one, `300.1.1.1` is not (it is a mistyped address,
 * and a resolver would look it up as a name). One trailing dot is allowed.
 */
export function isHostName(value: string): boolean {
  const name = value.endsWith('.') ? value.slice(0, -1) : value;
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split('.');
  if (!labels.every((l) => LABEL.test(l))) return false;
  return !/^\d+$/.test(labels[labels.length - 1] as string);
}
