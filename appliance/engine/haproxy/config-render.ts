// Renders a ConfigSnapshot into an HAProxy 2.6 configuration: one frontend and one backend
// per virtual service, named by ids (names.ts). The text is a pure function of the
// snapshot and the node's settings, so the reload agent can tell whether a change needs a
// reload by comparing what it would render without the parts the runtime API can change.
import { checkTarget } from '../../config/check-target.js';
import { checkedByAppliance } from './appliance-checks.js';
import type { RealServerSnapshot, VirtualServiceSnapshot, ConfigSnapshot } from '../types.js';
import { STRIP_CONNECTION_FIELDS } from './lua-actions.js';
import { MAINTENANCE_PAGE, MAINTENANCE_PAGE_TYPE } from '../maintenance-page.js';
import { backendName, cookieValue, fallbackBackendName, frontendName, hostPort, serverName, serverPuids } from './names.js';

/** The peers of source-IP replication as the configuration needs them. */
export interface PeersSettings {
  /** This node's peer name (HAProxy's `localpeer`). */
  localName: string;
  /** Address and port this node's peer listens on. */
  localAddress: string;
  port: number;
  /** The other node of the HA pair, when there is one. */
  remote: { name: string; address: string; port: number } | null;
}

/** Node settings the configuration depends on (not part of any revision). */
export interface RenderSettings {
  /** The worker's runtime API socket. */
  adminSocket: string;
  /** The Lua file of lua-actions.ts. */
  luaFile: string;
  /** Error response files by status (lua-actions.ts ERROR_FILES). */
  errorFiles: ReadonlyMap<number, string>;
  /** Directory of the per-VIP certificate files (`<vsId>.pem`). */
  certDir: string;
  /** False on the passive node: backends, tables and peers stay, no VIP listens. */
  active: boolean;
  /** Seconds an old worker may keep long sessions after a reload before it is stopped. */
  hardStopAfter: number;
  peers: PeersSettings;
  /** VIPs left out of the listening set, with the reason (e.g. the address is not on this host). */
  unbindable: ReadonlyMap<string, string>;
}

/** The name of the peers section. */
export const PEERS_SECTION = 'lbpeers';

/** Whether a VIP gets a frontend in this configuration. */
export function listens(vs: VirtualServiceSnapshot, settings: Pick<RenderSettings, 'active' | 'unbindable'>): boolean {
  return vs.enabled && settings.active && !settings.unbindable.has(vs.id);
}

/** The certificate file of a VIP. */
export function certPath(certDir: string, vsId: string): string {
  return `${certDir}/${vsId}.pem`;
}

/** The certificate file content HAProxy loads: the chain, then the key. */
export function certBundle(vs: VirtualServiceSnapshot): string | null {
  if (!vs.certificate) return null;
  const chain = vs.certificate.chainPem.endsWith('\n') ? vs.certificate.chainPem : `${vs.certificate.chainPem}\n`;
  return chain + vs.certificate.keyPem;
}

/** The file of a VIP's SNI certificate `index` (tls.sniCertificates order). */
export function sniCertPath(certDir: string, vsId: string, index: number): string {
  return `${certDir}/${vsId}.sni${index}.pem`;
}

/** The crt-list of a VIP's SNI certificates. */
export function crtListPath(certDir: string, vsId: string): string {
  return `${certDir}/${vsId}.crtlist`;
}

function bundleOf(cert: { chainPem: string; keyPem: string }): string {
  return (cert.chainPem.endsWith('\n') ? cert.chainPem : `${cert.chainPem}\n`) + cert.keyPem;
}

/** Every certificate file a VIP needs under `certDir`: its default, its SNI certificates and their crt-list. */
export function certFiles(vs: VirtualServiceSnapshot, certDir: string): { path: string; content: string }[] {
  if (!vs.certificate) return [];
  const files = [{ path: certPath(certDir, vs.id), content: bundleOf(vs.certificate) }];
  if (vs.sniCertificates.length === 0) return files;
  const list: string[] = [];
  vs.sniCertificates.forEach((sni, i) => {
    const path = sniCertPath(certDir, vs.id, i);
    files.push({ path, content: bundleOf(sni.certificate) });
    // An explicit SNI filter: the certificate answers this name only (as the embedded engine's SNICallback).
    list.push(`${path} ${sni.serverName.toLowerCase()}`);
  });
  files.push({ path: crtListPath(certDir, vs.id), content: `${list.join('\n')}\n` });
  return files;
}

