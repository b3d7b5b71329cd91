// The System Overview page. It reads everything through the appliance API (getCurrentUser,
// getOverview, getHaStatus) and redraws the table in place every few seconds: polling, since
// each API answer is one validated JSON document and the overview is small, so a poll needs
// nothing the contract lacks. Rows are kept by id and only changed cells are written, so a
// redraw never swallows a click. Drain / Halt / Online set the real server's adminState
// (setRealServerAdminState) for administrators and operators, local or directory users;
// read-only users see the buttons disabled (the API would refuse them anyway).

const API = '/api/v1';

// Opened as https://user:password@host/lbadmin/: browsers refuse fetch() of a URL resolved
// against an address that carries credentials, and do not reuse them for it. The page takes
// them from its address once, sends them itself, and removes them from the address bar.
const ADDRESS_AUTH =
  location.username || location.password ? `Basic ${btoa(`${decodeURIComponent(location.username)}:${decodeURIComponent(location.password)}`)}` : null;
if (ADDRESS_AUTH) {
  const clean = new URL(location.href);
  clean.username = '';
  clean.password = '';
  history.replaceState(null, '', clean.href);
}
const query = new URLSearchParams(location.search);
/** Poll interval: `?refresh=SECONDS` (at least 0.5 s), 2 s by default. */
const REFRESH_MS = Math.max(500, (Number(query.get('refresh')) || 2) * 1000);
const ACTIONS = [
  ['drain', 'Drain', 'Drain: no new sessions; persistent sessions continue'],
  ['halt', 'Halt', 'Halt: no traffic at all'],
  ['online', 'Online', 'Online: take traffic again'],
];
const COLOURS = ['green', 'yellow', 'red', 'blue', 'grey'];
const PERSISTENCE = { none: '-', 'http-cookie': 'HTTP cookie', 'source-ip': 'source IP' };
const FALLBACK = { none: '', server: 'fallback: server', page: 'fallback: maintenance page' };

/** Open connections, with the limit and the queue when there are any. */
function connText(open, max, queued) {
  const limited = max === null || max === undefined ? String(open) : `${open} / ${max}`;
  return queued > 0 ? `${limited} +${queued} queued` : limited;
}

const $ = (id) => document.getElementById(id);
const table = $('overview');

/** An answer of the API that was not a success: its status and problem document. */
class ApiError extends Error {
  constructor(status, problem, text) {
    super(problem?.detail ?? (text.slice(0, 200) || `HTTP ${status}`));
    this.status = status;
    this.problem = problem;
  }
}

async function call(method, path, body) {
  const init = { method, headers: { accept: 'application/json' }, cache: 'no-store', credentials: 'same-origin' };
  if (ADDRESS_AUTH) init.headers.authorization = ADDRESS_AUTH;
  if (body !== undefined) {
    init.headers['content-type'] = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(new URL(path, location.origin), init);
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: reported with the status below
  }
  if (!res.ok) throw new ApiError(res.status, data, text);
  return data;
}

function describeError(err) {
  if (err instanceof ApiError) return err.problem?.code ? `${err.problem.code}: ${err.problem.detail ?? err.problem.title}` : `HTTP ${err.status}`;
  return `the appliance did not answer (${err?.message ?? err})`;
}

// ------------------------------------------------------------------ DOM helpers

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else node.setAttribute(k, v);
  }
  node.append(...children);
  return node;
}

function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

function setAttr(node, name, value) {
  if (node.getAttribute(name) !== value) node.setAttribute(name, value);
}

function setColour(node, colour) {
  for (const c of COLOURS) node.classList.toggle(`colour-${c}`, c === colour);
  setAttr(node, 'data-colour', colour);
}

