// Sends syslog messages to one collector. UDP (RFC 5426): one datagram per message, sent as
// it happens (a collector that is down loses them: UDP cannot know). TCP (RFC 6587) and TLS
// (RFC 5425): octet-counted frames over one connection, from a bounded queue. A frame leaves
// the queue only once the socket has handed it to the kernel; when the connection fails or
// the collector closes it, the frames not yet handed over stay queued and the sender
// reconnects with exponential backoff (0.2 s doubling to 5 s), then sends what waited, in
// order. Beyond `queueSize` the oldest waiting frame is dropped and counted. What the kernel
// accepted but a collector that crashed never read is lost, as with any plain TCP syslog.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { isIP, connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

/** Where and how to send. */
export interface SenderTarget {
  host: string;
  port: number;
  transport: 'udp' | 'tcp' | 'tls';
  caPem: string | null;
  queueSize: number;
}

/** What a sender reports (the integration turns it into metrics and log lines). */
export interface SenderEvents {
  sent(count: number): void;
  dropped(count: number, why: string): void;
  connected(): void;
  disconnected(err: Error | null): void;
}

/** A sender to one collector. */
export interface SyslogSender {
  readonly target: SenderTarget;
  /** Queues (or, for UDP, sends) one message. */
  send(message: string, frame: Buffer): void;
  /** Messages waiting. */
  readonly queueLength: number;
  readonly isConnected: boolean;
  /** The frames still waiting (handed to a replacement sender). */
  takeQueue(): Buffer[];
  /** Stops; waits up to `flushMs` for the queue to empty first. Returns how many were left unsent. */
  close(flushMs: number): Promise<number>;
}

/** The largest UDP payload sent; longer messages are cut (RFC 5426 asks collectors for 2048 at least). */
const UDP_MAX = 8192;

class UdpSender implements SyslogSender {
  readonly #socket: UdpSocket;
  readonly queueLength = 0;
  readonly isConnected = true;
  constructor(readonly target: SenderTarget, private readonly events: SenderEvents) {
    this.#socket = createSocket(isIP(target.host) === 6 ? 'udp6' : 'udp4');
    this.#socket.on('error', (err) => this.events.disconnected(err));
    this.#socket.unref();
  }
  send(message: string): void {
    let body = Buffer.from(message, 'utf8');
    if (body.length > UDP_MAX) body = body.subarray(0, UDP_MAX);
    this.#socket.send(body, this.target.port, this.target.host, (err) => {
      if (err) this.events.dropped(1, err.message);
      else this.events.sent(1);
    });
  }
  takeQueue(): Buffer[] {
    return [];
  }
  async close(): Promise<number> {
    await new Promise<void>((resolve) => this.#socket.close(() => resolve()));
    return 0;
  }
}

const BACKOFF_FIRST_MS = 200;
const BACKOFF_MAX_MS = 5000;

class StreamSender implements SyslogSender {
  #queue: Buffer[] = [];
  /** Frames at the head of the queue written to the socket, not yet handed to the kernel. */
  #inFlight = 0;
  #socket: Socket | null = null;
  #connected = false;
  #backoff = BACKOFF_FIRST_MS;
  #timer: NodeJS.Timeout | null = null;
  #closed = false;
  #idle: (() => void)[] = [];

  constructor(readonly target: SenderTarget, private readonly events: SenderEvents, initial: Buffer[] = []) {
    this.#queue = initial.slice(-target.queueSize);
    if (initial.length > this.#queue.length) events.dropped(initial.length - this.#queue.length, 'queue full');
    this.#connect();
  }

  get queueLength(): number {
    return this.#queue.length;
  }

  get isConnected(): boolean {
    return this.#connected;
  }

  send(_message: string, frame: Buffer): void {
    if (this.#closed) return this.events.dropped(1, 'collector removed');
    this.#queue.push(frame);
    if (this.#queue.length > this.target.queueSize) {
      // The oldest frame not yet on the wire makes room; if every frame is, the new one is dropped.
      if (this.#inFlight < this.#queue.length - 1) this.#queue.splice(this.#inFlight, 1);
      else this.#queue.pop();
      this.events.dropped(1, 'queue full');
    }
    this.#pump();
  }

  takeQueue(): Buffer[] {
    const q = this.#queue;
    this.#queue = [];
    this.#inFlight = 0;
    return q;
  }

  #connect(): void {
    if (this.#closed || this.#socket) return;
    const { host, port } = this.target;
    const socket =
      this.target.transport === 'tls'
        ? tlsConnect({ host, port, ca: this.target.caPem ?? undefined, servername: isIP(host) ? undefined : host, minVersion: 'TLSv1.2' })
        : tcpConnect({ host, port });
    this.#socket = socket;
    socket.setKeepAlive(true, 30_000);
    socket.setNoDelay(true);
    socket.on(this.target.transport === 'tls' ? 'secureConnect' : 'connect', () => {
      if (this.#socket !== socket) return;
      this.#connected = true;
      this.#backoff = BACKOFF_FIRST_MS;
      this.events.connected();
      this.#pump();
    });
    // A collector says nothing on this connection: data or its end means it is going away.
    socket.on('data', () => undefined);
    socket.on('end', () => this.#lost(socket, null));
    socket.on('error', (err) => this.#lost(socket, err));
    socket.on('close', () => this.#lost(socket, null));
    socket.on('drain', () => this.#pump());
  }

  #lost(socket: Socket, err: Error | null): void {
    if (this.#socket !== socket) return;
    socket.destroy();
    this.#socket = null;
    const was = this.#connected;
    this.#connected = false;
    // Frames written but not handed to the kernel go again.
    this.#inFlight = 0;
    if (was || err) this.events.disconnected(err);
    if (this.#closed) return this.#wakeIdle();
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#connect();
    }, this.#backoff);
    this.#timer.unref();
    this.#backoff = Math.min(this.#backoff * 2, BACKOFF_MAX_MS);
  }

  #pump(): void {
    const socket = this.#socket;
    if (!socket || !this.#connected) return;
    while (this.#inFlight < this.#queue.length && !socket.writableNeedDrain) {
      const frame = this.#queue[this.#inFlight] as Buffer;
      this.#inFlight++;
      socket.write(frame, (err) => {
        if (err || this.#socket !== socket || this.#inFlight === 0) return;
        if (this.#queue[0] === frame) {
          this.#queue.shift();
          this.#inFlight--;
          this.events.sent(1);
        }
        if (this.#queue.length === 0) this.#wakeIdle();
      });
    }
  }

  #wakeIdle(): void {
    for (const w of this.#idle.splice(0)) w();
  }

  async close(flushMs: number): Promise<number> {
    if (this.#queue.length > 0 && this.#connected && flushMs > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, flushMs);
        this.#idle.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    const left = this.#queue.length;
    this.#socket?.end();
    this.#socket = null;
    this.#queue = [];
    return left;
  }
}

/** A sender for a collector; a stream sender starts with `initial` frames (a replaced sender's queue). */
export function createSender(target: SenderTarget, events: SenderEvents, initial: Buffer[] = []): SyslogSender {
  return target.transport === 'udp' ? new UdpSender(target, events) : new StreamSender(target, events, initial);
}
