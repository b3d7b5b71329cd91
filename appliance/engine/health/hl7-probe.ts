// The `hl7` health check: one HL7 v2 message over MLLP (<VT> message <FS><CR>), and the
// ACK it earns. An HL7 interface whose port is open may still refuse every message (its
// engine stopped, its queue full): only an accepting ACK (MSA-1 AA or CA) naming the
// message we sent (MSA-2 = our MSH-10) counts as up. Every message carries a fresh control
// id and timestamp, so an interface engine that drops duplicates still answers. The ACK
// read is bounded (MAX_ACK_BYTES) so a peer that is not HL7 cannot make the appliance buffer.
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';

const VT = 0x0b;
const FS = 0x1c;
const CR = 0x0d;
/** The largest ACK read. */
const MAX_ACK_BYTES = 65536;

/** What one HL7 check sends. */
export interface Hl7Spec {
  address: string;
  port: number;
  /** The message to send (segments separated by CR, LF or CRLF); null sends a minimal MSH. */
  message: string | null;
}

/** How a check ended. */
export interface Hl7Outcome {
  ok: boolean;
  detail: string;
}

/** A check under way. */
export interface Hl7Run {
  cancel(): void;
  waitingFor(): string;
}

/** HL7's DTM of now, to the second (YYYYMMDDHHMMSS, UTC). */
function timestamp(now = new Date()): string {
  return now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/** A fresh message control id (MSH-10 is at most 20 characters in HL7 2.5). */
export function freshControlId(): string {
  return `LB${randomBytes(8).toString('hex').toUpperCase()}`;
}

/**
 * The message to send: `message` (or a minimal MSH naming the appliance, message type
 * NMQ^N02, an application-level status query) with MSH-7 set to now and MSH-10 to `controlId`.
 */
export function hl7CheckMessage(message: string | null, controlId: string, now = new Date()): string {
  const text = message ?? 'MSH|^~\\&|LBAPPLIANCE|LBAPPLIANCE|||||NMQ^N02||P|2.5';
  const segments = text.split(/\r\n|\r|\n/).filter((s) => s.length > 0);
  const msh = segments[0] ?? '';
  const sep = msh[3] ?? '|';
  const fields = msh.split(sep);
  // fields[0] is "MSH", fields[1] the encoding characters (MSH-2): MSH-n is fields[n - 1].
  while (fields.length < 12) fields.push('');
  fields[6] = timestamp(now);
  fields[9] = controlId;
  segments[0] = fields.join(sep);
  return segments.join('\r');
}

/** Reads an ACK: MSA-1, MSA-2, MSA-3 and the first ERR segment's text, if any. */
export function parseAck(text: string): { code: string; controlId: string; text: string } | null {
  const segments = text.split(/\r\n|\r|\n/);
  const msh = segments.find((s) => s.startsWith('MSH'));
  const sep = msh?.[3] ?? '|';
  const msa = segments.find((s) => s.startsWith(`MSA${sep}`));
  if (!msa) return null;
  const f = msa.split(sep);
  const err = segments.find((s) => s.startsWith(`ERR${sep}`));
  const why = f[3] || (err ? err.split(sep).slice(1).filter(Boolean).join(' ') : '');
  return { code: f[1] ?? '', controlId: f[2] ?? '', text: why };
}

/** Sends one message and judges the ACK; `onDone` is called once. Never throws. */
export function hl7Probe(spec: Hl7Spec, onDone: (o: Hl7Outcome) => void): Hl7Run {
  const controlId = freshControlId();
  let done = false;
  let sent = false;
  let chunks: Buffer[] = [];
  let size = 0;
  const socket = connect({ host: spec.address, port: spec.port });
  const finish = (ok: boolean, detail: string) => {
    if (done) return;
    done = true;
    onDone({ ok, detail });
    socket.destroy();
  };
  socket.once('connect', () => {
    sent = true;
    socket.write(Buffer.concat([Buffer.of(VT), Buffer.from(hl7CheckMessage(spec.message, controlId), 'utf8'), Buffer.of(FS, CR)]));
  });
  socket.on('error', (err: NodeJS.ErrnoException) => finish(false, err.code ?? err.message));
  socket.on('close', () => finish(false, 'connection closed without an ACK'));
  socket.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    size += chunk.length;
    const all = chunks.length === 1 ? chunk : Buffer.concat(chunks);
    chunks = [all];
    const start = all.indexOf(VT);
    const end = start < 0 ? -1 : all.indexOf(FS, start + 1);
    if (end < 0) {
      if (size > MAX_ACK_BYTES) finish(false, `not MLLP: no complete frame in ${MAX_ACK_BYTES} bytes`);
      return;
    }
    const ack = parseAck(all.subarray(start + 1, end).toString('utf8'));
    if (!ack) return finish(false, 'answer is not an ACK (no MSA segment)');
    if (ack.controlId !== controlId) return finish(false, `ACK ${ack.code} for another message (MSA-2 ${JSON.stringify(ack.controlId.slice(0, 40))})`);
    const ok = ack.code === 'AA' || ack.code === 'CA';
    finish(ok, `ACK ${ack.code || '(empty)'}${ack.text ? `: ${ack.text.slice(0, 200)}` : ''}`);
  });
  return {
    cancel: () => socket.destroy(),
    waitingFor: () => (sent ? 'the ACK' : 'the connection'),
  };
}
