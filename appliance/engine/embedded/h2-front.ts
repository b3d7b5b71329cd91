// The HTTP/2 side of an http2 VIP: a node http2 server fed the TLS connections whose ALPN
// chose h2 (connections that chose http/1.1 go to the raw HTTP/1.1 proxy). It never
// listens itself, so one server serves every port of the VIP.
import type { Socket } from 'node:net';
import { constants, createServer as createH2Server, type Http2Server, type Http2Session, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import { MAX_HEAD_BYTES, MAX_HEADER_COUNT } from './h1-head.js';
import { clientOf } from './header-rules.js';
import { handleH2Stream, type H2Peer } from './h2-proxy.js';
import type { VipRuntime } from './vip-runtime.js';

/** The HTTP/2 server of one VIP. */
export class H2Front {
  readonly #server: Http2Server;
  readonly #sessions = new Set<Http2Session>();
  readonly #vip: VipRuntime;

  constructor(vip: VipRuntime) {
    this.#vip = vip;
    this.#server = createH2Server({ maxSessionMemory: 64, maxHeaderListPairs: MAX_HEADER_COUNT + 4, settings: { maxHeaderListSize: MAX_HEAD_BYTES } });
    // The client's address and the socket, read once per connection for all its streams.
    const peers = new WeakMap<Http2Session, H2Peer>();
    this.#server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
      const peer = peers.get(stream.session as Http2Session);
      if (peer) handleH2Stream(this.#vip, stream, headers, peer);
      else stream.close(constants.NGHTTP2_INTERNAL_ERROR);
    });
    this.#server.on('session', (session: Http2Session) => {
      const socket = session.socket as unknown as Socket;
      peers.set(session, { client: clientOf(socket), localPort: socket.localPort ?? 0, socket });
      this.#sessions.add(session);
      session.once('close', () => this.#sessions.delete(session));
      // A client's protocol error ends its session, never the appliance.
      session.on('error', () => session.destroy());
    });
    this.#server.on('sessionError', () => undefined);
    this.configure();
  }

  /** Follows the VIP's client timeout (idle sessions). */
  configure(): void {
    this.#server.setTimeout(this.#vip.clientTimeoutMs);
  }

  /** Serves a TLS connection that negotiated h2. */
  accept(socket: TLSSocket): void {
    this.#server.emit('connection', socket);
  }

  /** Asks HTTP/2 clients to go (GOAWAY); in-flight streams finish. */
  closeIdle(): void {
    for (const s of this.#sessions) s.close();
  }
}