/** The TLS words of a bind line: certificates and the VIP's policy. */
function tlsBind(vs: VirtualServiceSnapshot, s: RenderSettings): string {
  const tls = vs.tls;
  let out = ` ssl crt ${certPath(s.certDir, vs.id)}`;
  if (vs.sniCertificates.length > 0) out += ` crt-list ${crtListPath(s.certDir, vs.id)}`;
  out += ` ssl-min-ver ${tls.minVersion === 'TLSv1.3' ? 'TLSv1.3' : 'TLSv1.2'}`;
  // The contract's patterns leave nothing in these lists that HAProxy's parser would read.
  if (tls.ciphers !== null) out += ` ciphers ${tls.ciphers}`;
  if (tls.cipherSuites !== null) out += ` ciphersuites ${tls.cipherSuites}`;
  return out;
}

/**
 * A value as one word of HAProxy's configuration language, meaning exactly itself: the
 * characters the parser gives a meaning of its own (`#` comment, quotes, `\` escape, blanks
 * between words) are escaped with a backslash, control characters as `\xNN`. `$` needs
 * nothing: variables are expanded only between double quotes. So every contract-valid cookie
 * name, check path and Host reaches HAProxy as written (issue 19).
 */
export function configWord(value: string): string {
  return value.replace(/[\\#'" ]|[\x00-\x1f\x7f]/g, (ch) => (ch.charCodeAt(0) < 0x20 || ch === '\x7f' ? `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}` : `\\${ch}`));
}

function bindAddress(address: string, port: number): string {
  // A wildcard IPv6 VIP takes IPv4 clients too, as the embedded engine's dual-stack socket does.
  if (address === '::') return `:::${port} v4v6`;
  return hostPort(address, port);
}

/**
 * What the embedded engine's parser (h1-head.ts) refuses with 400 and HAProxy 2.6's passes
 * on: it refuses CR, LF, bad names and most control characters of the request target itself,
 * but forwards a NUL or any other control character in a field value as it came (RFC 9110
 * 5.5 says to refuse or replace it), DEL in the target, framing names spelled with an
 * underscore (h1-head.ts) and Transfer-Encoding in an HTTP/1.0 request. The first two are allowlists, so a header block or URL the fetch could not
 * build is refused as well. HTTP/2 requests pass the same rules (HTX is the same for both).
 */
export const FIELD_RULES: readonly string[] = [
  "  http-request deny deny_status 400 unless { req.hdrs -m reg '^[\\t\\x20-\\x7e\\x80-\\xff\\r\\n]*$' }",
  "  http-request deny deny_status 400 unless { url -m reg '^[\\x21-\\x7e\\x80-\\xff]+$' }",
  '  http-request deny deny_status 400 if { req.hdr_cnt(content_length) gt 0 } || { req.hdr_cnt(transfer_encoding) gt 0 }',
  // HAProxy forwards an HTTP/1.0 request with its chunked body as it is: a 1.0 server that
  // ignores Transfer-Encoding there would read the chunks as the next request.
  '  http-request deny deny_status 400 if { req.ver 1.0 } { req.hdr_cnt(transfer-encoding) gt 0 }',
];

function frontend(vs: VirtualServiceSnapshot, s: RenderSettings): string[] {
  const http = vs.protocol !== 'tcp';
  const lines = [`frontend ${frontendName(vs.id)}`, `  mode ${http ? 'http' : 'tcp'}`];
  const tls = vs.certificate ? `${tlsBind(vs, s)}${vs.protocol === 'tcp' ? '' : ` alpn ${vs.protocol === 'http2' ? 'h2,http/1.1' : 'http/1.1'}`}` : '';
  // An http VIP speaks HTTP/1.1 only: HAProxy would otherwise take an HTTP/2 preface on it.
  const h1 = vs.protocol === 'http' ? ' proto h1' : '';
  // accept-proxy: the PROXY header (v1 or v2) is read before anything else, TLS included.
  const proxy = vs.acceptProxy ? ' accept-proxy' : '';
  for (const port of vs.ports) lines.push(`  bind ${bindAddress(vs.ipAddress, port)}${proxy}${tls}${h1}`);
  lines.push(`  timeout client ${vs.timeouts.client}s`);
  const limits = vs.limits;
  if (limits.maxConnections !== null) {
    // queue: connections over the limit wait in the listen backlog; refuse: closed at once (counted as `dcon`).
    if (limits.whenFull === 'queue') lines.push(`  maxconn ${limits.maxConnections}`);
    else lines.push(`  tcp-request connection reject if { fe_conn gt ${limits.maxConnections} }`);
  }
  if (http) {
    lines.push(`  timeout http-request ${vs.timeouts.httpRequest}s`);
    // Idle keep-alive clients are held as long as any idle client (the embedded engine's rule).
    lines.push(`  timeout http-keep-alive ${vs.timeouts.client}s`);
    lines.push(...FIELD_RULES);
    // RFC 9112 3.2: an HTTP/1.1 request without Host is refused (HAProxy would forward it).
    lines.push('  http-request deny deny_status 400 if { req.ver 1.1 } !{ req.hdr(host) -m found }');
    // 100 fields per request, as the embedded engine allows; more is refused before forwarding.
    lines.push('  http-request return status 431 content-type text/plain string "too many header fields" hdr connection close if { req.hdr_cnt() gt 100 }');
    // Hop-by-hop fields (RFC 9110 7.6.1) that HAProxy would otherwise pass on.
    for (const hop of ['keep-alive', 'proxy-connection', 'te']) lines.push(`  http-request del-header ${hop}`);
    // Only requests naming more than the usual tokens run the Lua action.
    lines.push(`  http-request lua.${STRIP_CONNECTION_FIELDS} if { req.hdr(connection) -m found } !{ req.hdr(connection),lower -m reg ^(keep-alive|close|upgrade)$ }`);
    if (vs.forceHttps) {
      // The https URL of the same host (without its port) and path, as the embedded engine answers.
      lines.push(`  http-request redirect location https://%[req.hdr(host),regsub(:[0-9]+$,)]%[pathq] code ${vs.redirectCode}`);
    } else if (vs.forwardedFor) {
      lines.push('  option forwardfor');
      lines.push(`  http-request set-header X-Forwarded-Proto ${vs.certificate ? 'https' : 'http'}`);
    }
    if (vs.certificate && vs.tls.hstsMaxAge !== null) {
      // Responses from the servers, the server's own field replaced (as the embedded engine does).
      lines.push(`  http-response set-header Strict-Transport-Security "max-age=${vs.tls.hstsMaxAge}${vs.tls.hstsIncludeSubDomains ? '; includeSubDomains' : ''}"`);
    }
    if (!vs.forceHttps && vs.fallback.mode === 'page') {
      // The built-in page (maintenance-page.ts holds no character that needs escaping here).
      lines.push(`  http-request return status 503 content-type "${MAINTENANCE_PAGE_TYPE}" string "${MAINTENANCE_PAGE.trimEnd()}" if { nbsrv(${backendName(vs.id)}) eq 0 }`);
    }
  }
  if (!vs.forceHttps && vs.fallback.mode === 'server') lines.push(`  use_backend ${fallbackBackendName(vs.id)} if { nbsrv(${backendName(vs.id)}) eq 0 }`);
  lines.push(`  default_backend ${backendName(vs.id)}`);
  return lines;
}

function checkPort(vs: VirtualServiceSnapshot, rs: RealServerSnapshot): number | null {
  // A server without its own port is checked on the VIP's first port (as the embedded engine does).
  if (vs.healthCheck.port !== null) return vs.healthCheck.port;
  return rs.port === null ? (vs.ports[0] as number) : null;
}

/** The numeric ids of a backend's servers (see serverPuids), once per backend. */
export function backendServerIds(vs: VirtualServiceSnapshot): Map<string, number> {
  return serverPuids(vs.realServers.map((r) => r.id));
}

/** The arguments of one server line (also what `add server` takes, without `cookie`); `ids` from backendServerIds. */
export function serverArgs(vs: VirtualServiceSnapshot, rs: RealServerSnapshot, options: { dynamic: boolean; ids: Map<string, number> }): string {
  const args = [hostPort(rs.address, rs.port), `id ${options.ids.get(rs.id)}`, `weight ${rs.adminState === 'drain' ? 0 : rs.weight}`];
  if (rs.backup) args.push('backup');
  if (rs.maxConnections !== null) args.push(`maxconn ${rs.maxConnections}`);
  // HAProxy 2.6 gives a server added at runtime none of the defaults: without these two
  // (the static defaults, said out loud) it keeps no idle connection and opens one per request.
  args.push('pool-purge-delay 5s pool-max-conn -1');
  if (rs.reEncrypt) args.push('ssl verify none');
  // The header names the client (the one accept-proxy read, when the VIP has it).
  if (vs.sendProxy === 'v1') args.push('send-proxy');
  else if (vs.sendProxy === 'v2') args.push('send-proxy-v2');
  const hc = vs.healthCheck;
  // The appliance runs the checks HAProxy has no mechanism for (./appliance-checks.ts).
  if (hc.type !== 'none' && !checkedByAppliance(vs)) {
    args.push(`check inter ${hc.interval}s rise ${hc.rise} fall ${hc.fall}`);
    const port = checkPort(vs, rs);
    if (port !== null) args.push(`port ${port}`);
    if (hc.type === 'https') args.push('check-ssl verify none');
    else if (rs.reEncrypt) args.push('no-check-ssl');
    // A failed connect takes the server down at once (the embedded engine's passive check).
    args.push('observe layer4 error-limit 1 on-error mark-down');
  }
  // HAProxy's own agent-check: the feedback agent's share, drain, maint, down and up.
  const agent = hc.agent ?? { port: null, interval: 5 };
  if (agent.port !== null) args.push(`agent-check agent-port ${agent.port} agent-inter ${agent.interval}s`);
  if (!options.dynamic && vs.persistence.mode === 'http-cookie') args.push(`cookie ${cookieValue(vs.id, rs.id)}`);
  if (!options.dynamic && rs.adminState === 'halt') args.push('disabled');
  return args.join(' ');
}

function backend(vs: VirtualServiceSnapshot): string[] {
  const http = vs.protocol !== 'tcp';
  const lines = [`backend ${backendName(vs.id)}`, `  mode ${http ? 'http' : 'tcp'}`];
  const p = vs.persistence;
  // The client key of the source-IP table: its address, or its network (ipmask).
  const masked = p.ipv4PrefixLength < 32 || p.ipv6PrefixLength < 128;
  const source = masked ? `src,ipmask(${p.ipv4PrefixLength},${p.ipv6PrefixLength})` : 'src';
  if (p.mode === 'source-ip') {
    // A new client's server is a consistent hash of its address over the weighted servers,
    // numbered by their ids (serverPuids): every HAProxy process that carries this backend
    // makes the same choice, so a client keeps its server over a reload or a takeover even
    // before the stick table reaches the new process. The table then holds it there through
    // server additions and drains. The VIP's algorithm does not apply (the engine's README).
    lines.push(masked ? `  balance hash ${source}` : '  balance source', '  hash-type consistent');
  } else lines.push(`  balance ${vs.algorithm}`);
  lines.push(`  timeout server ${vs.timeouts.server}s`, `  timeout connect ${vs.timeouts.connect}s`, `  timeout queue ${vs.limits.queueTimeout}s`);
  // Connect from the client's own address (IP_TRANSPARENT); the replies reach this host's
  // socket through ../transparent-routing.ts.
  if (vs.transparent) lines.push('  source 0.0.0.0 usesrc clientip');
  // Idle server connections serve any client, as the embedded engine's pools do (HAProxy
  // still keeps a connection private once the server asked for NTLM or Negotiate).
  if (http) {
    lines.push('  http-reuse always');
    // A pooled connection the server closed just as it was reused gives an empty response:
    // the request is sent again (on another server, as every retry is), but only methods
    // that may be replayed, as in the embedded engine. Without this, HAProxy answers 502.
    lines.push('  retry-on conn-failure empty-response');
    lines.push('  http-request disable-l7-retry if !METH_GET !METH_HEAD !METH_OPTIONS !METH_PUT !METH_DELETE !METH_TRACE');
  }
  // Backup servers share the load when every primary is down, as in the embedded engine.
  lines.push('  option allbackups');
  if (p.mode === 'http-cookie') {
    lines.push(`  cookie ${configWord(p.cookieName)} insert indirect nocache httponly${vs.certificate ? ' secure' : ''} attr "Path=/" attr "Max-Age=${p.timeout}"`);
  }
  if (p.mode === 'source-ip' || (p.mode === 'http-cookie' && p.sourceIpFallback)) {
    // Keyed by server name (HAProxy 2.6's default srvkey), so both nodes of a pair agree. With
    // a cookie, the cookie's server is taken first (a stick match applies only to a request
    // no cookie placed) and the table learns it: a client that drops the cookie stays.
    lines.push(`  stick-table type ipv6 size 1m expire ${p.timeout}s peers ${PEERS_SECTION}`, `  stick on ${source}`);
  }
  const hc = vs.healthCheck;
  if (hc.type !== 'none' && !checkedByAppliance(vs)) lines.push(`  timeout check ${hc.timeout}s`);
  if (hc.type === 'http' || hc.type === 'https') {
    lines.push('  option httpchk');
    // With no Host configured the check is HTTP/1.0 without one (HAProxy cannot name each server's address).
    // The same request target as the embedded engine's probe (config/check-target.ts).
    const uri = configWord(checkTarget(hc.path));
    lines.push(hc.host === null ? `  http-check send meth GET uri ${uri} ver HTTP/1.0` : `  http-check send meth GET uri ${uri} ver HTTP/1.1 hdr Host ${configWord(hc.host)}`);
    const statuses = hc.expectStatuses?.length ? hc.expectStatuses : [hc.expectStatus];
    lines.push(statuses.length === 1 ? `  http-check expect status ${statuses[0]}` : `  http-check expect rstatus ^(${statuses.join('|')})$`);
    // Both expect rules judge the one answer; HAProxy reads at most its check buffer (16 KiB), as the embedded probe does.
    const m = hc.bodyMatch;
    if (m && m.kind === 'substring' && m.value !== '') lines.push(`  http-check expect string ${configWord(m.value)}`);
  }
  const tcp = hc.tcp;
  if (hc.type === 'tcp' && tcp && ((tcp.send ?? '') !== '' || tcp.expect !== null)) {
    lines.push('  option tcp-check', '  tcp-check connect');
    if (tcp.send) lines.push(`  tcp-check send ${configWord(tcp.send)}`);
    if (tcp.expect) lines.push(`  tcp-check expect string ${configWord(tcp.expect)}`);
  }
  const ids = backendServerIds(vs);
  for (const rs of vs.realServers) lines.push(`  server ${serverName(rs.id)} ${serverArgs(vs, rs, { dynamic: false, ids })}`);
  return lines;
}

/** The backend of a `server` fallback: one unchecked server, used when the VIP's backend has none usable. */
function fallbackBackend(vs: VirtualServiceSnapshot): string[] {
  const fb = vs.fallback;
  if (fb.mode !== 'server' || fb.address === null || vs.forceHttps) return [];
  return [
    '',
    `backend ${fallbackBackendName(vs.id)}`,
    `  mode ${vs.protocol === 'tcp' ? 'tcp' : 'http'}`,
    `  timeout server ${vs.timeouts.server}s`,
    `  timeout connect ${vs.timeouts.connect}s`,
    `  server fallback ${hostPort(fb.address, fb.port)}`,
  ];
}

/** The whole configuration text of a snapshot on this node. */
export function renderConfig(snapshot: ConfigSnapshot, s: RenderSettings): string {
  const peers = s.peers;
  const out: string[] = [
    `# Generated by lbappliance from revision ${snapshot.revision}; rewritten at every apply.`,
    'global',
    `  stats socket ${s.adminSocket} mode 600 level admin expose-fd listeners`,
    `  lua-load ${s.luaFile}`,
    '  stats timeout 30s',
    `  localpeer ${peers.localName}`,
    `  hard-stop-after ${s.hardStopAfter}s`,
    // Room to count fields past 100 and answer 431 rather than fail to parse the head.
    '  tune.http.maxhdr 256',
    '  tune.ssl.default-dh-param 2048',
    '',
    'defaults',
    '  mode http',
    '  timeout connect 4s',
    '  timeout client 600s',
    '  timeout server 600s',
    // A request that could not reach its server is retried, each time on another one.
    '  retries 3',
    '  option redispatch 1',
    // Reloads must not close idle keep-alive clients under their feet (they may be sending).
    '  option idle-close-on-response',
    '  default-server init-addr last,libc',
    ...[...s.errorFiles].map(([status, file]) => `  errorfile ${status} ${file}`),
    '',
    `peers ${PEERS_SECTION}`,
    `  peer ${peers.localName} ${hostPort(peers.localAddress, peers.port)}`,
  ];
  if (peers.remote) out.push(`  peer ${peers.remote.name} ${hostPort(peers.remote.address, peers.remote.port)}`);
  for (const vs of snapshot.virtualServices) {
    out.push('');
    if (listens(vs, s)) out.push(...frontend(vs, s), '');
    if (!vs.forceHttps) out.push(...backend(vs), ...fallbackBackend(vs));
    else out.push(`backend ${backendName(vs.id)}`, '  mode http');
  }
  return `${out.join('\n')}\n`;
}
