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
  LB_UNSUPPORTED_VALUE: 'A value the appliance cannot use',
};

/** One broken rule. */
export interface RuleProblem {
  /** The appliance's stable code (docs/errors.md). */
  code: 'LB_INVALID_COMBINATION' | 'LB_CERTIFICATE_REQUIRED' | 'LB_UNSAFE_PATTERN' | 'LB_UNSUPPORTED_VALUE';
  /** JSON Pointer into the object's request body, e.g. `/persistence/mode`. */
  field: string;
  message: string;
}

/** What the virtual service rules look at; `undefined` is unknown, `null` is unset (the contract's default). */
export interface VirtualServiceFacts {
  protocol?: string;
  certificateId?: string | null;
  forceHttps?: boolean | null;
  persistence?: { mode?: string | null; sourceIpFallback?: boolean | null; ipv4PrefixLength?: number | null; ipv6PrefixLength?: number | null } | null;
  /** `off` when null. */
  sendProxy?: string | null;
  /** `false` when null. */
  acceptProxy?: boolean | null;
  /** `proxy` when null. */
  forwarding?: string | null;
  /** `false` when null. */
  transparent?: boolean | null;
  /** `true` when null (the contract's default). */
  forwardedFor?: boolean | null;
  /** `roundrobin` when null. */
  algorithm?: string | null;
  ipAddress?: string;
  /** `{ type: connect, port: null }` when null. */
  healthCheck?: {
    type?: string | null;
    port?: number | null;
    bodyMatch?: { kind?: string | null; value?: string | null } | null;
    /** `{ path: null }` when null. */
    script?: { path?: string | null } | null;
    /** `{ port: null }` (no agent) when null. */
    agent?: { port?: number | null } | null;
  } | null;
  fallback?: { mode?: string | null; address?: string | null; port?: number | null } | null;
  /** `{ maxConnections: null }` when null. */
  limits?: { maxConnections?: number | null } | null;
  tls?: {
    minVersion?: string | null;
    ciphers?: string | null;
    cipherSuites?: string | null;
    hstsMaxAge?: number | null;
    hstsIncludeSubDomains?: boolean | null;
    sniCertificates?: readonly ({ serverName?: string | null } | undefined)[] | null;
  } | null;
}

/** The forwarding methods the kernel carries out (everything but the user-space `proxy`). */
export const LAYER4_FORWARDING: readonly string[] = ['direct-routing', 'nat', 'snat'];

/** Whether a forwarding method is layer 4; `undefined` while it is unknown. */
export function isLayer4(forwarding: string | null | undefined): boolean | undefined {
  if (forwarding === undefined) return undefined;
  return forwarding !== null && LAYER4_FORWARDING.includes(forwarding);
}

function orDefault<T>(value: T | null | undefined, fallback: T): T | undefined {
  return value === null ? fallback : value;
}

