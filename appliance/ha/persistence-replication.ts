// Source-IP persistence replication between the nodes of a pair, over TCP (default 7778).
// The active node streams its table to the passive one: the whole table when the stream
// opens and every few seconds after (a table's touches refresh `lastSeen` without events, and
// the passive node must not expire a client the active one still sees), and every new or
// moved entry within a few milliseconds. The passive node imports (the newer `lastSeen`
// wins), so after a takeover a client goes back to the server it had.
//
// The stream runs over TLS with the nodes' API certificates, the peer's pinned by
// fingerprint on the connecting side, and is opened with a token derived from the pair key
// on the accepting side: both ends know whom they talk to.
//
// An engine can carry replication itself (HAProxy's `peers` section on the same port): its
// `persistenceSync` (the Engine interface) says so, and the pair runtime hands it the two
// addresses instead of running this stream.
import { connect as netConnect, type Socket } from 'node:net';
import { createServer, connect, type Server, type TLSSocket } from 'node:tls';
import { createInterface } from 'node:readline';
import type { Logger } from 'pino';
import type { PersistenceChange, PersistenceEntry, ReplicablePersistence } from '../engine/types.js';
import { tokenMatches } from './pair-keys.js';

/** Replication as the pair runtime drives it. */
export interface PersistenceReplication {
  /** The active node streams; the passive node only receives. */
  setActive(active: boolean): void;
  /** Entries sent and imported so far, and whether a stream to the peer is open. */
  stats(): { sent: number; imported: number; streaming: boolean };
  close(): Promise<void>;
}

/** What the built-in stream needs. */
export interface StreamOptions {
  table: ReplicablePersistence;
  localAddress: string;
  peerAddress: string;
  port: number;
  tls: { cert: string; key: string };
  peerFingerprintSha256: string;
  token: string;
  logger: Logger;
}

/** How often the whole table is resent (refreshing `lastSeen` on the passive node). */
export const FULL_SYNC_MS = 5000;
const BATCH_MS = 5;
const RECONNECT_MS = 300;
const MAX_BUFFERED = 16 * 1024 * 1024;

