// The client side of the layer 4 suites (this test process, in the root namespace): one
// connection and its greeting (which server, and which client address it saw), held
// connections that answer pings (a long DICOM association stand-in), UDP queries and a
// load loop that counts every failed connection.
import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';

/** What a server said when the connection opened. */
export interface Greeting {
  server: string;
  /** The client address the server saw. */
  seen: string;
}

function lineReader(socket: Socket): () => Promise<string> {
  let buffer = '';
  const lines: string[] = [];
  const waiters: ((l: string | Error) => void)[] = [];
  const push = (l: string | Error) => {
    const w = waiters.shift();
    if (w) w(l);
    else if (typeof l === 'string') lines.push(l);
  };
  socket.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('latin1');
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      push(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
    }
  });
  const fail = (e: Error) => {
    while (waiters.length > 0) waiters.shift()?.(e);
  };
  socket.on('close', () => fail(new Error('connection closed')));
  socket.on('error', (e) => fail(e));
  return () =>
    new Promise<string>((resolve, reject) => {
      const l = lines.shift();
      if (l !== undefined) return resolve(l);
      if (socket.destroyed) return reject(new Error('connection closed'));
      waiters.push((x) => (typeof x === 'string' ? resolve(x) : reject(x)));
    });
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms);
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e: unknown) => (clearTimeout(t), reject(e)),
    );
  });
}

/** A held connection. */
export interface Held {
  greeting: Greeting;
  /** Sends a ping; resolves with the server that answered. */
  ping(): Promise<string>;
  close(): void;
  socket: Socket;
}

/** Opens a connection from `localAddress` and reads the greeting. */
export async function open(host: string, port: number, localAddress: string, timeoutMs = 5000, localPort?: number): Promise<Held> {
  const socket = connect({ host, port, localAddress, ...(localPort === undefined ? {} : { localPort }) });
  socket.setNoDelay(true);
  const next = lineReader(socket);
  const line = await withTimeout(next(), timeoutMs, `greeting from ${host}:${port}`).catch((e: unknown) => {
    socket.destroy();
    throw e;
  });
  const [server = '', seen = ''] = line.split(' ');
  return {
    greeting: { server, seen },
    socket,
    async ping() {
      socket.write('ping\n');
      const answer = await withTimeout(next(), timeoutMs, 'pong');
      return answer.replace(/^pong /, '');
    },
    close: () => socket.destroy(),
  };
}

/** One connection: its greeting, then closed. */
export async function once(host: string, port: number, localAddress: string, timeoutMs = 5000): Promise<Greeting> {
  const held = await open(host, port, localAddress, timeoutMs);
  held.socket.end();
  return held.greeting;
}

/** Downloads `bytes` over one connection; resolves with the byte count received after the greeting. */
export async function download(host: string, port: number, localAddress: string, bytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, localAddress });
    let got = 0;
    let greeted = false;
    socket.on('data', (chunk: Buffer) => {
      if (!greeted) {
        const nl = chunk.indexOf(10);
        if (nl < 0) return;
        greeted = true;
        socket.write(`get ${bytes}\n`);
        got += chunk.length - nl - 1;
      } else got += chunk.length;
    });
    socket.on('end', () => resolve(got));
    socket.on('error', reject);
  });
}

/** One UDP query; resolves with the server's answer. */
export async function udpQuery(host: string, port: number, localAddress: string, timeoutMs = 3000): Promise<Greeting> {
  const sock = createSocket('udp4');
  try {
    await new Promise<void>((resolve) => sock.bind(0, localAddress, resolve));
    const answer = new Promise<string>((resolve) => sock.once('message', (m) => resolve(m.toString())));
    sock.send('hi', port, host);
    const text = await withTimeout(answer, timeoutMs, `udp ${host}:${port}`);
    const [server = '', seen = ''] = text.split(' ');
    return { server, seen };
  } finally {
    sock.close();
  }
}

/** A load loop: `concurrency` clients opening connection after connection (`pauseMs` apart). */
export function load(host: string, port: number, localAddress: string, concurrency: number, pauseMs = 0): { stop(): Promise<{ ok: number; failed: string[] }> } {
  let running = true;
  let ok = 0;
  const failed: string[] = [];
  const worker = async () => {
    while (running) {
      try {
        await once(host, port, localAddress, 10_000);
        ok += 1;
      } catch (e) {
        failed.push((e as Error).message);
      }
      if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
    }
  };
  const workers = Array.from({ length: concurrency }, worker);
  return {
    async stop() {
      running = false;
      await Promise.all(workers);
      return { ok, failed };
    },
  };
}