/** The rules only a layer 4 VIP has: what the kernel cannot honour is refused, never ignored. */
function layer4Problems(vs: VirtualServiceFacts, mode: string | undefined): RuleProblem[] {
  const problems: RuleProblem[] = [];
  const forwarding = orDefault(vs.forwarding, 'proxy');
  const l4 = isLayer4(forwarding);
  const bad = (field: string, message: string): void => {
    problems.push({ code: 'LB_INVALID_COMBINATION', field, message });
  };
  if (vs.protocol === 'udp' && forwarding === 'proxy') bad('/protocol', 'udp is carried by the kernel: it needs forwarding direct-routing, nat or snat');
  if (l4 !== true) return problems;
  const how = `a ${forwarding} VIP forwards packets in the kernel`;
  if (vs.protocol === 'http' || vs.protocol === 'http2') bad('/protocol', `${how}: its protocol is tcp or udp (http and http2 need forwarding proxy)`);
  if (typeof vs.certificateId === 'string') bad('/certificateId', `${how} and cannot terminate TLS: remove certificateId or use forwarding proxy`);
  if (mode === 'http-cookie') bad('/persistence/mode', `${how} and cannot insert cookies: use source-ip persistence`);
  if (vs.forceHttps === true) bad('/forceHttps', `${how} and cannot answer HTTP redirects: forceHttps needs forwarding proxy`);
  if (orDefault(vs.forwardedFor, true) === true) {
    bad('/forwardedFor', `${how} and cannot insert X-Forwarded-For: set forwardedFor to false${forwarding === 'snat' ? ' (use nat or direct-routing for the servers to see the client address)' : ' (the servers see the client address already)'}`);
  }
  const sendProxy = orDefault(vs.sendProxy, 'off');
  if (sendProxy !== undefined && sendProxy !== 'off') bad('/sendProxy', `${how} and opens no connection of its own to the servers, so it cannot send a PROXY protocol header: sendProxy needs forwarding proxy (${forwarding === 'snat' ? 'use nat or direct-routing for the servers to see the client address' : 'the servers see the client address already'})`);
  if (vs.acceptProxy === true) bad('/acceptProxy', `${how} and reads no stream, so it cannot take a PROXY protocol header off a connection: acceptProxy needs forwarding proxy`);
  if (orDefault(vs.algorithm, 'roundrobin') === 'leastconn') bad('/algorithm', `${how} with weighted random selection: leastconn needs forwarding proxy, use roundrobin`);
  if (vs.ipAddress !== undefined && (vs.ipAddress.includes(':') || vs.ipAddress === '0.0.0.0')) {
    bad('/ipAddress', `${how}: its ipAddress is one IPv4 address (not a wildcard; IPv6 layer 4 VIPs are not supported yet)`);
  }
  const fallbackMode = vs.fallback === null ? 'none' : vs.fallback === undefined ? undefined : orDefault(vs.fallback.mode, 'none');
  if (fallbackMode !== undefined && fallbackMode !== 'none') bad('/fallback/mode', `${how}: it has no fallback server or maintenance page (fallback needs forwarding proxy); with every server down new flows are dropped`);
  const maxConnections = vs.limits === null ? null : vs.limits === undefined ? undefined : vs.limits.maxConnections;
  if (typeof maxConnections === 'number') bad('/limits/maxConnections', `${how} and does not count or queue connections: limits.maxConnections needs forwarding proxy`);
  if (vs.protocol === 'udp') {
    const check = vs.healthCheck === null ? { type: 'connect', port: null } : vs.healthCheck;
    const type = check === undefined ? undefined : orDefault(check.type, 'connect');
    const port = check === undefined ? undefined : check.port === undefined ? undefined : check.port;
    if (type !== undefined && type !== 'none' && port === null) {
      bad('/healthCheck/port', `a udp service cannot be checked with ${type} (TCP) on its own port: give healthCheck.port a TCP port the servers answer on, or type none`);
    }
  }
  return problems;
}

/** What the rules on a real server behind a virtual service look at; `undefined` is unknown. */
export interface RealServerFacts {
  address?: string;
  port?: number | null;
  reEncrypt?: boolean | null;
  maxConnections?: number | null;
}

/**
 * The rules a real server breaks behind a given virtual service (they need both, so a plan
 * that sees only one resource cannot run them; the appliance runs them on every write of
 * either). Fields point into the real server's body.
 */
