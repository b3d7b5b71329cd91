// What every backend service is to the supervisor: one listener on one loopback address and
// port that can be stopped (refusing connections, like a crashed server) and started again.
// The Listener does the socket work they all share: bind exactly the given address (never
// the wildcard, so many servers can share a port on different 127.x addresses and the
// appliance's VIPs can bind theirs), track open connections, and cut them on stop.
import type { Server, Socket } from 'node:net';
import { BackendError } from './errors.js';

/** The kinds of backend service a profile can run. */
export type BackendKind = 'dicom' | 'hl7' | 'http' | 'https' | 'tcp' | 'health';

/** Who a service is: the server (host) it belongs to and where it listens. */
export interface ServiceIdentity {
  /** The real server's label in the guide's terms, e.g. SERVER1. */
  host: string;
  /** The name the service answers with, e.g. terarecon-server1. */
  name: string;
  address: string;
  port: number;
}

/** A running (or stopped) backend service. */
export interface BackendService {
  readonly kind: BackendKind;
  readonly identity: ServiceIdentity;
  /** True while it accepts connections. */
  readonly running: boolean;
  /** Binds and accepts connections (no-op when running). */
  start(): Promise<void>;
  /** Closes the listener and every open connection (no-op when stopped). */
  stop(): Promise<void>;
}

/** A service whose whole life is one Listener: running, start and stop come from it. */
export abstract class ListeningService implements BackendService {
  abstract readonly kind: BackendKind;
  readonly identity: ServiceIdentity;
  /** The listener; subclasses attach their connection or request handler to its server. */
  protected readonly listener: Listener;

  constructor(identity: ServiceIdentity, server: Server) {
    this.identity = { host: identity.host, name: identity.name, address: identity.address, port: identity.port };
    this.listener = new Listener(server, identity.address, identity.port);
  }

  /** True while it accepts connections. */
  get running(): boolean {
    return this.listener.listening;
  }

  /** Binds the address and port. */
  start(): Promise<void> {
    return this.listener.start();
  }

  /** Closes the listener and every open connection. */
  stop(): Promise<void> {
    return this.listener.stop();
  }
}

/** Formats an address and port, with brackets for IPv6. */
export function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** One net.Server (or http/https/http2/tls server) bound to one address and port, restartable. */
export class Listener {
  readonly #sockets = new Set<Socket>();
  #listening = false;

  constructor(
    readonly server: Server,
    readonly address: string,
    readonly port: number,
  ) {
    server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
  }

  /** True while bound. */
  get listening(): boolean {
    return this.#listening;
  }

  /** Number of open connections. */
  get connections(): number {
    return this.#sockets.size;
  }

  /** Binds the address and port (throws BACKEND_LISTEN_FAILED with the system's reason). */
  async start(): Promise<void> {
    if (this.#listening) return;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        this.server.off('listening', onListening);
        const hint = err.code === 'EACCES' ? ' (ports below 1024 need root or CAP_NET_BIND_SERVICE)' : err.code === 'EADDRNOTAVAIL' ? ' (not a local address)' : '';
        reject(new BackendError('BACKEND_LISTEN_FAILED', `cannot listen on ${hostPort(this.address, this.port)}: ${err.code ?? err.message}${hint}`, { address: this.address, port: this.port, errno: err.code }, { cause: err }));
      };
      const onListening = () => {
        this.server.off('error', onError);
        resolve();
      };
      this.server.once('error', onError);
      this.server.once('listening', onListening);
      this.server.listen({ host: this.address, port: this.port, exclusive: true });
    });
    this.#listening = true;
  }

  /** Stops accepting, destroys open connections, and waits until the port is free. */
  async stop(): Promise<void> {
    if (!this.#listening) return;
    this.#listening = false;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }
}
