// A generic TCP service for the guides' TCP-mode VIPs whose protocol is not modelled here
// (TeraRecon AVS-AQI on 1200; AGFA 4447, 5222, 5223, 7443, 6514, 10123, 10124): on connect
// it sends one line naming itself, then echoes every byte back. The banner tells a test
// which server the appliance chose; the echo proves bytes pass both ways unchanged.
// It never closes an idle connection itself, so the appliance's own timeouts are what end one.
import { createServer, type Socket } from 'node:net';
import { Listener, hostPort, type BackendService, type ServiceIdentity } from '../service.js';

/** The line a TCP echo service sends on connect, e.g. "HELLO terarecon-server1 127.0.40.6:1200\r\n". */
export function tcpBanner(identity: ServiceIdentity): string {
  return `HELLO ${identity.name} ${hostPort(identity.address, identity.port)}\r\n`;
}

/** A TCP service that names itself on connect and echoes. */
export class TcpEchoServer implements BackendService {
  /** Always 'tcp'. */
  readonly kind = 'tcp' as const;
  readonly identity: ServiceIdentity;
  /** Connections accepted since construction. */
  accepted = 0;
  readonly #listener: Listener;

  constructor(identity: ServiceIdentity) {
    this.identity = { host: identity.host, name: identity.name, address: identity.address, port: identity.port };
    this.#listener = new Listener(createServer((socket) => this.#serve(socket)), identity.address, identity.port);
  }

  /** True while it accepts connections. */
  get running(): boolean {
    return this.#listener.listening;
  }

  /** Open connections now. */
  get connections(): number {
    return this.#listener.connections;
  }

  /** Binds the address and port. */
  start(): Promise<void> {
    return this.#listener.start();
  }

  /** Closes the listener and every connection. */
  stop(): Promise<void> {
    return this.#listener.stop();
  }

  #serve(socket: Socket): void {
    this.accepted++;
    socket.on('error', () => socket.destroy());
    socket.write(tcpBanner(this.identity));
    socket.pipe(socket);
  }
}
