// An HL7 v2 sender over MLLP: sends messages on one connection and returns their ACKs.
// MLLP answers strictly in order, so pending sends form a FIFO queue; every ACK is also
// checked against the control id it should acknowledge.
import { connect, type Socket } from 'node:net';
import { BackendError } from '../errors.js';
import { hostPort } from '../service.js';
import { parseAck, parseHeader, type Hl7Ack } from './message.js';
import { MllpDecoder, encodeFrame } from './mllp-framing.js';

/** Where to send, and how long to wait. */
export interface Hl7Target {
  address: string;
  port: number;
  /** Milliseconds to wait for the connection and for each ACK (default 10 000). */
  timeoutMs?: number;
}

interface Pending {
  controlId: string;
  resolve: (ack: Hl7Ack) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** One MLLP connection that sends messages and returns their ACKs in order. */
export class Hl7Client {
  readonly #socket: Socket;
  readonly #timeoutMs: number;
  readonly #pending: Pending[] = [];
  readonly #decoder = new MllpDecoder();
  #closed = false;

  private constructor(socket: Socket, timeoutMs: number) {
    this.#socket = socket;
    this.#timeoutMs = timeoutMs;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const body of this.#decoder.push(chunk)) this.#settle(body.toString('utf8'));
      } catch (err) {
        this.#failAll(err as Error);
        socket.destroy();
      }
    });
    socket.on('error', (err) => this.#failAll(new BackendError('BACKEND_CONNECTION_CLOSED', `connection error: ${err.message}`, {}, { cause: err })));
    socket.on('close', () => {
      this.#closed = true;
      this.#failAll(new BackendError('BACKEND_CONNECTION_CLOSED', 'the server closed the connection before acknowledging', {}));
    });
  }

  /** Opens a connection (throws BACKEND_CONNECTION_CLOSED when refused, BACKEND_TIMEOUT when slow). */
  static connect(target: Hl7Target): Promise<Hl7Client> {
    const timeoutMs = target.timeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const socket = connect({ host: target.address, port: target.port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new BackendError('BACKEND_TIMEOUT', `no connection to ${hostPort(target.address, target.port)} in ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new Hl7Client(socket, timeoutMs));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(new BackendError('BACKEND_CONNECTION_CLOSED', `cannot connect to ${hostPort(target.address, target.port)}: ${err.message}`, {}, { cause: err }));
      });
    });
  }

  /** Sends one message and resolves with its ACK, whatever its code (throws BACKEND_HL7_NO_ACK on timeout). */
  send(message: string): Promise<Hl7Ack> {
    const { controlId } = parseHeader(message);
    return new Promise((resolve, reject) => {
      if (this.#closed) {
        reject(new BackendError('BACKEND_CONNECTION_CLOSED', 'the connection is closed'));
        return;
      }
      const timer = setTimeout(() => this.#failAll(new BackendError('BACKEND_HL7_NO_ACK', `no ACK for ${controlId} in ${this.#timeoutMs} ms`, { controlId })), this.#timeoutMs);
      this.#pending.push({ controlId, resolve, reject, timer });
      this.#socket.write(encodeFrame(message));
    });
  }

  /** Closes the connection. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await new Promise<void>((resolve) => {
      this.#socket.once('close', () => resolve());
      this.#socket.end();
    });
  }

  #settle(text: string): void {
    const next = this.#pending.shift();
    if (!next) return; // an ACK nobody waits for: ignore it
    clearTimeout(next.timer);
    try {
      const ack = parseAck(text);
      if (ack.controlId !== next.controlId) {
        next.reject(new BackendError('BACKEND_HL7_NACK', `ACK acknowledges ${ack.controlId}, expected ${next.controlId}`, { ack }));
      } else {
        next.resolve(ack);
      }
    } catch (err) {
      next.reject(err as Error);
    }
  }

  #failAll(err: Error): void {
    for (const p of this.#pending.splice(0)) {
      clearTimeout(p.timer);
      p.reject(err);
    }
  }
}

/** Sends messages on one connection and returns their ACKs; throws BACKEND_HL7_NACK unless every ACK is AA. */
export async function sendHl7(target: Hl7Target, messages: readonly string[]): Promise<Hl7Ack[]> {
  const client = await Hl7Client.connect(target);
  try {
    const acks: Hl7Ack[] = [];
    for (const m of messages) {
      const ack = await client.send(m);
      if (ack.ackCode !== 'AA') throw new BackendError('BACKEND_HL7_NACK', `message ${ack.controlId} was answered ${ack.ackCode}: ${ack.text}`, { ack });
      acks.push(ack);
    }
    return acks;
  } finally {
    await client.close();
  }
}