export function realServerProblems(rs: RealServerFacts, vs: { forwarding?: string | null; ports?: number[] }): RuleProblem[] {
  const problems: RuleProblem[] = [];
  const forwarding = orDefault(vs.forwarding, 'proxy');
  if (isLayer4(forwarding) !== true) return problems;
  const bad = (field: string, message: string): void => {
    problems.push({ code: 'LB_INVALID_COMBINATION', field, message });
  };
  if (rs.address !== undefined && !/^\d{1,3}(\.\d{1,3}){3}$/.test(rs.address)) {
    bad('/address', `behind a ${forwarding} VIP the kernel forwards to an IPv4 address: ${rs.address} is not one`);
  }
  if (forwarding === 'direct-routing' && rs.port !== undefined && rs.port !== null && vs.ports !== undefined && (vs.ports.length !== 1 || vs.ports[0] !== rs.port)) {
    bad('/port', `direct routing rewrites only the MAC address, so the server answers on the VIP's own port: port ${rs.port} would need port translation (set it to null${vs.ports.length === 1 ? ` or ${vs.ports[0]}` : ''}, or use forwarding nat)`);
  }
  if (typeof rs.maxConnections === 'number') bad('/maxConnections', `a ${forwarding} VIP forwards packets and does not count connections per server: maxConnections needs forwarding proxy`);
  if (rs.reEncrypt === true) bad('/reEncrypt', `a ${forwarding} VIP forwards packets and cannot re-encrypt: reEncrypt needs forwarding proxy`);
  return problems;
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
  problems.push(...layer4Problems(vs, mode));
  if (protocol === 'http2' && certificateId === null && isLayer4(orDefault(vs.forwarding, 'proxy')) !== true) {
    problems.push({ code: 'LB_CERTIFICATE_REQUIRED', field: '/certificateId', message: 'an http2 virtual service terminates TLS and needs a certificateId' });
  }
  if ((protocol === 'tcp' || protocol === 'udp') && mode === 'http-cookie') {
    problems.push({ code: 'LB_INVALID_COMBINATION', field: '/persistence/mode', message: `http-cookie persistence needs protocol http or http2; use source-ip for ${protocol}` });
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
  if (vs.transparent === true && vs.forwarding !== undefined && vs.forwarding !== null && vs.forwarding !== 'proxy') {
    problems.push({ code: 'LB_INVALID_COMBINATION', field: '/transparent', message: `transparent makes the proxy connect from the client's address; a ${vs.forwarding} VIP is forwarded by the kernel (direct-routing and nat already keep the client's address)` });
  }
  if (vs.transparent === true && forceHttps === true) {
    problems.push({ code: 'LB_INVALID_COMBINATION', field: '/transparent', message: 'a forceHttps VIP only redirects and connects to no real server, so it cannot be transparent' });
  }
  problems.push(...checkProgramProblems(vs.healthCheck, isLayer4(orDefault(vs.forwarding, 'proxy'))));
  problems.push(...persistenceProblems(mode, vs.persistence));
  problems.push(...fallbackProblems(protocol, vs.fallback));
  problems.push(...tlsProblems(protocol, certificateId, vs.tls));
  return problems;
}

/**
 * A `script` check names a program inside the check scripts directory (whether it is there
 * only the appliance can tell, at write); a feedback agent scales weights, which the
 * kernel's layer 4 forwarding does not follow.
 */
function checkProgramProblems(check: VirtualServiceFacts['healthCheck'], layer4: boolean | undefined): RuleProblem[] {
  const out: RuleProblem[] = [];
  if (check === undefined || check === null) return out;
  const type = orDefault(check.type, 'connect');
  const script = check.script === null ? { path: null } : check.script;
  const path = script === undefined ? undefined : script.path === undefined ? undefined : script.path;
  if (type === 'script' && path === null) out.push({ code: 'LB_INVALID_COMBINATION', field: '/healthCheck/script/path', message: 'a script check needs script.path, a program in the check scripts directory' });
  if (typeof path === 'string' && path.split('/').includes('..')) {
    out.push({ code: 'LB_UNSUPPORTED_VALUE', field: '/healthCheck/script/path', message: `script.path ${path} has a .. segment: name a program inside the check scripts directory` });
  }
  const agent = check.agent === null ? { port: null } : check.agent;
  if (layer4 === true && agent !== undefined && typeof agent.port === 'number') {
    out.push({ code: 'LB_INVALID_COMBINATION', field: '/healthCheck/agent/port', message: 'a layer 4 VIP forwards in the kernel with fixed weights: a feedback agent needs forwarding proxy' });
  }
  return out;
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

/** Settings of source-IP keeping that only a mode keeping a source-IP table can use. */
function persistenceProblems(mode: string | undefined, p: VirtualServiceFacts['persistence']): RuleProblem[] {
  if (p === null || p === undefined || mode === undefined) return [];
  const out: RuleProblem[] = [];
  if (p.sourceIpFallback === true && mode !== 'http-cookie') {
    out.push({ code: 'LB_INVALID_COMBINATION', field: '/persistence/sourceIpFallback', message: `sourceIpFallback backs up a persistence cookie and needs mode http-cookie${mode === 'source-ip' ? ' (source-ip keeps every client by address already)' : ''}` });
  }
  const fallback = p.sourceIpFallback === undefined ? undefined : p.sourceIpFallback === true;
  const keepsTable = mode === 'source-ip' || (mode === 'http-cookie' ? fallback : false);
  if (keepsTable === false) {
    const set: [string, boolean][] = [
      ['ipv4PrefixLength', typeof p.ipv4PrefixLength === 'number' && p.ipv4PrefixLength !== 32],
      ['ipv6PrefixLength', typeof p.ipv6PrefixLength === 'number' && p.ipv6PrefixLength !== 128],
    ];
    const first = set.find(([, on]) => on);
    if (first) out.push({ code: 'LB_INVALID_COMBINATION', field: `/persistence/${first[0]}`, message: `persistence.${first[0]} says how clients are kept by network in a source-IP table: it needs mode source-ip, or http-cookie with sourceIpFallback` });
  }
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

/** What the directory rules look at (DirectoryInput); `undefined` is unknown. */
export interface DirectoryFacts {
  url?: string;
  /** `false` when null (the contract's default). */
  startTls?: boolean | null;
}

/** The directory rules: passwords never cross the network in the clear, and StartTLS only where it means something. */
export function directoryProblems(d: DirectoryFacts): RuleProblem[] {
  if (d.url === undefined || d.startTls === undefined) return [];
  const plain = d.url.toLowerCase().startsWith('ldap://');
  const startTls = d.startTls ?? false;
  if (plain && !startTls) return [{ code: 'LB_INVALID_COMBINATION', field: '/startTls', message: 'an ldap:// directory needs startTls: the bind password and user passwords never cross the network in the clear' }];
  if (!plain && startTls) return [{ code: 'LB_INVALID_COMBINATION', field: '/startTls', message: 'startTls is for ldap:// directories; an ldaps:// connection is TLS from its first byte' }];
  return [];
}
