// The listening sockets of every VIP: one net or TLS server per VIP address and port. A
// listener is kept while its address, port and kind stay the same; a new certificate is
// swapped into a live TLS listener (new handshakes get it, open connections keep theirs).
// Connections are counted here for the overview and metered for the byte counters.
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { createSecureContext, createServer as createTlsServer, type SecureContext, type Server as TlsServer, type TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import type { CertificateSnapshot } from '../types.js';
import type { EngineMetrics } from './engine-metrics.js';
import { H2Front } from './h2-front.js';
import { serveHttp1, type Http1Session } from './h1-session.js';
import { handleTcpConnection } from './tcp-proxy.js';
import { readProxyHeader } from './proxy-protocol.js';
import { contextOptions, SniContexts, tlsSignature } from './tls-policy.js';
import type { VipRuntime } from './vip-runtime.js';

/** How long an idle keep-alive connection of a VIP that stays waits for one more request when its listener closes. */
const DRAIN_LINGER_MS = 1000;

/** How a listener serves its connections. */
export type ListenerKind = 'http' | 'https' | 'h2' | 'tcp' | 'tls';

/** One wanted listener. */
export interface ListenerSpec {
  vip: VipRuntime;
  host: string;
  port: number;
  kind: ListenerKind;
  certificate: CertificateSnapshot | null;
}

const BIND_RETRY_MS = 2000;
/**
 * Binds on an address a listener of the same revision has just released: the first waits in
 * the apply. With engine workers the shared socket is bound by the primary process (node's
 * cluster), which can still hold the released one when the new query reaches it; a bind then
 * fails with EADDRINUSE for a few milliseconds. Total wait at most about 1.3 s.
 */
const REBIND_DELAYS_MS = [5, 10, 20, 40, 80, 160, 320, 640];

function keyOf(spec: ListenerSpec): string {
  return `${spec.vip.id}|${spec.host}|${spec.port}|${spec.kind}`;
}

/** The kind of listener a VIP needs. */
export function listenerKind(vip: VipRuntime): ListenerKind {
  const { protocol, certificate } = vip.spec;
  if (protocol === 'tcp') return certificate ? 'tls' : 'tcp';
  if (protocol === 'http2') return 'h2';
  return certificate ? 'https' : 'http';
}

function alpnOf(kind: ListenerKind): string[] | undefined {
  if (kind === 'h2') return ['h2', 'http/1.1'];
  if (kind === 'https') return ['http/1.1'];
  return undefined;
}

class Listener {
  readonly key: string;
  readonly server: NetServer;
  bound = false;
  error: string | null = null;
  /** Certificates and TLS policy the listener serves now (tls-policy.ts). */
  signature: string | null;
  #sni: SniContexts | null = null;
  /** The TLS server behind the plain listener of a TLS kind. */
  #secure: TlsServer | null = null;
  #retry: NodeJS.Timeout | null = null;
  #closed = false;
  /** HTTP/1.1 sessions, drained when the listener closes. */
  readonly #sessions = new Set<Http1Session>();

  constructor(readonly spec: ListenerSpec, front: H2Front | null, metrics: EngineMetrics, readonly log: Logger, sockets: Set<Socket>) {
    this.key = keyOf(spec);
    this.signature = tlsSignature(spec.vip.spec);
    const vip = spec.vip;
    const onSocket = (socket: Socket) => {
      vip.connections++;
      vip.counters.connections.inc();
      metrics.meter(socket, vip.counters.bytesIn, vip.counters.bytesOut);
      sockets.add(socket);
      socket.once('close', () => {
        vip.connections--;
        sockets.delete(socket);
      });
    };
    // With acceptProxy, nothing reads a connection before its PROXY header has been taken off.
    const afterHeader = (socket: Socket, next: () => void) => {
      if (!vip.spec.acceptProxy) return next();
      readProxyHeader(socket, vip.spec.timeouts.httpRequest * 1000, next, (reason) => {
        this.log.debug({ virtualService: vip.spec.label, from: socket.remoteAddress, reason }, 'connection refused: PROXY protocol header');
      });
    };
    if (spec.kind === 'http' || spec.kind === 'tcp') {
      const server = createNetServer({ allowHalfOpen: spec.kind === 'tcp', pauseOnConnect: spec.kind === 'tcp', noDelay: true });
      server.on('connection', (socket: Socket) => {
        onSocket(socket);
        afterHeader(socket, () => this.#serve(socket, front));
      });
      this.server = server;
    } else {
      const cert = spec.certificate as CertificateSnapshot;
      this.#sni = new SniContexts(vip.spec);
      const secure = createTlsServer({
        ...contextOptions(cert, vip.spec.tls),
        ALPNProtocols: alpnOf(spec.kind),
        allowHalfOpen: spec.kind === 'tls',
        noDelay: true,
        // A name with no SNI certificate of its own gets the default context (undefined).
        SNICallback: (name: string, cb: (err: Error | null, ctx?: SecureContext) => void) => cb(null, this.#sni?.lookup(name)),
      });
      secure.on('secureConnection', (socket: TLSSocket) => this.#serve(socket, front));
      secure.on('tlsClientError', (_err: Error, socket: TLSSocket) => socket.destroy());
      this.#secure = secure;
      // A plain listener in front: a PROXY header comes before the TLS handshake.
      const server = createNetServer({ allowHalfOpen: spec.kind === 'tls', pauseOnConnect: true, noDelay: true });
      server.on('connection', (socket: Socket) => {
        onSocket(socket);
        afterHeader(socket, () => secure.emit('connection', socket));
      });
      this.server = server;
    }
    this.server.on('error', (err: NodeJS.ErrnoException) => this.#failed(err));
  }

  /** Serves a client connection (plain, or with its TLS handshake done) once the VIP admits it. */
  #serve(socket: Socket, front: H2Front | null): void {
    const { vip, kind } = this.spec;
    if (kind === 'http' || kind === 'tcp') {
      {
        if (kind === 'http') {
          // Paused until admitted: a queued client's request waits in the socket.
          socket.pause();
          vip.admit(socket, () => this.#track(serveHttp1(vip, socket, false)));
        } else vip.admit(socket, () => handleTcpConnection(vip, socket));
      }
      return;
    }
    const tls = socket as TLSSocket;
    // The VIP's connection limit admits a client once its handshake is done.
    vip.admit(tls, () => {
      if (kind === 'tls') handleTcpConnection(vip, tls);
      else if (front && tls.alpnProtocol === 'h2') front.accept(tls);
      else this.#track(serveHttp1(vip, tls, true));
    });
  }

  /**
   * Binds; resolves when bound or when binding failed (then retried in the background). With
   * `released` (a listener of this revision has just closed this address), an address still in
   * use is tried again a few times first, and the answer waits for those tries.
   */
  listen(released = false): Promise<void> {
    return new Promise((resolve) => {
      let attempt = 0;
      const onError = (err: NodeJS.ErrnoException) => {
        this.server.off('listening', onListening);
        const delay = REBIND_DELAYS_MS[attempt++];
        if (released && err.code === 'EADDRINUSE' && delay !== undefined && !this.#closed) {
          setTimeout(() => (this.#closed ? resolve() : bind()), delay);
          return;
        }
        this.#failed(err);
        resolve();
      };
      const onListening = () => {
        this.server.off('error', onError);
        this.bound = true;
        this.error = null;
        resolve();
      };
      const bind = () => {
        this.server.once('error', onError);
        this.server.once('listening', onListening);
        this.server.listen({ host: this.spec.host, port: this.spec.port, backlog: 4096 });
      };
      bind();
    });
  }

  /** Serves new handshakes with new certificates or policy; open connections keep theirs. */
  rotate(cert: CertificateSnapshot): void {
    const vs = this.spec.vip.spec;
    this.#sni = new SniContexts(vs);
    (this.#secure as TlsServer).setSecureContext(contextOptions(cert, vs.tls));
    this.signature = tlsSignature(vs);
  }

  /** Stops accepting; open connections finish on their own. */
  close(): void {
    this.#closed = true;
    if (this.#retry) clearTimeout(this.#retry);
    this.bound = false;
    this.server.close();
    // Keep-alive clients finish the request in hand and are then closed; while the VIP stays
    // (disabled, or carried by another worker: one-view.ts), an idle one may send one more.
    const linger = this.spec.vip.spec.enabled ? 0 : DRAIN_LINGER_MS;
    for (const session of this.#sessions) session.drain(linger);
  }

  #track(session: Http1Session): void {
    this.#sessions.add(session);
    session.onClose(() => this.#sessions.delete(session));
  }

  #failed(err: NodeJS.ErrnoException): void {
    if (this.bound) return;
    this.error = `cannot listen on ${this.spec.host}:${this.spec.port}: ${err.code ?? err.message}`;
    this.log.warn({ virtualService: this.spec.vip.spec.label, host: this.spec.host, port: this.spec.port, code: err.code }, 'listener could not bind; retrying');
    if (this.#closed || this.#retry) return;
    this.#retry = setTimeout(() => {
      this.#retry = null;
      if (!this.#closed) void this.listen();
    }, BIND_RETRY_MS);
    this.#retry.unref();
  }
}

/** Every listener of the engine. */
export class ListenerSet {
  readonly #listeners = new Map<string, Listener>();
  /** The keys of each VIP's listeners. */
  readonly #byVip = new Map<string, Set<string>>();
  readonly #sockets = new Set<Socket>();
  readonly #fronts = new Map<string, H2Front>();
  readonly #metrics: EngineMetrics;
  readonly #log: Logger;

  constructor(metrics: EngineMetrics, log: Logger) {
    this.#metrics = metrics;
    this.#log = log;
  }

  /**
   * Makes the listeners match `wanted`; returns how many were opened or closed. With `only`,
   * `wanted` is the listeners of those VIPs alone and every other VIP's stay as they are (a
   * revision that changed only these VIPs).
   */
  async sync(wanted: readonly ListenerSpec[], only?: ReadonlySet<string>): Promise<number> {
    let changed = 0;
    const keep = new Set<string>();
    for (const spec of wanted) keep.add(keyOf(spec));
    // Close first, so a listener moving to another kind (or a VIP replaced by another on its
    // address) frees the port before the new ones bind.
    const released = new Set<string>();
    for (const listener of this.#current(only)) {
      if (keep.has(listener.key)) continue;
      listener.close();
      this.#remove(listener);
      released.add(`${listener.spec.host}|${listener.spec.port}`);
      changed++;
    }
    const opening: Promise<void>[] = [];
    for (const spec of wanted) {
      const key = keyOf(spec);
      const existing = this.#listeners.get(key);
      if (existing) {
        if (spec.certificate && existing.signature !== tlsSignature(spec.vip.spec)) existing.rotate(spec.certificate);
        continue;
      }
      const listener = new Listener(spec, this.#front(spec), this.#metrics, this.#log, this.#sockets);
      this.#add(listener);
      changed++;
      opening.push(listener.listen(released.has(`${spec.host}|${spec.port}`)));
    }
    const wantedVips = new Set(wanted.map((s) => s.vip.id));
    // One pass, not one per front: at a thousand HTTP/2 VIPs a pass per front was a million steps per revision.
    const h2Vips = new Set<string>();
    for (const l of this.#current(only)) if (l.spec.kind === 'h2') h2Vips.add(l.spec.vip.id);
    const fronts = only ? [...only].flatMap((id) => (this.#fronts.has(id) ? [[id, this.#fronts.get(id) as H2Front] as const] : [])) : this.#fronts;
    for (const [vsId, front] of fronts) {
      if (!wantedVips.has(vsId) || !h2Vips.has(vsId)) {
        front.closeIdle();
        this.#fronts.delete(vsId);
      } else front.configure();
    }
    await Promise.all(opening);
    return changed;
  }

  /** Per VIP with listeners (those `only` names when given): how many of its wanted ports are bound, and the first error. */
  states(only?: string | Iterable<string>): Map<string, { bound: number; total: number; error: string | null }> {
    const out = new Map<string, { bound: number; total: number; error: string | null }>();
    for (const l of this.#current(typeof only === 'string' ? [only] : only)) {
      let st = out.get(l.spec.vip.id);
      if (!st) out.set(l.spec.vip.id, (st = { bound: 0, total: 0, error: null }));
      st.total++;
      if (l.bound) st.bound++;
      else st.error ??= l.error;
    }
    return out;
  }

  /** The listeners of every VIP, or of those `only` names. */
  *#current(only?: Iterable<string>): Iterable<Listener> {
    if (!only) {
      yield* this.#listeners.values();
      return;
    }
    for (const id of only) {
      const keys = this.#byVip.get(id);
      if (!keys) continue;
      // A copy: the caller may remove listeners while it walks them.
      for (const key of [...keys]) yield this.#listeners.get(key) as Listener;
    }
  }

  #add(listener: Listener): void {
    this.#listeners.set(listener.key, listener);
    const id = listener.spec.vip.id;
    let keys = this.#byVip.get(id);
    if (!keys) this.#byVip.set(id, (keys = new Set()));
    keys.add(listener.key);
  }

  #remove(listener: Listener): void {
    this.#listeners.delete(listener.key);
    const id = listener.spec.vip.id;
    const keys = this.#byVip.get(id);
    keys?.delete(listener.key);
    if (keys?.size === 0) this.#byVip.delete(id);
  }

  /** Closes idle HTTP connections of every VIP (shutdown, HA passive). */
  closeIdle(): void {
    for (const f of this.#fronts.values()) f.closeIdle();
  }

  /** Every open client socket, of current and removed listeners (for a bounded shutdown). */
  sockets(): Socket[] {
    return [...this.#sockets];
  }

  #front(spec: ListenerSpec): H2Front | null {
    if (spec.kind !== 'h2') return null;
    let front = this.#fronts.get(spec.vip.id);
    if (!front) {
      front = new H2Front(spec.vip);
      this.#fronts.set(spec.vip.id, front);
    }
    return front;
  }
}

/** Checks that a certificate can serve TLS; throws node's error if not. */
export function checkCertificate(cert: CertificateSnapshot, tls: Parameters<typeof contextOptions>[1]): void {
  createSecureContext(contextOptions(cert, tls));
}
