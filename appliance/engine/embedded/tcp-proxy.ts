// The TCP proxy: each client connection (TLS already terminated when the VIP has a
// certificate) is joined to a connection to one real server, byte for byte, with half
// closes passed on. The client's bytes wait in its socket until the server connection is
// up, so a failed connect moves to another server with nothing lost. Server-to-client
// bytes (the big direction of an image retrieval) are read into one reused buffer per
// connection instead of a new one per read: about twice the throughput of pipe().
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { clientOf } from './header-rules.js';
import { headerFor } from './proxy-protocol.js';
import { CONNECT_FAILURES } from './retry-policy.js';
import type { UpstreamServer } from './upstream-server.js';
import type { VipRuntime } from './vip-runtime.js';

const MAX_ATTEMPTS = 3;
/** Read buffer per plain server connection (server-to-client direction). */
const READ_BUFFER = 128 * 1024;

/** Handles one client connection on a TCP VIP. */
export function handleTcpConnection(vip: VipRuntime, client: Socket): void {
  const address = clientOf(client);
  client.on('error', () => client.destroy());
  start(vip, client, address);
}

function start(vip: VipRuntime, client: Socket, address: string): void {
  if (client.destroyed) return;
  const choice = vip.choose(address, undefined);
  if (choice === 'queue') {
    // Every server is at its maxConnections: wait for a slot (limits.queueTimeout).
    const cancel = vip.wait(() => start(vip, client, address), () => client.destroy());
    client.once('close', cancel);
    return;
  }
  if (!choice) {
    client.destroy();
    return;
  }
  attempt(vip, client, address, choice.server, new Set<UpstreamServer>());
}

function attempt(vip: VipRuntime, client: Socket, address: string, server: UpstreamServer, tried: Set<UpstreamServer>): void {
  if (client.destroyed) return;
  server.active++;
  server.counters.requests.inc();
  const port = server.port ?? client.localPort ?? 0;
  const options = { host: server.address, port, allowHalfOpen: true, noDelay: true };
  let up: Socket;
  // The reused read buffer needs to know when a queued write has left: plain sockets only.
  const piped = server.reEncrypt || (client as Socket & { encrypted?: boolean }).encrypted === true;
  const header = headerFor(vip.spec.sendProxy, client);
  if (server.reEncrypt && header) {
    // The header goes first on the TCP connection, before the TLS handshake.
    const raw = netConnect(options);
    raw.write(header);
    const secure = tlsConnect({ socket: raw, rejectUnauthorized: false });
    raw.on('error', (err) => secure.destroy(err));
    up = secure;
  } else if (server.reEncrypt) up = tlsConnect({ ...options, rejectUnauthorized: false });
  else if (piped) up = netConnect(options);
  else {
    const buffer = Buffer.allocUnsafe(READ_BUFFER);
    let waiting = false;
    const written = () => {
      if (!waiting) return;
      waiting = false;
      up.resume();
    };
    up = netConnect({
      ...options,
      onread: {
        buffer,
        callback: (n: number, buf: Uint8Array) => {
          client.write((buf as Buffer).subarray(0, n), written);
          if (client.writableLength === 0) return true;
          // A write still queued holds a view of the buffer: stop reading until it has left.
          waiting = true;
          return false;
        },
      },
    });
  }
  if (header && !server.reEncrypt) up.write(header);
  let connected = false;
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    server.active--;
  };
  const timer = setTimeout(() => up.destroy(Object.assign(new Error('connect timeout'), { code: 'LB_CONNECT_TIMEOUT' })), vip.connectTimeoutMs);
  up.once(server.reEncrypt ? 'secureConnect' : 'connect', () => {
    connected = true;
    clearTimeout(timer);
    server.trackSocket(up);
    join(vip, client, up, piped);
  });
  up.once('error', (err: NodeJS.ErrnoException) => {
    clearTimeout(timer);
    if (connected) return; // join() handles errors of a joined pair
    release();
    const code = err.code ?? '';
    if (CONNECT_FAILURES.has(code)) vip.connectFailed(server, code);
    tried.add(server);
    const next = tried.size < MAX_ATTEMPTS ? vip.chooseAgain(address, tried) : null;
    if (next) attempt(vip, client, address, next.server, tried);
    else client.destroy();
  });
  up.once('close', release);
}

function join(vip: VipRuntime, client: Socket, up: Socket, piped: boolean): void {
  const closeBoth = () => {
    client.destroy();
    up.destroy();
  };
  up.on('error', closeBoth);
  client.on('error', closeBoth);
  client.once('close', () => up.destroy());
  up.once('close', () => {
    // The server is gone: what it sent is flushed, then the client is closed.
    if (!client.destroyed) client.end();
  });
  client.setTimeout(vip.clientTimeoutMs, closeBoth);
  up.setTimeout(vip.serverTimeoutMs, closeBoth);
  client.pipe(up);
  if (piped) up.pipe(client);
  else up.once('end', () => client.end());
  client.resume();
}
