// The `dicom` health check: a DICOM Verification (C-ECHO) over one socket, as a modality or
// a PACS would send it (DICOM PS3.8 upper layer, PS3.7 DIMSE). An open port proves little:
// a PACS whose service is up but that rejects our AE titles, or whose DIMSE layer is stuck,
// takes no studies. The association proposes only the Verification SOP class with implicit
// VR little endian (the one transfer syntax every DICOM node must accept), sends one
// C-ECHO-RQ, expects status 0x0000 and releases the association. Every way it can go wrong
// becomes the check's detail in words an operator knows (`association rejected: called AE
// title not recognised`). Reads are bounded: no PDU of the association phase may exceed
// MAX_PDU, so a peer that is not DICOM cannot make the appliance buffer much.
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

/** What one C-ECHO needs. */
export interface DicomEchoSpec {
  address: string;
  port: number;
  callingAeTitle: string;
  calledAeTitle: string;
  tls: boolean;
}

/** How an echo ended: ok, or why not. */
export interface DicomEchoOutcome {
  ok: boolean;
  detail: string;
}

const APPLICATION_CONTEXT = '1.2.840.10008.3.1.1.1';
const VERIFICATION_SOP_CLASS = '1.2.840.10008.1.1';
const IMPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2';
/** The appliance's implementation class UID (a UUID-derived 2.25 root, PS3.5 B.2). */
export const IMPLEMENTATION_CLASS_UID = '2.25.281918040932164537613587829427357208129';
const IMPLEMENTATION_VERSION = 'LBAPPLIANCE';
/** The largest PDU the appliance reads while checking (and announces as its maximum). */
const MAX_PDU = 16384;
const PRESENTATION_CONTEXT_ID = 1;
const MESSAGE_ID = 1;

/** PS3.8 9.3.4: the reasons of an A-ASSOCIATE-RJ, by source and reason. */
const REJECT_REASONS: Record<number, Record<number, string>> = {
  1: { 1: 'no reason given', 2: 'application context name not supported', 3: 'calling AE title not recognised', 7: 'called AE title not recognised' },
  2: { 1: 'no reason given', 2: 'protocol version not supported' },
  3: { 1: 'temporary congestion', 2: 'local limit exceeded' },
};
const REJECT_SOURCES: Record<number, string> = { 1: 'service user', 2: 'service provider (ACSE)', 3: 'service provider (presentation)' };
/** PS3.8 9.3.8: the reasons of an A-ABORT by the service provider. */
const ABORT_REASONS: Record<number, string> = {
  0: 'reason not specified',
  1: 'unrecognised PDU',
  2: 'unexpected PDU',
  4: 'unrecognised PDU parameter',
  5: 'unexpected PDU parameter',
  6: 'invalid PDU parameter value',
};
/** PS3.8 9.3.3.2: why a presentation context was not accepted. */
const CONTEXT_RESULTS: Record<number, string> = { 1: 'user rejection', 2: 'no reason', 3: 'abstract syntax not supported', 4: 'transfer syntaxes not supported' };

function aeField(title: string): Buffer {
  return Buffer.from(title.padEnd(16, ' ').slice(0, 16), 'latin1');
}

function item(type: number, body: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head[0] = type;
  head.writeUInt16BE(body.length, 2);
  return Buffer.concat([head, body]);
}

function pdu(type: number, body: Buffer): Buffer {
  const head = Buffer.alloc(6);
  head[0] = type;
  head.writeUInt32BE(body.length, 2);
  return Buffer.concat([head, body]);
}

/** The A-ASSOCIATE-RQ PDU (PS3.8 9.3.2). */
export function associateRequest(callingAeTitle: string, calledAeTitle: string): Buffer {
  const fixed = Buffer.alloc(68);
  fixed.writeUInt16BE(1, 0); // protocol version
  aeField(calledAeTitle).copy(fixed, 4);
  aeField(callingAeTitle).copy(fixed, 20);
  const context = item(
    0x20,
    Buffer.concat([Buffer.from([PRESENTATION_CONTEXT_ID, 0, 0, 0]), item(0x30, Buffer.from(VERIFICATION_SOP_CLASS)), item(0x40, Buffer.from(IMPLICIT_VR_LITTLE_ENDIAN))]),
  );
  const maxLength = Buffer.alloc(4);
  maxLength.writeUInt32BE(MAX_PDU, 0);
  const user = item(0x50, Buffer.concat([item(0x51, maxLength), item(0x52, Buffer.from(IMPLEMENTATION_CLASS_UID)), item(0x55, Buffer.from(IMPLEMENTATION_VERSION))]));
  return pdu(0x01, Buffer.concat([fixed, item(0x10, Buffer.from(APPLICATION_CONTEXT)), context, user]));
}