/** The built-in TLS stream of persistence entries. */
export class PersistenceStream implements PersistenceReplication {
  readonly #o: StreamOptions;
  #server: Server | null = null;
  #out: TLSSocket | null = null;
  #active = false;
  #closed = false;
  #pending: PersistenceEntry[] = [];
  #batch: NodeJS.Timeout | null = null;
  #full: NodeJS.Timeout | null = null;
  #reconnect: NodeJS.Timeout | null = null;
  #sent = 0;
  #imported = 0;
  /** Every accepted connection, handshaking or not, so that close() need not wait for any. */
  readonly #inbound = new Set<Socket>();
  readonly #onChange = (change: PersistenceChange) => {
    if (!this.#out) return;
    if (change.type === 'clear') {
      // A client the API cleared is forgotten on the passive node too (a takeover must not bring
      // it back), after any entry still batched, so that the clear comes last.
      if (this.#batch) clearTimeout(this.#batch);
      this.#flush();
      this.#write([], [{ virtualServiceId: change.entry.virtualServiceId, client: change.entry.client }]);
      return;
    }
    // Expiries need no replication: the passive node expires and drops entries by itself.
    if (change.type !== 'set') return;
    this.#pending.push(change.entry);
    this.#batch ??= setTimeout(() => this.#flush(), BATCH_MS);
  };

  constructor(options: StreamOptions) {
    this.#o = options;
  }

  /** Listens for the peer's stream. */
  async start(): Promise<void> {
    const server = createServer({ cert: this.#o.tls.cert, key: this.#o.tls.key, minVersion: 'TLSv1.2', handshakeTimeout: 5000 }, (socket) => this.#accept(socket));
    server.on('tlsClientError', () => undefined);
    server.on('connection', (socket: Socket) => {
      this.#inbound.add(socket);
      socket.once('close', () => this.#inbound.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#o.port, this.#o.localAddress, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.#o.logger.warn({ err }, 'persistence replication listener error'));
    this.#server = server;
  }

  setActive(active: boolean): void {
    if (this.#active === active) return;
    this.#active = active;
    if (active) {
      this.#o.table.on('change', this.#onChange);
      this.#connect();
    } else {
      this.#o.table.off('change', this.#onChange);
      this.#disconnect();
    }
  }

  stats(): { sent: number; imported: number; streaming: boolean } {
    return { sent: this.#sent, imported: this.#imported, streaming: this.#out !== null };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.setActive(false);
    const server = this.#server;
    this.#server = null;
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    for (const s of this.#inbound) s.destroy();
    this.#inbound.clear();
    // Every connection is gone, so the listener closes at once; the bound is for safety only.
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
  }

  #accept(socket: TLSSocket): void {
    socket.on('error', () => undefined);
    let authenticated = false;
    const timer = setTimeout(() => socket.destroy(), 5000);
    const lines = createInterface({ input: socket, crlfDelay: Infinity });
    lines.on('line', (line) => {
      if (!authenticated) {
        clearTimeout(timer);
        if (!line.startsWith('AUTH ') || !tokenMatches(line.slice(5), this.#o.token)) {
          this.#o.logger.warn({ from: socket.remoteAddress }, 'persistence replication stream refused: wrong token');
          socket.destroy();
          return;
        }
        authenticated = true;
        return;
      }
      try {
        const msg = JSON.parse(line) as { entries?: PersistenceEntry[]; forget?: { virtualServiceId: string; client: string }[] };
        if (Array.isArray(msg.entries)) this.#imported += this.#o.table.import(msg.entries);
        if (Array.isArray(msg.forget)) for (const f of msg.forget) if (typeof f?.virtualServiceId === 'string' && typeof f.client === 'string') this.#o.table.forget(f.virtualServiceId, f.client);
      } catch {
        socket.destroy();
      }
    });
  }

  #connect(): void {
    if (this.#closed || !this.#active || this.#out) return;
    // From this node's pair address, so that a firewall can tell the pair's traffic apart.
    const tcp = netConnect({ host: this.#o.peerAddress, port: this.#o.port, localAddress: this.#o.localAddress });
    tcp.on('error', () => undefined);
    const socket = connect({ socket: tcp, rejectUnauthorized: false });
    socket.setNoDelay(true);
    socket.once('secureConnect', () => {
      if (socket.getPeerCertificate().fingerprint256 !== this.#o.peerFingerprintSha256) {
        this.#o.logger.warn('persistence replication: the peer presented another certificate than the pinned one');
        socket.destroy();
        return;
      }
      this.#out = socket;
      socket.write(`AUTH ${this.#o.token}\n`);
      this.#sendAll();
      this.#full = setInterval(() => this.#sendAll(), FULL_SYNC_MS);
    });
    socket.on('error', () => undefined);
    socket.once('close', () => {
      if (this.#out === socket) this.#out = null;
      if (this.#full) clearInterval(this.#full);
      this.#full = null;
      if (!this.#closed && this.#active) this.#reconnect ??= setTimeout(() => {
        this.#reconnect = null;
        this.#connect();
      }, RECONNECT_MS);
    });
  }

  #disconnect(): void {
    if (this.#reconnect) clearTimeout(this.#reconnect);
    this.#reconnect = null;
    if (this.#batch) clearTimeout(this.#batch);
    this.#batch = null;
    this.#pending = [];
    this.#out?.end();
    this.#out = null;
  }

  #sendAll(): void {
    this.#write(this.#o.table.export());
  }

  #flush(): void {
    this.#batch = null;
    const entries = this.#pending;
    this.#pending = [];
    if (entries.length > 0) this.#write(entries);
  }

  #write(entries: PersistenceEntry[], forget: { virtualServiceId: string; client: string }[] = []): void {
    const out = this.#out;
    if (!out) return;
    if (forget.length > 0) out.write(`${JSON.stringify({ forget })}\n`);
    // A peer that stops reading is cut off; the next stream starts with the whole table.
    if (out.writableLength > MAX_BUFFERED) {
      out.destroy();
      return;
    }
    for (let i = 0; i < entries.length; i += 1000) out.write(`${JSON.stringify({ entries: entries.slice(i, i + 1000) })}\n`);
    this.#sent += entries.length;
  }
}
