// Just enough HL7 v2 to acknowledge a message: read its MSH segment, write an original-mode
// ACK (MSH + MSA) and read one back. Field access by position is all an ACK needs, so this
// is a few functions rather than a full HL7 parser (see the README for the libraries looked at).
import { BackendError } from '../errors.js';

/** The MSH fields an acknowledgement needs. */
export interface Hl7Header {
  /** MSH-1, usually `|`. */
  fieldSeparator: string;
  /** MSH-2, usually `^~\&`. */
  encodingCharacters: string;
  /** MSH-3 */
  sendingApplication: string;
  /** MSH-4 */
  sendingFacility: string;
  /** MSH-5 */
  receivingApplication: string;
  /** MSH-6 */
  receivingFacility: string;
  /** MSH-9, e.g. ADT^A01^ADT_A01 */
  messageType: string;
  /** MSH-10, the message control id an ACK must echo in MSA-2. */
  controlId: string;
  /** MSH-11 */
  processingId: string;
  /** MSH-12 */
  version: string;
}

/** An acknowledgement, read back. */
export interface Hl7Ack {
  /** MSA-1: AA, AE, AR (or CA, CE, CR). */
  ackCode: string;
  /** MSA-2: the control id of the acknowledged message. */
  controlId: string;
  /** MSH-3 of the ACK: the application (here: the server name) that answered. */
  sendingApplication: string;
  /** MSH-4 of the ACK: the facility (here: the server's address:port). */
  sendingFacility: string;
  /** MSA-3, the text message, if any. */
  text: string;
  /** The whole ACK as received. */
  raw: string;
}

/** The segments of a message (HL7 ends segments with CR; LF and CRLF are tolerated). */
export function segmentsOf(message: string): string[] {
  return message.split(/\r\n|\r|\n/).filter((s) => s.length > 0);
}

/** Reads MSH (throws BACKEND_HL7_INVALID when the message does not start with one). */
export function parseHeader(message: string): Hl7Header {
  const msh = segmentsOf(message)[0] ?? '';
  if (!msh.startsWith('MSH') || msh.length < 8) {
    throw new BackendError('BACKEND_HL7_INVALID', 'the message does not start with an MSH segment', { start: msh.slice(0, 40) });
  }
  const sep = msh[3]!;
  const f = msh.split(sep); // f[0] is "MSH", f[n - 1] is MSH-n for n >= 2
  const field = (n: number) => f[n - 1] ?? '';
  return {
    fieldSeparator: sep,
    encodingCharacters: field(2),
    sendingApplication: field(3),
    sendingFacility: field(4),
    receivingApplication: field(5),
    receivingFacility: field(6),
    messageType: field(9),
    controlId: field(10),
    processingId: field(11),
    version: field(12),
  };
}

/** An HL7 timestamp (YYYYMMDDHHMMSS, UTC) of a date. */
export function hl7Timestamp(date = new Date()): string {
  return date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/** What an ACK says and who says it. */
export interface AckOptions {
  /** MSA-1 (default AA). */
  ackCode?: 'AA' | 'AE' | 'AR';
  /** MSH-3 of the ACK: who answers. */
  sendingApplication: string;
  /** MSH-4 of the ACK. */
  sendingFacility: string;
  /** MSH-10 of the ACK itself. */
  controlId: string;
  /** MSA-3 text. */
  text?: string;
}

/** Builds an original-mode ACK to a message's header: MSH (addressed back to the sender) and MSA. */
export function buildAck(to: Hl7Header, o: AckOptions): string {
  const s = to.fieldSeparator;
  const comp = to.encodingCharacters[0] ?? '^';
  const trigger = to.messageType.split(comp)[1] ?? '';
  const msh = ['MSH', to.encodingCharacters, o.sendingApplication, o.sendingFacility, to.sendingApplication, to.sendingFacility, hl7Timestamp(), '', ['ACK', trigger, 'ACK'].join(comp), o.controlId, to.processingId || 'P', to.version || '2.5'];
  const msa = ['MSA', o.ackCode ?? 'AA', to.controlId, ...(o.text ? [o.text] : [])];
  return `${msh.join(s)}\r${msa.join(s)}\r`;
}

/** Reads an ACK (throws BACKEND_HL7_INVALID when it has no MSH or no MSA). */
export function parseAck(message: string): Hl7Ack {
  const header = parseHeader(message);
  const msa = segmentsOf(message).find((seg) => seg.startsWith(`MSA${header.fieldSeparator}`));
  if (!msa) throw new BackendError('BACKEND_HL7_INVALID', 'the acknowledgement has no MSA segment', { raw: message });
  const f = msa.split(header.fieldSeparator);
  return { ackCode: f[1] ?? '', controlId: f[2] ?? '', sendingApplication: header.sendingApplication, sendingFacility: header.sendingFacility, text: f[3] ?? '', raw: message };
}

/** What test message to build. */
export interface TestMessageOptions {
  controlId: string;
  /** MSH-9 (default ADT^A01^ADT_A01). */
  messageType?: string;
  sendingApplication?: string;
  sendingFacility?: string;
  /** Append OBX text segments until the message is at least this many bytes (for long-message tests). */
  minBytes?: number;
}

/** Builds a plausible HL7 v2.5 message (ADT^A01 by default) with the given control id. */
export function buildTestMessage(o: TestMessageOptions): string {
  const segs = [
    ['MSH', '^~\\&', o.sendingApplication ?? 'LBDEMO', o.sendingFacility ?? 'LBDEMO-FACILITY', 'PACS', 'IMAGING', hl7Timestamp(), '', o.messageType ?? 'ADT^A01^ADT_A01', o.controlId, 'P', '2.5'].join('|'),
    ['EVN', 'A01', hl7Timestamp()].join('|'),
    ['PID', '1', '', 'LBDEMO-0001^^^HOSP^MR', '', 'DEMO^PHANTOM', '', '19700101', 'O'].join('|'),
    ['PV1', '1', 'O', 'RAD^^^IMAGING'].join('|'),
  ];
  let size = segs.reduce((n, s) => n + s.length + 1, 0);
  for (let i = 1; o.minBytes !== undefined && size < o.minBytes; i++) {
    const text = `Line ${i} of a long report: the quick brown fox jumps over the lazy dog ${'0123456789'.repeat(20)}`;
    const obx = ['OBX', String(i), 'TX', 'REPORT^Report text', '', text].join('|');
    segs.push(obx);
    size += obx.length + 1;
  }
  return `${segs.join('\r')}\r`;
}