function element(group: number, elem: number, value: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16LE(group, 0);
  head.writeUInt16LE(elem, 2);
  head.writeUInt32LE(value.length, 4);
  return Buffer.concat([head, value]);
}

function us(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(v, 0);
  return b;
}

/** A UI value: even length, padded with one NUL (PS3.5 9.1). */
function ui(uid: string): Buffer {
  return Buffer.from(uid.length % 2 ? `${uid}\0` : uid, 'latin1');
}

/** The C-ECHO-RQ command set in a P-DATA-TF PDU (PS3.7 9.3.5, PS3.8 9.3.5). */
export function echoRequest(): Buffer {
  const rest = Buffer.concat([element(0x0000, 0x0002, ui(VERIFICATION_SOP_CLASS)), element(0x0000, 0x0100, us(0x0030)), element(0x0000, 0x0110, us(MESSAGE_ID)), element(0x0000, 0x0800, us(0x0101))]);
  const length = Buffer.alloc(4);
  length.writeUInt32LE(rest.length, 0);
  const command = Buffer.concat([element(0x0000, 0x0000, length), rest]);
  // One PDV: its length, the context id, and a control header saying "command, last fragment".
  const pdvHead = Buffer.alloc(6);
  pdvHead.writeUInt32BE(command.length + 2, 0);
  pdvHead[4] = PRESENTATION_CONTEXT_ID;
  pdvHead[5] = 0x03;
  return pdu(0x04, Buffer.concat([pdvHead, command]));
}

/** A-RELEASE-RQ (PS3.8 9.3.6). */
export const RELEASE_REQUEST = pdu(0x05, Buffer.alloc(4));

/** The elements of an implicit VR little endian command set, by tag (group << 16 | element). */
export function commandElements(data: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let at = 0;
  while (at + 8 <= data.length) {
    const tag = (data.readUInt16LE(at) << 16) | data.readUInt16LE(at + 2);
    const length = data.readUInt32LE(at + 4);
    if (at + 8 + length > data.length) throw new Error('truncated command element');
    out.set(tag >>> 0, data.subarray(at + 8, at + 8 + length));
    at += 8 + length;
  }
  return out;
}

/** Why an A-ASSOCIATE-RJ was sent, in words. */
export function rejectReason(body: Buffer): string {
  const [result = 0, source = 0, reason = 0] = [body[1], body[2], body[3]];
  const why = REJECT_REASONS[source]?.[reason] ?? `reason ${reason}`;
  const permanence = result === 2 ? ' (transient)' : '';
  return `association rejected: ${why}${permanence}${source === 1 ? '' : ` by the ${REJECT_SOURCES[source] ?? `source ${source}`}`}`;
}

/** What the A-ASSOCIATE-AC says of our presentation context: null when accepted, else why not. */
function contextRefusal(body: Buffer): string | null {
  let at = 68;
  while (at + 4 <= body.length) {
    const type = body[at] as number;
    const length = body.readUInt16BE(at + 2);
    if (type === 0x21 && at + 8 <= body.length && body[at + 4] === PRESENTATION_CONTEXT_ID) {
      const result = body[at + 6] as number;
      return result === 0 ? null : `Verification SOP class refused: ${CONTEXT_RESULTS[result] ?? `result ${result}`}`;
    }
    at += 4 + length;
  }
  return 'Verification SOP class not in the association answer';
}

type Phase = 'associate' | 'echo' | 'release';

/** A C-ECHO under way. */
export interface DicomEchoRun {
  /** Aborts the association and closes the socket. */
  cancel(): void;
  /** What the check waits for now (for a timeout's detail). */
  waitingFor(): string;
}

/** Reads whole PDUs off a socket, refusing any larger than MAX_PDU. */
class PduReader {
  #buffer: Buffer = Buffer.alloc(0);

