// The rules on a single object that the contract's schemas cannot say, written once: the
// appliance enforces them on every write (appliance/config/rules.ts), the Terraform provider
// and the Pulumi plugin check them at plan/preview time (provider/resources), and SDK users
// may call them before a write. Each problem names the field as a JSON Pointer into the
// request body and carries the appliance's own code, so plan and apply say the same thing.
// A field that is `undefined` is not known yet (a plan's unknown): rules that need it wait.

/** The appliance's titles of the rules' codes (appliance/errors.ts says the same). */
export const RULE_TITLES: Record<RuleProblem['code'], string> = {
  LB_CERTIFICATE_REQUIRED: 'A certificate is required',
  LB_INVALID_COMBINATION: 'Settings that cannot be combined',
};

/** One broken rule. */
export interface RuleProblem {
  /** The appliance's stable code (docs/errors.md). */
  code: 'LB_INVALID_COMBINATION' | 'LB_CERTIFICATE_REQUIRED';
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
  fallback?: { mode?: string | null; address?: string | null; port?: number | null } | null;
  tls?: {
    minVersion?: string | null;
    ciphers?: string | null;
    cipherSuites?: string | null;
    hstsMaxAge?: number | null;
    hstsIncludeSubDomains?: boolean | null;
    sniCertificates?: readonly ({ serverName?: string | null } | undefined)[] | null;
  } | null;
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
  if (forceHttps === true && typeof certificateId === 'string') {
    problems.push({ code: 'LB_INVALID_COMBINATION', field: '/forceHttps', message: 'forceHttps on a VIP that already terminates TLS would redirect to itself' });
  }
  problems.push(...fallbackProblems(protocol, vs.fallback));
  problems.push(...tlsProblems(protocol, certificateId, vs.tls));
  return problems;
}

function tlsProblems(protocol: string | undefined, certificateId: string | null | undefined, tls: VirtualServiceFacts['tls']): RuleProblem[] {
  if (tls === null || tls === undefined) return [];
  const out: RuleProblem[] = [];
  const sni = tls.sniCertificates ?? [];
  if (certificateId === null) {
    // The first setting that only a TLS-terminating VIP can carry.
    const set: [string, boolean][] = [
      ['minVersion', tls.minVersion !== undefined && tls.minVersion !== null && tls.minVersion !== 'TLSv1.2'],
      ['ciphers', typeof tls.ciphers === 'string'],
      ['cipherSuites', typeof tls.cipherSuites === 'string'],
      ['hstsMaxAge', typeof tls.hstsMaxAge === 'number'],
      ['sniCertificates', sni.length > 0],
    ];
    const first = set.find(([, on]) => on);
    if (first) out.push({ code: 'LB_INVALID_COMBINATION', field: `/tls/${first[0]}`, message: `tls.${first[0]} applies to a VIP that terminates TLS; set certificateId` });
  }
  if (protocol === 'tcp' && typeof tls.hstsMaxAge === 'number') {
    out.push({ code: 'LB_INVALID_COMBINATION', field: '/tls/hstsMaxAge', message: 'HSTS is an HTTP response field and needs protocol http or http2' });
  }
  if (tls.hstsIncludeSubDomains === true && tls.hstsMaxAge === null) {
    out.push({ code: 'LB_INVALID_COMBINATION', field: '/tls/hstsIncludeSubDomains', message: 'includeSubDomains is part of the HSTS field: set hstsMaxAge' });
  }
  const seen = new Set<string>();
  sni.forEach((entry, i) => {
    const name = entry?.serverName;
    if (typeof name !== 'string') return;
    const key = name.toLowerCase();
    if (seen.has(key)) out.push({ code: 'LB_INVALID_COMBINATION', field: `/tls/sniCertificates/${i}/serverName`, message: `server name ${name} has a certificate already` });
    seen.add(key);
  });
  return out;
}

function fallbackProblems(protocol: string | undefined, fallback: VirtualServiceFacts['fallback']): RuleProblem[] {
  if (fallback === null || fallback === undefined) return [];
  const mode = fallback.mode === null ? 'none' : fallback.mode;
  const out: RuleProblem[] = [];
  if (mode === 'server' && fallback.address === null) {
    out.push({ code: 'LB_INVALID_COMBINATION', field: '/fallback/address', message: 'a server fallback needs the address of the fallback server' });
  }
  if (mode === 'page' && protocol === 'tcp') {
    out.push({ code: 'LB_INVALID_COMBINATION', field: '/fallback/mode', message: 'the maintenance page is an HTTP answer and needs protocol http or http2; use a fallback server on tcp' });
  }
  if (mode !== undefined && mode !== 'server') {
    if (typeof fallback.address === 'string') out.push({ code: 'LB_INVALID_COMBINATION', field: '/fallback/address', message: 'only a server fallback (mode server) has an address' });
    else if (typeof fallback.port === 'number') out.push({ code: 'LB_INVALID_COMBINATION', field: '/fallback/port', message: 'only a server fallback (mode server) has a port' });
  }
  return out;
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
