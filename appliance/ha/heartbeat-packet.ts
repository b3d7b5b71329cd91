// The heartbeat datagram: a fixed 96-byte layout, authenticated with HMAC-SHA256 under a key
// derived from the pair key. A packet is accepted only when its MAC verifies, it names this
// pair, its clock is within the window of ours, and it is newer than every packet accepted
// before from the same sender: a stray, forged or replayed packet changes nothing.
//
//   0  'LBHB'             4   magic
//   4  version            1   1
//   5  role               1   1 primary, 2 secondary
//   6  state              1   0 passive, 1 active
//   7  reserved           1   0
//   8  pair id           16
//  24  boot id            8   random per process start (the sequence restarts with it)
//  32  sequence           8   big-endian, +1 per packet
//  40  sent at            8   big-endian epoch milliseconds
//  48  term               4   the sender's ownership term
//  52  revision           4   the sender's configuration revision
//  56  users digest       8   first bytes of the SHA-256 of its users document
//  64  HMAC-SHA256       32   over bytes 0..63
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Size of a heartbeat datagram. */
export const HEARTBEAT_SIZE = 96;
const MAGIC = Buffer.from('LBHB');
const SIGNED = 64;

/** What a heartbeat says. */
export interface Heartbeat {
  role: 'primary' | 'secondary';
  state: 'active' | 'passive';
  pairId: string;
  bootId: string;
  seq: bigint;
  sentAt: number;
  term: number;
  revision: number;
  usersDigest: string;
}

/** Encodes and signs a heartbeat. */
export function encodeHeartbeat(hb: Heartbeat, key: Buffer): Buffer {
  const buf = Buffer.alloc(HEARTBEAT_SIZE);
  MAGIC.copy(buf, 0);
  buf.writeUInt8(1, 4);
  buf.writeUInt8(hb.role === 'primary' ? 1 : 2, 5);
  buf.writeUInt8(hb.state === 'active' ? 1 : 0, 6);
  Buffer.from(hb.pairId, 'hex').copy(buf, 8, 0, 16);
  Buffer.from(hb.bootId, 'hex').copy(buf, 24, 0, 8);
  buf.writeBigUInt64BE(hb.seq, 32);
  buf.writeBigUInt64BE(BigInt(hb.sentAt), 40);
  buf.writeUInt32BE(hb.term >>> 0, 48);
  buf.writeUInt32BE(hb.revision >>> 0, 52);
  Buffer.from(hb.usersDigest, 'hex').copy(buf, 56, 0, 8);
  createHmac('sha256', key).update(buf.subarray(0, SIGNED)).digest().copy(buf, SIGNED);
  return buf;
}

/** Why a datagram was not accepted. */
export type RejectReason = 'malformed' | 'bad-mac' | 'other-pair' | 'own-role' | 'stale-clock' | 'replayed';

/** Checks and decodes a datagram: the heartbeat, or why it was rejected. */
export function decodeHeartbeat(buf: Buffer, key: Buffer, pairId: string): Heartbeat | RejectReason {
  if (buf.length !== HEARTBEAT_SIZE || !buf.subarray(0, 4).equals(MAGIC) || buf.readUInt8(4) !== 1) return 'malformed';
  const mac = createHmac('sha256', key).update(buf.subarray(0, SIGNED)).digest();
  if (!timingSafeEqual(mac, buf.subarray(SIGNED))) return 'bad-mac';
  if (buf.subarray(8, 24).toString('hex') !== pairId) return 'other-pair';
  const role = buf.readUInt8(5);
  const state = buf.readUInt8(6);
  if ((role !== 1 && role !== 2) || (state !== 0 && state !== 1)) return 'malformed';
  return {
    role: role === 1 ? 'primary' : 'secondary',
    state: state === 1 ? 'active' : 'passive',
    pairId,
    bootId: buf.subarray(24, 32).toString('hex'),
    seq: buf.readBigUInt64BE(32),
    sentAt: Number(buf.readBigUInt64BE(40)),
    term: buf.readUInt32BE(48),
    revision: buf.readUInt32BE(52),
    usersDigest: buf.subarray(56, 64).toString('hex'),
  };
}

/**
 * Replay protection: within one boot of the sender the sequence must grow; a new boot must
 * carry a later send time than anything accepted before. Both must be within `windowMs` of
 * this node's clock, so a packet recorded long ago is refused even after this node restarts.
 */
export class ReplayGuard {
  readonly #windowMs: number;
  #bootId: string | null = null;
  #seq = -1n;
  #sentAt = 0;

  constructor(windowMs: number) {
    this.#windowMs = windowMs;
  }

  /** Whether the heartbeat is fresh; records it when it is. */
  accept(hb: Heartbeat, now: number): 'stale-clock' | 'replayed' | null {
    if (Math.abs(now - hb.sentAt) > this.#windowMs) return 'stale-clock';
    if (hb.bootId === this.#bootId ? hb.seq <= this.#seq : hb.sentAt <= this.#sentAt) return 'replayed';
    this.#bootId = hb.bootId;
    this.#seq = hb.seq;
    this.#sentAt = hb.sentAt;
    return null;
  }
}