  /** Adds bytes; returns the whole PDUs they complete. */
  push(chunk: Buffer): { type: number; body: Buffer }[] {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    const out: { type: number; body: Buffer }[] = [];
    while (this.#buffer.length >= 6) {
      const length = this.#buffer.readUInt32BE(2);
      if (length > MAX_PDU) throw new Error(`PDU of ${length} bytes is larger than ${MAX_PDU}`);
      if (this.#buffer.length < 6 + length) break;
      out.push({ type: this.#buffer[0] as number, body: this.#buffer.subarray(6, 6 + length) });
      this.#buffer = this.#buffer.subarray(6 + length);
    }
    return out;
  }
}

/**
 * Runs one C-ECHO against `spec`: `onDone` gets the outcome once, when the association is
 * released or failed; `cancel` ends it early (the caller's timeout). Never throws.
 */
export function dicomEcho(spec: DicomEchoSpec, onDone: (outcome: DicomEchoOutcome) => void): DicomEchoRun {
  let phase: Phase = 'associate';
  let done = false;
  let echoed: DicomEchoOutcome | null = null;
  const reader = new PduReader();
  const command: Buffer[] = [];
  const socket: Socket = spec.tls
    ? tlsConnect({ host: spec.address, port: spec.port, rejectUnauthorized: false })
    : netConnect({ host: spec.address, port: spec.port });
  const finish = (ok: boolean, detail: string) => {
    if (done) return;
    done = true;
    onDone({ ok, detail });
    socket.destroy();
  };
  const abort = () => {
    // A-ABORT from the service user, then close: the peer frees the association at once.
    if (!socket.destroyed && socket.writable) socket.end(pdu(0x07, Buffer.from([0, 0, 0, 0])));
  };
  socket.once(spec.tls ? 'secureConnect' : 'connect', () => socket.write(associateRequest(spec.callingAeTitle, spec.calledAeTitle)));
  socket.on('error', (err: NodeJS.ErrnoException) => finish(false, err.code ?? err.message));
  socket.on('close', () => {
    if (echoed) finish(echoed.ok, `${echoed.detail} (association closed without A-RELEASE-RP)`);
    else finish(false, `connection closed during ${phase === 'associate' ? 'association' : phase === 'echo' ? 'C-ECHO' : 'release'}`);
  });
  socket.on('data', (chunk: Buffer) => {
    let pdus: { type: number; body: Buffer }[];
    try {
      pdus = reader.push(chunk);
    } catch (err) {
      abort();
      return finish(false, `not DICOM: ${(err as Error).message}`);
    }
    for (const { type, body } of pdus) {
      if (done) return;
      if (type === 0x07) return finish(false, `association aborted by the ${body[2] === 2 ? 'service provider' : 'server'}${body[2] === 2 ? `: ${ABORT_REASONS[body[3] ?? 0] ?? `reason ${body[3]}`}` : ''}`);
      if (phase === 'associate') {
        if (type === 0x03) return finish(false, rejectReason(body));
        if (type !== 0x02) {
          abort();
          return finish(false, `not DICOM: PDU type 0x${type.toString(16).padStart(2, '0')} in answer to A-ASSOCIATE-RQ`);
        }
        const refused = contextRefusal(body);
        if (refused) {
          abort();
          return finish(false, refused);
        }
        phase = 'echo';
        socket.write(echoRequest());
      } else if (phase === 'echo') {
        if (type !== 0x04) {
          abort();
          return finish(false, `unexpected PDU type 0x${type.toString(16).padStart(2, '0')} in answer to C-ECHO-RQ`);
        }
        let at = 0;
        let last = false;
        while (at + 6 <= body.length) {
          const length = body.readUInt32BE(at);
          const control = body[at + 5] as number;
          if (length < 2 || at + 4 + length > body.length) {
            abort();
            return finish(false, 'malformed P-DATA-TF');
          }
          if (control & 0x01) command.push(body.subarray(at + 6, at + 4 + length));
          if ((control & 0x03) === 0x03) last = true;
          at += 4 + length;
        }
        if (!last) continue;
        let status: number | undefined;
        let field: number | undefined;
        try {
          const elements = commandElements(Buffer.concat(command));
          field = elements.get(0x00000100)?.readUInt16LE(0);
          status = elements.get(0x00000900)?.readUInt16LE(0);
        } catch (err) {
          abort();
          return finish(false, `malformed C-ECHO-RSP: ${(err as Error).message}`);
        }
        if (field !== 0x8030 || status === undefined) {
          abort();
          return finish(false, 'answer is not a C-ECHO-RSP');
        }
        const hex = `0x${status.toString(16).padStart(4, '0')}`;
        echoed = status === 0 ? { ok: true, detail: `C-ECHO status ${hex}` } : { ok: false, detail: `C-ECHO status ${hex}` };
        phase = 'release';
        socket.write(RELEASE_REQUEST);
      } else if (type === 0x06) {
        socket.end();
        return finish((echoed as DicomEchoOutcome).ok, (echoed as DicomEchoOutcome).detail);
      }
    }
  });
  return {
    cancel() {
      if (!done) abort();
      socket.destroy();
    },
    waitingFor: () => (socket.connecting ? 'the connection' : phase === 'associate' ? 'the association answer' : phase === 'echo' ? 'the C-ECHO-RSP' : 'the A-RELEASE-RP'),
  };
}
