// The System Overview as a text table, as `lbappliance status` prints it: one line per VIP,
// its real servers indented under it, the same columns as the web page. Colour (ANSI) only
// when asked for; plain text is aligned, greppable and the same on every terminal.
import type { Overview } from '../../openapi/sdk/index.js';

type Colour = 'green' | 'yellow' | 'red' | 'blue' | 'grey';

const ANSI: Record<Colour, string> = { green: '32', yellow: '33', red: '31', blue: '34', grey: '90' };
const PERSISTENCE: Record<string, string> = { none: '-', 'http-cookie': 'HTTP cookie', 'source-ip': 'source IP' };

/** A cell: its text, and the colour to paint it in (when colour is on). */
interface Cell {
  text: string;
  colour?: Colour;
  bold?: boolean;
}

/** Whether `status` should paint: `always`, `never`, or `auto` (a terminal, and NO_COLOR unset). */
export function colourWanted(mode: string, stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (mode === 'always') return true;
  if (mode === 'never') return false;
  return stream.isTTY === true && env.NO_COLOR === undefined && env.TERM !== 'dumb';
}

function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min`;
  return `${Math.floor(ms / 3_600_000)} h`;
}

function lastCheck(rs: Overview['virtualServices'][number]['realServers'][number], now: number): string {
  const c = rs.lastCheck;
  if (!c) return '-';
  return `${c.ok ? 'ok' : 'FAILED'} ${c.detail} (${Math.round(c.durationMs)} ms, ${duration(Math.max(0, now - Date.parse(c.at)))} ago)`;
}

/** The effective weight, and the configured one when the agent or the admin state changed it. */
function weight(rs: Overview['virtualServices'][number]['realServers'][number]): string {
  return rs.effectiveWeight === rs.weight ? String(rs.weight) : `${rs.effectiveWeight} of ${rs.weight}`;
}

function haLine(o: Overview): string {
  const n = o.node;
  if (n.haRole === 'standalone') return 'HA: standalone (no peer)';
  const beat = n.peerHeartbeatAgeMs === null || n.peerHeartbeatAgeMs === undefined ? 'no heartbeat from the peer yet' : `peer heartbeat ${duration(n.peerHeartbeatAgeMs)} ago`;
  return `HA: this node is ${n.haRole}, ${n.haState}; ${beat}`;
}

/** Renders the overview; `colour` adds ANSI colours and a coloured dot per row. */
export function formatOverview(o: Overview, options: { colour: boolean }): string {
  const now = Date.parse(o.generatedAt);
  const rows: Cell[][] = [];
  const heading = (cells: string[]): Cell[] => cells.map((text) => ({ text, bold: true }));
  rows.push(heading(['VIRTUAL SERVICE', 'IP', 'PORTS', 'CONN', 'PROTOCOL', 'PERSISTENCE', 'CHECK', 'STATUS']));
  for (const vs of o.virtualServices) {
    rows.push([
      { text: vs.label, colour: vs.colour, bold: true },
      { text: vs.ipAddress },
      { text: vs.ports.join(',') },
      { text: String(vs.connections) },
      { text: vs.protocol.toUpperCase() },
      { text: PERSISTENCE[vs.persistence] ?? vs.persistence },
      { text: vs.checkType ?? 'connect' },
      { text: vs.error ? `${vs.state}: ${vs.error}` : vs.state, colour: vs.colour },
    ]);
    if (vs.realServers.length === 0) continue;
    rows.push(heading(['  REAL SERVER', 'IP', 'PORT', 'CONN', 'WEIGHT', 'HEALTH', 'AGENT', 'LAST CHECK']));
    for (const rs of vs.realServers) {
      const state = rs.adminState === 'online' ? rs.health : `${rs.health}, ${rs.adminState === 'halt' ? 'halted' : 'draining'}`;
      rows.push([
        { text: `  ${rs.label}${rs.backup ? ' (backup)' : ''}`, colour: rs.colour },
        { text: rs.address },
        { text: rs.port === null ? 'client' : String(rs.port) },
        { text: String(rs.connections) },
        { text: weight(rs) },
        { text: state, colour: rs.colour },
        { text: rs.agent ? rs.agent.reply : '-' },
        { text: lastCheck(rs, now) },
      ]);
    }
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]?.text.length ?? 0)));
  const paint = (cell: Cell, padded: string): string => {
    if (!options.colour) return padded;
    const codes = [cell.bold ? '1' : '', cell.colour ? ANSI[cell.colour] : ''].filter(Boolean).join(';');
    // Pad first, paint the text only: escape codes must not count towards the width.
    return codes ? `\x1b[${codes}m${cell.text}\x1b[0m${padded.slice(cell.text.length)}` : padded;
  };
  const dot = (row: Cell[]): string => {
    if (!options.colour) return '';
    const colour = row[0]?.bold && !row[0].colour ? undefined : row[0]?.colour;
    return colour ? `\x1b[${ANSI[colour]}m\u25CF\x1b[0m ` : '  ';
  };
  const lines = rows.map((row) => dot(row) + row.map((cell, c) => paint(cell, c === row.length - 1 ? cell.text : cell.text.padEnd(widths[c] ?? 0))).join('  '));
  const failed = o.applyError ? `\nNOT APPLIED: revision ${o.applyError.revision} (${o.applyError.at}): ${o.applyError.message}` : '';
  const head = `${o.node.name}: lbappliance ${o.node.version}, engine ${o.node.engine}, revision ${o.revision}; ${haLine(o)}${failed}`;
  const empty = o.virtualServices.length === 0 ? '\nNo virtual services configured.' : '';
  return `${head}\n\n${lines.join('\n')}${empty}\n`;
}
