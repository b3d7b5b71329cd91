// The heartbeat link: one UDP socket on this node's heartbeat address that sends this node's
// state to the peer every interval (and at once on every change of state), and hands every
// accepted heartbeat of the peer to the pair runtime. Rejected datagrams are only counted.
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Logger } from 'pino';
import { decodeHeartbeat, encodeHeartbeat, ReplayGuard, type Heartbeat, type RejectReason } from './heartbeat-packet.js';

/** How far a heartbeat's send time may be from this node's clock (the pair needs NTP). */
export const HEARTBEAT_CLOCK_WINDOW_MS = 30_000;

/** What the link needs to know and to tell. */
export interface HeartbeatLinkOptions {
  localAddress: string;
  peerAddress: string;
  port: number;
  intervalMs: number;
  key: Buffer;
  pairId: string;
  bootId: string;
  logger: Logger;
  /** This node's side of the next heartbeat. */
  local: () => Pick<Heartbeat, 'role' | 'state' | 'term' | 'revision' | 'usersDigest'>;
  /** An accepted heartbeat of the peer. */
  onHeartbeat: (hb: Heartbeat, receivedAt: number) => void;
  /** A datagram that changed nothing. */
  onReject?: (reason: RejectReason) => void;
}

/** The UDP heartbeat between the two nodes of a pair. */
export class HeartbeatLink {
  readonly #o: HeartbeatLinkOptions;
  readonly #guard = new ReplayGuard(HEARTBEAT_CLOCK_WINDOW_MS);
  #socket: Socket | null = null;
  #timer: NodeJS.Timeout | null = null;
  #seq = 0n;
  #sendErrorLogged = false;

  constructor(options: HeartbeatLinkOptions) {
    this.#o = options;
  }

  /** Binds the socket and starts sending. */
  async start(): Promise<void> {
    const socket = createSocket({ type: isIPv6(this.#o.localAddress) ? 'udp6' : 'udp4' });
    socket.on('message', (msg) => {
      const now = Date.now();
      const decoded = decodeHeartbeat(msg, this.#o.key, this.#o.pairId);
      if (typeof decoded === 'string') return this.#o.onReject?.(decoded);
      if (decoded.bootId === this.#o.bootId) return this.#o.onReject?.('own-role');
      const stale = this.#guard.accept(decoded, now);
      if (stale) return this.#o.onReject?.(stale);
      this.#o.onHeartbeat(decoded, now);
    });
    socket.on('error', (err) => this.#o.logger.warn({ err }, 'heartbeat socket error'));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(this.#o.port, this.#o.localAddress, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    this.#socket = socket;
    this.sendNow();
    this.#timer = setInterval(() => this.sendNow(), this.#o.intervalMs);
  }

  /** Sends a heartbeat now (on a change of state, so the peer learns it without waiting). */
  sendNow(): void {
    const socket = this.#socket;
    if (!socket) return;
    this.#seq += 1n;
    const packet = encodeHeartbeat({ ...this.#o.local(), pairId: this.#o.pairId, bootId: this.#o.bootId, seq: this.#seq, sentAt: Date.now() }, this.#o.key);
    socket.send(packet, this.#o.port, this.#o.peerAddress, (err) => {
      // A peer that is down answers with ICMP errors on some systems: say so once, not 3 times a second.
      if (err && !this.#sendErrorLogged) {
        this.#sendErrorLogged = true;
        this.#o.logger.warn({ err: err.message }, 'heartbeat could not be sent');
      } else if (!err) this.#sendErrorLogged = false;
    });
  }

  /** Stops sending and closes the socket. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    const socket = this.#socket;
    this.#socket = null;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}