function seconds(ms) {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min`;
  return `${Math.floor(ms / 3_600_000)} h`;
}

function age(ms) {
  return ms < 60_000 ? `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s` : seconds(ms);
}

function clock(iso) {
  return new Date(iso).toLocaleTimeString([], { hour12: false });
}

// ------------------------------------------------------------------ state

let readOnly = true; // until the role is known
let lastOverview = null;
let requested = 0;
let rendered = 0;
const busy = new Set(); // real servers with a change in flight
const vips = new Map(); // id -> VIP view

// ------------------------------------------------------------------ rendering

function createVip(id) {
  const cells = {};
  const td = (name) => (cells[name] = el('td', { class: name }));
  const swatch = el('span', { class: 'swatch', role: 'img' });
  const toggle = el('button', { class: 'toggle', type: 'button', 'aria-expanded': 'true', title: 'Show or hide the real servers' }, '\u25BE');
  const label = el('span', { class: 'label' });
  const row = el('tr', { class: 'vip-row' }, el('td', {}, swatch), el('td', { class: 'name' }, toggle, label), td('ip'), td('ports'), td('conn'), td('protocol'), td('persistence'), td('status'), td('extra'));
  const head = el(
    'tr',
    { class: 'rs-head' },
    ...['', 'REAL SERVER', 'IP', 'PORT', 'CONN', 'WEIGHT', 'HEALTH', 'LAST CHECK', ''].map((t) => el('th', { scope: 'col' }, t)),
  );
  const none = el('tr', { class: 'rs-none' }, el('td', { colspan: '9' }));
  const tbody = el('tbody', { class: 'vip', 'data-vs-id': id }, row, head);
  toggle.addEventListener('click', () => {
    const collapsed = tbody.classList.toggle('collapsed');
    toggle.textContent = collapsed ? '\u25B8' : '\u25BE';
    toggle.setAttribute('aria-expanded', String(!collapsed));
  });
  return { tbody, row, head, none, swatch, label, cells, servers: new Map() };
}

/** The layer 4 forwarding methods as the page shows them (proxy VIPs show the protocol only). */
const FORWARDING = { 'direct-routing': 'Layer 4 DR', nat: 'Layer 4 NAT', snat: 'Layer 4 SNAT' };

function updateVip(view, vs) {
  const { row, cells } = view;
  setAttr(row, 'data-label', vs.label);
  setAttr(row, 'data-state', vs.state);
  setColour(row, vs.colour);
  setColour(view.swatch, vs.colour);
  setAttr(view.swatch, 'aria-label', vs.colour);
  setText(view.label, vs.label);
  setText(cells.ip, vs.ipAddress);
  setText(cells.ports, vs.ports.join(', '));
  setAttr(cells.ports, 'title', vs.ports.join(', '));
  // "12 / 100 +3 queued": open connections, the VIP's limit and who waits under the limits.
  setText(cells.conn, connText(vs.connections, vs.maxConnections, vs.queued));
  // "PROXY v2 out · PROXY in": the PROXY protocol towards the servers and from a balancer in front.
  const proxy = [vs.sendProxy && vs.sendProxy !== 'off' ? `PROXY ${vs.sendProxy} out` : '', vs.acceptProxy ? 'PROXY in' : ''].filter(Boolean).join(' · ');
  setText(cells.extra, [FALLBACK[vs.fallback] ?? '', proxy].filter(Boolean).join(' · '));
  // Layer 4 VIPs say how the kernel forwards them, as the vendor guides name the modes;
  // "HTTP2 TLSv1.3+": on a TLS VIP, the oldest version it accepts.
  const mode = FORWARDING[vs.forwarding];
  const protocol = vs.tlsMinVersion ? `${vs.protocol.toUpperCase()} ${vs.tlsMinVersion}+` : vs.protocol.toUpperCase();
  setText(cells.protocol, mode ? `${protocol} · ${mode}` : protocol);
  setAttr(cells.protocol, 'data-forwarding', vs.forwarding ?? 'proxy');
  // "HTTP cookie + source IP /24 /64": a cookie with a source-IP fallback, clients kept by network.
  const table = vs.persistenceTable ? `${vs.persistence === 'http-cookie' ? ' + source IP' : ''}${vs.persistenceTable === 'address' ? '' : ` ${vs.persistenceTable}`}` : '';
  setText(cells.persistence, `${PERSISTENCE[vs.persistence] ?? vs.persistence}${table}`);
  setText(cells.status, vs.error ? `${vs.state}: ${vs.error}` : vs.state);
  setAttr(cells.status, 'title', vs.error ?? vs.state);
  syncServers(view, vs);
}

function syncServers(view, vs) {
  const seen = new Set();
  let prev = view.head;
  for (const rs of vs.realServers) {
    seen.add(rs.id);
    let server = view.servers.get(rs.id);
    if (!server) {
      server = createServer();
      view.servers.set(rs.id, server);
    }
    updateServer(server, vs, rs);
    if (prev.nextSibling !== server.row) prev.after(server.row);
    prev = server.row;
  }
  for (const [id, server] of view.servers) {
    if (seen.has(id)) continue;
    server.row.remove();
    view.servers.delete(id);
  }
  const empty = vs.realServers.length === 0;
  view.head.hidden = empty;
  if (empty) {
    setText(view.none.firstChild, vs.state === 'redirect' ? 'Redirects every request to HTTPS: no real servers.' : 'No real servers.');
    if (!view.none.isConnected) view.tbody.append(view.none);
  } else view.none.remove();
}

function createServer() {
  const cells = {};
  const td = (name) => (cells[name] = el('td', { class: name }));
  const swatch = el('span', { class: 'swatch', role: 'img' });
  const label = el('span', { class: 'label' });
  const backup = el('span', { class: 'backup' });
  const buttons = ACTIONS.map(([action, text]) => el('button', { type: 'button', 'data-action': action, disabled: '' }, text));
  const view = { row: null, swatch, label, backup, cells, buttons, vsId: '', vipLabel: '', rs: null };
  view.row = el(
    'tr',
    { class: 'rs-row' },
    el('td', {}, swatch),
    el('td', { class: 'name' }, label, backup),
    td('ip'),
    td('port'),
    td('conn'),
    td('weight'),
    td('health'),
    td('detail'),
    el('td', { class: 'actions' }, ...buttons),
  );
  buttons.forEach((button, i) => button.addEventListener('click', () => void setAdminState(view, ACTIONS[i][0])));
  return view;
}

function lastCheckText(check, generatedAt) {
  if (!check) return { text: '-', title: 'no check result yet' };
  const ago = Math.max(0, Date.parse(generatedAt) - Date.parse(check.at));
  const mark = check.ok ? '\u2713' : '\u2717';
  return { text: `${mark} ${check.detail} \u00B7 ${Math.round(check.durationMs)} ms \u00B7 ${age(ago)} ago`, title: `${check.ok ? 'passed' : 'failed'} at ${check.at}: ${check.detail}` };
}

function updateServer(view, vs, rs) {
  view.vsId = vs.id;
  view.vipLabel = vs.label;
  view.rs = rs;
  const { row, cells } = view;
  setAttr(row, 'data-rs-id', rs.id);
  setAttr(row, 'data-vip', vs.label);
  setAttr(row, 'data-label', rs.label);
  setAttr(row, 'data-health', rs.health);
  setAttr(row, 'data-admin-state', rs.adminState);
  setColour(row, rs.colour);
  setColour(view.swatch, rs.colour);
  setAttr(view.swatch, 'aria-label', rs.colour);
  setText(view.label, rs.label);
  setText(view.backup, rs.backup ? '(backup)' : '');
  setText(cells.ip, rs.address);
  setText(cells.port, rs.port === null ? 'client port' : String(rs.port));
  setText(cells.conn, connText(rs.connections, rs.maxConnections, 0));
  // A feedback agent may scale the weight: "25 of 100", its last reply on hover.
  const effective = rs.effectiveWeight ?? rs.weight;
  setText(cells.weight, effective === rs.weight ? String(rs.weight) : `${effective} of ${rs.weight}`);
  setAttr(cells.weight, 'title', rs.agent ? `agent: ${rs.agent.reply}` : '');
  setText(cells.health, rs.adminState === 'online' ? rs.health : `${rs.health}, ${rs.adminState === 'halt' ? 'halted' : 'draining'}`);
  const check = lastCheckText(rs.lastCheck, lastOverview?.generatedAt ?? new Date().toISOString());
  setText(cells.detail, check.text);
  setAttr(cells.detail, 'title', check.title);
  updateButtons(view);
}

function updateButtons(view) {
  const rs = view.rs;
  ACTIONS.forEach(([action, , help], i) => {
    const button = view.buttons[i];
    const current = rs.adminState === action;
    setAttr(button, 'aria-pressed', String(current));
    button.disabled = readOnly || current || busy.has(rs.id);
    setAttr(button, 'title', readOnly ? 'Read-only user: cannot change real servers' : current ? `${rs.label} is ${action === 'online' ? 'online' : action === 'halt' ? 'halted' : 'draining'}` : help);
  });
}

function renderNode(node) {
  setText($('node'), `${node.name} \u00B7 ${node.version} \u00B7 engine ${node.engine}`);
}

function haBox(role, state, self) {
  return el('span', { class: `peer ${state}`, 'data-role': role, 'data-state': state }, el('span', { class: 'role' }, `${role}${self ? ' (this node)' : ''}`), el('span', { class: 'state' }, state));
}

function renderHa(node, status) {
  const box = $('ha');
  const parts = [];
  if (node.haRole === 'standalone') {
    parts.push(haBox('standalone', 'active', false), el('span', { class: 'link' }, 'no HA peer'));
  } else {
    const peerRole = node.haRole === 'primary' ? 'secondary' : 'primary';
    const peerState = status?.peer?.state ?? 'unknown';
    const beat = node.peerHeartbeatAgeMs === null || node.peerHeartbeatAgeMs === undefined ? 'no heartbeat yet' : `heartbeat ${age(node.peerHeartbeatAgeMs)} ago`;
    const self = haBox(node.haRole, node.haState, true);
    const peer = haBox(peerRole, peerState === 'unknown' ? 'lost' : peerState, false);
    const link = el('span', { class: 'link', 'data-heartbeat-age-ms': String(node.peerHeartbeatAgeMs ?? '') }, beat);
    parts.push(...(node.haRole === 'primary' ? [self, link, peer] : [peer, link, self]));
  }
  box.replaceChildren(...parts);
}

function renderSummary(overview) {
  const list = overview.virtualServices;
  const count = (state) => list.filter((v) => v.state === state).length;
  const servers = list.flatMap((v) => v.realServers);
  const down = servers.filter((r) => r.health === 'down' && r.adminState !== 'halt').length;
  const [degraded, vipDown] = [count('degraded'), count('down')];
  setText($('summary'), `${list.length} virtual service${list.length === 1 ? '' : 's'}: ${degraded} degraded, ${vipDown} down; ${down} of ${servers.length} real servers down`);
  const issues = degraded + vipDown;
  document.title = `${issues > 0 ? `(${issues}) ` : ''}System Overview - ${overview.node.name}`;
}

function render(overview, haStatus) {
  lastOverview = overview;
  renderNode(overview.node);
  renderHa(overview.node, haStatus);
  renderSummary(overview);
  const seen = new Set();
  let prev = table.tHead;
  for (const vs of overview.virtualServices) {
    seen.add(vs.id);
    let view = vips.get(vs.id);
    if (!view) {
      view = createVip(vs.id);
      vips.set(vs.id, view);
    }
    updateVip(view, vs);
    if (prev.nextSibling !== view.tbody) prev.after(view.tbody);
    prev = view.tbody;
  }
  for (const [id, view] of vips) {
    if (seen.has(id)) continue;
    view.tbody.remove();
    vips.delete(id);
  }
  $('empty').hidden = overview.virtualServices.length > 0;
}

// ------------------------------------------------------------------ notices and freshness

let noticeTimer = 0;
function notice(text, kind = 'info') {
  const box = $('notice');
  clearTimeout(noticeTimer);
  box.textContent = text;
  box.className = `notice ${kind}`;
  box.hidden = false;
  if (kind === 'info') noticeTimer = setTimeout(() => (box.hidden = true), 5000);
}

function fresh(overview) {
  const updated = $('updated');
  updated.classList.remove('stale');
  const failed = overview.applyError ? ` \u00B7 NOT APPLIED: ${overview.applyError.message}` : '';
  setText(updated, `revision ${overview.revision}${failed} \u00B7 updated ${clock(overview.generatedAt)}`);
  document.body.removeAttribute('data-stale');
}

function stale(err) {
  const updated = $('updated');
  updated.classList.add('stale');
  const since = lastOverview ? ` since ${clock(lastOverview.generatedAt)}` : '';
  const why = err instanceof ApiError && err.status === 401 ? 'not signed in: reload the page to sign in again' : describeError(err);
  setText(updated, `not updated${since}: ${why}`);
  document.body.setAttribute('data-stale', 'true');
}

// ------------------------------------------------------------------ actions and polling

async function setAdminState(view, action) {
  const rs = view.rs;
  if (readOnly || !rs || busy.has(rs.id)) return;
  busy.add(rs.id);
  updateButtons(view);
  try {
    await call('PUT', `${API}/virtual-services/${encodeURIComponent(view.vsId)}/real-servers/${encodeURIComponent(rs.id)}/admin-state`, { adminState: action });
    notice(`${rs.label} on ${view.vipLabel}: ${action === 'online' ? 'online' : action === 'halt' ? 'halted' : 'draining'}.`);
  } catch (err) {
    notice(`Could not ${action} ${rs.label} on ${view.vipLabel}: ${describeError(err)}`, 'error');
  } finally {
    busy.delete(rs.id);
    await refresh();
  }
}

async function refresh() {
  const seq = ++requested;
  try {
    const overview = await call('GET', `${API}/overview`);
    const haStatus = overview.node.haRole === 'standalone' ? null : await call('GET', `${API}/ha-pair/status`).catch(() => null);
    // An answer older than one already drawn is dropped (a click's refresh can overtake a poll).
    if (seq < rendered) return;
    rendered = seq;
    render(overview, haStatus);
    fresh(overview);
  } catch (err) {
    if (seq >= rendered) stale(err);
  }
}

async function poll() {
  if (!document.hidden) await refresh();
  setTimeout(() => void poll(), REFRESH_MS);
}

async function start() {
  try {
    const me = await call('GET', `${API}/current-user`);
    // Administrators and operators may drain, halt and bring servers online (setRealServerAdminState).
    readOnly = me.role !== 'admin' && me.role !== 'operator';
    const source = me.source === 'directory' ? ' (directory)' : '';
    $('who').replaceChildren(`Signed in as ${me.username}${source}`, el('span', { class: 'role', 'data-role': me.role }, me.role));
  } catch (err) {
    notice(`Could not tell who is signed in (${describeError(err)}); the buttons stay disabled.`, 'error');
  }
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) void refresh();
  });
  await poll();
}

void start();
