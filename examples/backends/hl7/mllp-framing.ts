// MLLP framing (HL7 v2 transport over TCP): every message travels as
// <VT> message <FS><CR> (0x0b ... 0x1c 0x0d). TCP keeps no message boundaries, so the
// decoder is a byte-level state machine: a frame may arrive in many chunks, a chunk may
// hold several frames, and <FS> may end one chunk with its <CR> starting the next.
import { BackendError } from '../errors.js';

/** Start block <VT>. */
export const VT = 0x0b;
/** End block <FS>. */
export const FS = 0x1c;
/** Carriage return: ends the frame after <FS>, and separates HL7 segments. */
export const CR = 0x0d;

/** Wraps one message (text or bytes) in an MLLP frame. */
export function encodeFrame(message: string | Buffer): Buffer {
  const body = typeof message === 'string' ? Buffer.from(message, 'utf8') : message;
  return Buffer.concat([Buffer.of(VT), body, Buffer.of(FS, CR)]);
}

/** Options of a decoder. */
export interface MllpDecoderOptions {
  /** Largest message accepted, in bytes (default 16 MiB): a runaway frame is an error, not a memory leak. */
  maxMessageBytes?: number;
}

/** Splits a byte stream into MLLP message bodies. */
export class MllpDecoder {
  readonly #max: number;
  #chunks: Buffer[] = [];
  #size = 0;
  #inFrame = false;
  #sawFs = false;
  /** Bytes seen outside any frame (before a <VT>), which MLLP says to ignore. */
  discarded = 0;

  constructor(options: MllpDecoderOptions = {}) {
    this.#max = options.maxMessageBytes ?? 16 * 1024 * 1024;
  }

  /** Feeds a chunk; returns the bodies of the frames it completed (throws BACKEND_MLLP_FRAME_TOO_LARGE). */
  push(chunk: Buffer): Buffer[] {
    const done: Buffer[] = [];
    let start = 0; // first byte of the current frame's body inside this chunk
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (!this.#inFrame) {
        if (b === VT) {
          this.#inFrame = true;
          this.#sawFs = false;
          start = i + 1;
        } else {
          this.discarded++;
        }
        continue;
      }
      if (this.#sawFs) {
        this.#sawFs = false;
        if (b === CR) {
          // The body ends before the <FS>, which may have been the last byte of the previous chunk.
          this.#append(chunk.subarray(start, i));
          const body = Buffer.concat(this.#chunks, this.#size);
          done.push(body.subarray(0, body.length - 1));
          this.#chunks = [];
          this.#size = 0;
          this.#inFrame = false;
          continue;
        }
        // <FS> not followed by <CR> is part of the body; go on scanning from this byte.
      }
      if (b === FS) this.#sawFs = true;
    }
    if (this.#inFrame) this.#append(chunk.subarray(start));
    return done;
  }

  #append(part: Buffer): void {
    if (part.length === 0) return;
    this.#size += part.length;
    if (this.#size > this.#max + 1) {
      this.#chunks = [];
      this.#size = 0;
      this.#inFrame = false;
      throw new BackendError('BACKEND_MLLP_FRAME_TOO_LARGE', `an MLLP frame is larger than ${this.#max} bytes`, { maxMessageBytes: this.#max });
    }
    // Copy: the chunk belongs to the socket and may be reused.
    this.#chunks.push(Buffer.from(part));
  }
}
