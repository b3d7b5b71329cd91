// An HL7 v2 receiver over MLLP, standing in for a PACS/RIS HL7 interface: it acknowledges
// every message with an original-mode ACK (MSA|AA|<control id>) that names the server that
// answered (MSH-3 its name, MSH-4 its address:port), and keeps a log of what it received.
import { createServer, type Socket } from 'node:net';
import { BackendError } from '../errors.js';
import { ListeningService, hostPort, type ServiceIdentity } from '../service.js';
import { buildAck, parseHeader, type Hl7Header } from './message.js';
import { MllpDecoder, encodeFrame } from './mllp-framing.js';

/** How to run one HL7 server. */
export interface Hl7ServerOptions extends ServiceIdentity {
  /** Largest message accepted (default 16 MiB); a larger frame closes the connection. */
  maxMessageBytes?: number;
}

/** One message the server received, and how it answered. */
export interface ReceivedHl7Message {
  at: Date;
  /** MSH-10, or '' when the message had no MSH. */
  controlId: string;
  /** MSH-9 */
  messageType: string;
  /** The client's address:port. */
  remote: string;
  bytes: number;
  text: string;
  /** What the server answered in MSA-1. */
  ackCode: 'AA' | 'AR';
}

// Answers a message without a readable MSH: there is no header to address the ACK to, so
// the ACK says AR with an empty control id and default delimiters.
const UNKNOWN_SENDER: Hl7Header = { fieldSeparator: '|', encodingCharacters: '^~\\&', sendingApplication: '', sendingFacility: '', receivingApplication: '', receivingFacility: '', messageType: '', controlId: '', processingId: 'P', version: '2.5' };

/** An MLLP server that acknowledges every HL7 message and names itself. */
export class Hl7Server extends ListeningService {
  /** Always 'hl7'. */
  readonly kind = 'hl7' as const;
  readonly #log: ReceivedHl7Message[] = [];
  readonly #maxMessageBytes: number | undefined;
  #acks = 0;

  constructor(options: Hl7ServerOptions) {
    super(options, createServer());
    this.#maxMessageBytes = options.maxMessageBytes;
    this.listener.server.on('connection', (socket: Socket) => this.#serve(socket));
  }

  /** Every message received since start or the last clearLog(), oldest first. */
  get log(): readonly ReceivedHl7Message[] {
    return this.#log;
  }

  /** Forgets the log. */
  clearLog(): void {
    this.#log.length = 0;
  }

  #serve(socket: Socket): void {
    const decoder = new MllpDecoder({ maxMessageBytes: this.#maxMessageBytes });
    const remote = hostPort(socket.remoteAddress ?? '?', socket.remotePort ?? 0);
    socket.setNoDelay(true);
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      let bodies: Buffer[];
      try {
        bodies = decoder.push(chunk);
      } catch (err) {
        if (err instanceof BackendError) socket.destroy(); // a frame over the limit: drop the peer
        return;
      }
      for (const body of bodies) socket.write(encodeFrame(this.#answer(body, remote)));
    });
  }

  #answer(body: Buffer, remote: string): string {
    const text = body.toString('utf8');
    let header = UNKNOWN_SENDER;
    let ackCode: 'AA' | 'AR' = 'AA';
    try {
      header = parseHeader(text);
    } catch {
      ackCode = 'AR';
    }
    this.#log.push({ at: new Date(), controlId: header.controlId, messageType: header.messageType, remote, bytes: body.length, text, ackCode });
    const { name, address, port } = this.identity;
    return buildAck(header, { ackCode, sendingApplication: name, sendingFacility: hostPort(address, port), controlId: `${name}-ACK${++this.#acks}`, text: ackCode === 'AR' ? 'Message has no MSH segment' : undefined });
  }
}
