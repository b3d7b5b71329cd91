// A generic TCP service for the guides' TCP-mode VIPs whose protocol is not modelled here
// (TeraRecon AVS-AQI on 1200; AGFA 4447, 5222, 5223, 7443, 6514, 10123, 10124): on connect
// it sends one line naming itself, then echoes every byte back. The banner tells a test
// which server the appliance chose; the echo proves bytes pass both ways unchanged.
// It never closes an idle connection itself, so the appliance's own timeouts are what end one.
import { createServer, type Socket } from 'node:net';
import { ListeningService, hostPort, type ServiceIdentity } from '../service.js';

/** The line a TCP echo service sends on connect, e.g. "HELLO terarecon-server1 127.0.40.6:1200\r\n". */
export function tcpBanner(identity: ServiceIdentity): string {
  return `HELLO ${identity.name} ${hostPort(identity.address, identity.port)}\r\n`;
}

/** A TCP service that names itself on connect and echoes. */
export class TcpEchoServer extends ListeningService {
  /** Always 'tcp'. */
  readonly kind = 'tcp' as const;
  /** Connections accepted since construction. */
  accepted = 0;

  constructor(identity: ServiceIdentity) {
    super(identity, createServer());
    this.listener.server.on('connection', (socket: Socket) => this.#serve(socket));
  }

  /** Open connections now. */
  get connections(): number {
    return this.listener.connections;
  }

  #serve(socket: Socket): void {
    this.accepted++;
    socket.on('error', () => socket.destroy());
    socket.write(tcpBanner(this.identity));
    socket.pipe(socket);
  }
}
