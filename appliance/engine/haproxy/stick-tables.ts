// Source-IP persistence across a reload. HAProxy 2.6 hands its stick tables from the old
// worker to the new one through the local peer, but the new worker serves clients before the
// entries arrive. So the engine also carries the entries itself: it reads them from the old
// worker just before the reload and writes them back, by server name, into the new worker
// (`set table ... data.server_id`). Entries restart their expiry; entries of servers that are
// gone are dropped. A client the new worker meets before either is placed by the backend's
// consistent hash, on the server the old worker hashed it to (config-render.ts): what the
// table adds is the clients placed before the server set changed.
import { clientKey, plainAddress, type ClientPrefixes } from '../client-network.js';
import type { RuntimeApi } from './runtime-api.js';

/** One stick-table entry: the client key and the name of its server. */
export interface StickEntry {
  key: string;
  server: string;
}

/** The entries of every stick table, by table (backend) name. */
export type StickTables = Map<string, StickEntry[]>;

/** Commands per runtime-API connection when writing entries back. */
const BATCH = 100;

/** Parses `show table <name>`: `0x…: key=::ffff:10.0.0.1 use=0 exp=1799977 server_id=2 server_key=rs-…`. */
export function parseTable(text: string): { key: string; serverId: number; serverKey: string | null; expMs: number }[] {
  const out: { key: string; serverId: number; serverKey: string | null; expMs: number }[] = [];
  for (const line of text.split('\n')) {
    const key = /\skey=(\S+)/.exec(line)?.[1];
    const id = /\sserver_id=(\d+)/.exec(line)?.[1];
    if (!key || !id) continue;
    const name = /\sserver_key=(\S+)/.exec(line)?.[1];
    const exp = /\sexp=(\d+)/.exec(line)?.[1];
    out.push({ key, serverId: Number(id), serverKey: name && name !== '-' ? name : null, expMs: exp === undefined ? 0 : Number(exp) });
  }
  return out;
}

/** The table names `show table` lists. */
export function parseTableNames(text: string): string[] {
  return [...text.matchAll(/^# table: ([^,\s]+),/gm)].map((m) => m[1]!);
}

/** Server ids by name of one backend, from `show servers state <backend>`. */
export function parseServerIds(text: string): Map<string, number> {
  const ids = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const cells = line.trim().split(/\s+/);
    // be_id be_name srv_id srv_name ...
    if (cells.length > 3 && /^\d+$/.test(cells[2]!)) ids.set(cells[3]!, Number(cells[2]));
  }
  return ids;
}

/** Reads every stick table's entries (with server names) from the running worker. */
export async function readStickTables(runtime: RuntimeApi): Promise<StickTables> {
  const tables: StickTables = new Map();
  for (const table of parseTableNames(await runtime.query('show table'))) {
    const rows = parseTable(await runtime.query(`show table ${table}`));
    if (rows.length === 0) continue;
    // Entries a peer pushed may carry only the id: name them from this worker's servers.
    const names = new Map([...parseServerIds(await runtime.query(`show servers state ${table}`))].map(([name, id]) => [id, name]));
    const entries: StickEntry[] = [];
    for (const r of rows) {
      const server = r.serverKey ?? names.get(r.serverId);
      if (server) entries.push({ key: r.key, server });
    }
    tables.set(table, entries);
  }
  return tables;
}

/**
 * A VIP's source-IP table for the API (types.ts PersistenceTables): its entries under the
 * appliance's client keys (client-network.ts; HAProxy shows an IPv4 client of an ipv6 table
 * as `::ffff:a.b.c.d`, masked by `ipmask` when the VIP keeps networks), the server by id.
 */
export async function readPersistenceTable(runtime: RuntimeApi, table: string, prefixes: ClientPrefixes): Promise<{ raw: string; client: string; realServerId: string; expiresInSeconds: number }[]> {
  const rows = parseTable(await runtime.query(`show table ${table}`));
  if (rows.length === 0) return [];
  // The servers are named by their real server ids (names.ts serverName).
  const names = new Map([...parseServerIds(await runtime.query(`show servers state ${table}`))].map(([name, id]) => [id, name]));
  const out: { raw: string; client: string; realServerId: string; expiresInSeconds: number }[] = [];
  for (const r of rows) {
    const server = r.serverKey ?? names.get(r.serverId);
    const address = plainAddress(r.key);
    if (!server || address === null) continue;
    out.push({ raw: r.key, client: clientKey(address, prefixes), realServerId: server, expiresInSeconds: Math.ceil(r.expMs / 1000) });
  }
  return out.sort((a, b) => (a.client < b.client ? -1 : a.client > b.client ? 1 : 0));
}

/** Rounds of checking the new worker's table after the write (an entry in use cannot be cleared yet). */
const VERIFY_ROUNDS = 20;
const VERIFY_PAUSE_MS = 10;

/**
 * Writes the entries into the new worker; returns how many were written. A client the new
 * worker has already placed (it served a request in the few milliseconds before this ran)
 * is put back where the old worker had it: that is the server the client has been using.
 * Such an entry names its server, and the name wins over the id we set, so it is cleared
 * first; HAProxy refuses to clear an entry a request is using at that moment, so the table is
 * read back and what still differs is written again, a few times over.
 */
export async function restoreStickTables(runtime: RuntimeApi, tables: StickTables): Promise<number> {
  let written = 0;
  for (const [table, entries] of tables) {
    const ids = parseServerIds(await runtime.query(`show servers state ${table}`).catch(() => ''));
    const names = new Map([...ids].map(([name, id]) => [id, name]));
    let pending = entries.filter((e) => ids.has(e.server));
    written += pending.length;
    for (let round = 0; pending.length > 0 && round < VERIFY_ROUNDS; round++) {
      if (round > 0) await new Promise((r) => setTimeout(r, VERIFY_PAUSE_MS));
      const commands = pending.flatMap((e) => [`clear table ${table} key ${e.key}`, `set table ${table} key ${e.key} data.server_id ${ids.get(e.server)!}`]);
      for (let i = 0; i < commands.length; i += 2 * BATCH) await runtime.query(commands.slice(i, i + 2 * BATCH).join(';'));
      const now = new Map(parseTable(await runtime.query(`show table ${table}`)).map((r) => [r.key, r.serverKey ?? names.get(r.serverId)]));
      pending = pending.filter((e) => now.get(e.key) !== e.server);
    }
  }
  return written;
}
