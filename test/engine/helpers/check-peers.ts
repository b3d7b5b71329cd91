// Peers for the application check suites, each a real program or a real socket: DCMTK's
// dcmqrscp as a PACS that knows only its own AE title (it rejects any other called AE
// title with "called AE title not recognised", as a hospital PACS does), a TCP server that
// accepts and never answers (a hung DIMSE layer), and a TLS front for a plain DICOM server
// (DICOM over TLS, terminated in the test as a site's TLS proxy would), and an MLLP
// receiver that answers every message with a chosen ACK code (an HL7 interface refusing work).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { needProgram } from '../../helpers/programs.js';
import { MllpDecoder, buildAck, encodeFrame, parseHeader } from '../../../examples/backends/index.js';

/** A running peer. */
export interface Peer {
  port: number;
  close(): Promise<void>;
}

async function freeWildcardPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '0.0.0.0', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function reachable(port: number, deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`dcmqrscp did not listen on port ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * DCMTK's dcmqrscp with one AE title (it listens on the wildcard address, on a free port):
 * an association that calls another AE title is rejected, reason "called AE title not recognised".
 */
export async function startDcmqrscp(dir: string, aeTitle: string): Promise<Peer> {
  needProgram('dcmqrscp');
  await mkdir(join(dir, 'db'), { recursive: true });
  const port = await freeWildcardPort();
  const config = join(dir, 'dcmqrscp.cfg');
  await writeFile(
    config,
    [
      `NetworkTCPPort = ${port}`,
      'MaxPDUSize = 16384',
      'MaxAssociations = 16',
      'HostTable BEGIN',
      'HostTable END',
      'VendorTable BEGIN',
      'VendorTable END',
      'AETable BEGIN',
      `${aeTitle} ${join(dir, 'db')} RW (10, 64mb) ANY`,
      'AETable END',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn('dcmqrscp', ['-c', config, '--single-process', String(port)], { stdio: 'ignore' });
  await reachable(port, 10_000);
  return {
    port,
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

function closeServer(server: Server, sockets: Set<Socket>): Promise<void> {
  for (const s of sockets) s.destroy();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A TCP server that accepts and never says a word. */
export async function startSilentPeer(host: string): Promise<Peer> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { port: (server.address() as { port: number }).port, close: () => closeServer(server, sockets) };
}

/** TLS on `host`, each connection piped in plain to `target`. */
export async function startTlsFront(host: string, cert: { cert: string; key: string }, target: { address: string; port: number }): Promise<Peer> {
  const sockets = new Set<Socket>();
  const server = createTlsServer(cert, (tls) => {
    const plain = connect({ host: target.address, port: target.port });
    for (const s of [tls, plain]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.once('close', () => sockets.delete(s));
    }
    tls.pipe(plain).pipe(tls);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { port: (server.address() as { port: number }).port, close: () => closeServer(server, sockets as Set<Socket>) };
}

/** An MLLP receiver that answers every message with `code` (MSA-1) and `text` (MSA-3); `otherId` acknowledges another control id. */
export async function startHl7Refuser(host: string, code: string, text: string, otherId = false): Promise<Peer> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.once('close', () => sockets.delete(s));
    const decoder = new MllpDecoder();
    s.on('data', (chunk: Buffer) => {
      for (const body of decoder.push(chunk)) {
        const header = parseHeader(body.toString('utf8'));
        const ack = buildAck(otherId ? { ...header, controlId: 'SOMEONE-ELSE' } : header, { ackCode: code as 'AA', sendingApplication: 'REFUSER', sendingFacility: host, controlId: 'R1', text });
        s.write(encodeFrame(ack));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { port: (server.address() as { port: number }).port, close: () => closeServer(server, sockets) };
}
