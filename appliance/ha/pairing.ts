// Forming a pair, on the primary (createHaPair) and on the secondary (joinHaPair). The
// primary reads the peer's certificate (pinning the fingerprint given, or the one it sees:
// trust on first use), joins it with its administrator password and a fresh pair key, then
// copies its users and its current revision over the pinned, key-authenticated channel.
import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import { specDocument } from '../../openapi/generated/spec.js';
import type { components } from '../../openapi/generated/types.js';
import type { ConfigStore } from '../config/store.js';
import { ApplianceError } from '../errors.js';
import { ADMIN_USER, type UserStore } from '../users/user-store.js';
import { keysOf } from './config-replication.js';
import type { HaPairInput } from './controller.js';
import { deriveKeys, newPairId, newPairKey } from './pair-keys.js';
import type { PairRecord, PairSettings } from './pair-state.js';
import { PeerClient, probePeerCertificate } from './peer-client.js';
import { replicationTimeoutMs } from './pair-runtime.js';

/** The settings a pair can change, with their bounds and defaults from the contract. */
export const SETTING_NAMES = ['heartbeatPort', 'replicationPort', 'heartbeatIntervalMs', 'deadTimeMs', 'preferPrimary'] as const;

type SettingSchema = { type: string; minimum?: number; maximum?: number; default: number | boolean };

function settingSchema(name: (typeof SETTING_NAMES)[number]): SettingSchema {
  return (specDocument.components.schemas.HaPairInput.properties as Record<string, SettingSchema>)[name] as SettingSchema;
}

/** Fills defaults and checks bounds (the contract's), e.g. for a merge patch of the settings. */
export function settingsFrom(values: Partial<Record<(typeof SETTING_NAMES)[number], unknown>>, base?: PairSettings): PairSettings {
  const out: Record<string, number | boolean> = {};
  for (const name of SETTING_NAMES) {
    const schema = settingSchema(name);
    const given = values[name];
    const value = given === undefined ? (base?.[name] ?? schema.default) : given === null ? schema.default : given;
    const ok = schema.type === 'boolean' ? typeof value === 'boolean' : Number.isInteger(value) && (value as number) >= (schema.minimum ?? -Infinity) && (value as number) <= (schema.maximum ?? Infinity);
    if (!ok) throw new ApplianceError('LB_VALIDATION', `${name} must be ${schema.type === 'boolean' ? 'true or false' : `an integer from ${schema.minimum} to ${schema.maximum}`}`, { field: `/${name}` });
    out[name] = value as number | boolean;
  }
  const settings = out as unknown as PairSettings;
  if (settings.deadTimeMs < 2 * settings.heartbeatIntervalMs) {
    throw new ApplianceError('LB_INVALID_COMBINATION', `deadTimeMs (${settings.deadTimeMs}) must be at least twice heartbeatIntervalMs (${settings.heartbeatIntervalMs}): one lost heartbeat must not move the VIPs`, {
      field: '/deadTimeMs',
    });
  }
  return settings;
}

function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

function urlHost(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

/** What forming a pair needs from this node. */
export interface PairingContext {
  store: ConfigStore;
  users: UserStore;
  logger: Logger;
  ownFingerprintSha256: string;
  apiHost: string;
  apiPort: number;
  /** The term this node's record starts with. */
  term: number;
}

/**
 * Pairing, first step: reads and checks the peer's certificate and makes the primary's
 * record (with a fresh pair key). Nothing is sent to the peer yet.
 */
export async function preparePair(input: HaPairInput, ctx: PairingContext): Promise<PairRecord> {
  const settings = settingsFrom(input);
  const seen = await probePeerCertificate(input.peerEndpoint, 5000);
  if (input.peerFingerprintSha256 && input.peerFingerprintSha256 !== seen.fingerprintSha256) {
    throw new ApplianceError('LB_HA_PEER_FINGERPRINT', `${input.peerEndpoint} presented a certificate with fingerprint ${seen.fingerprintSha256}, not ${input.peerFingerprintSha256}; nothing was sent to it`, {
      field: '/peerFingerprintSha256',
    });
  }
  if (seen.fingerprintSha256 === ctx.ownFingerprintSha256) throw new ApplianceError('LB_HA_STATE', `${input.peerEndpoint} is this node itself`, { field: '/peerEndpoint' });
  const wildcard = ctx.apiHost === '0.0.0.0' || ctx.apiHost === '::';
  const localAddress = plainAddress(input.localAddress ?? (wildcard ? seen.localAddress : ctx.apiHost));
  const peerAddress = plainAddress(seen.remoteAddress);
  const pairId = newPairId();
  const key = newPairKey();
  const record: PairRecord = {
    pairId,
    key,
    role: 'primary',
    localEndpoint: `https://${urlHost(localAddress)}:${ctx.apiPort}`,
    peerEndpoint: input.peerEndpoint,
    localAddress,
    peerAddress,
    peerFingerprintSha256: seen.fingerprintSha256,
    settings,
    pairedAt: new Date().toISOString(),
    term: ctx.term,
  };
  return record;
}

/**
 * Pairing, second step: joins the peer with its password and the pair key, then copies this
 * node's users and current revision to it. The caller answers the peer's calls with the
 * record meanwhile (the new secondary starts probing at once).
 */
export async function completePair(record: PairRecord, peerPassword: string, ctx: PairingContext): Promise<void> {
  const { pairId, key, settings, localAddress, peerAddress } = record;
  const seen = { fingerprintSha256: record.peerFingerprintSha256 };
  const input = { peerEndpoint: record.peerEndpoint, peerPassword };
  const join = new PeerClient({
    endpoint: input.peerEndpoint,
    fingerprintSha256: seen.fingerprintSha256,
    authorization: `Basic ${Buffer.from(`${ADMIN_USER}:${input.peerPassword}`).toString('base64')}`,
    timeoutMs: 15_000,
  });
  try {
    await join.joinHaPair({
      pairId,
      key,
      primaryEndpoint: record.localEndpoint,
      primaryFingerprintSha256: ctx.ownFingerprintSha256,
      primaryAddress: localAddress,
      secondaryAddress: peerAddress,
      secondaryEndpoint: input.peerEndpoint,
      settings,
      pairedAt: record.pairedAt,
      term: record.term,
    });
  } finally {
    await join.close();
  }
  const peer = new PeerClient({ endpoint: input.peerEndpoint, fingerprintSha256: seen.fingerprintSha256, authorization: `Bearer ${deriveKeys(key, pairId).apiToken}`, timeoutMs: replicationTimeoutMs(settings) * 3 });
  try {
    await peer.putHaPeerUsers(ctx.users.export());
    const current = ctx.store.current;
    await peer.putHaPeerRevision({ record: current as never, keys: await keysOf(ctx.store, current), replaceHistory: true });
  } catch (err) {
    // The secondary joined but could not be filled: undo the join so neither side half-pairs.
    await peer.leaveHaPair().catch(() => undefined);
    throw err;
  } finally {
    await peer.close();
  }
  ctx.logger.warn({ peer: input.peerEndpoint, pairId, localAddress, peerAddress, fingerprint: seen.fingerprintSha256 }, 'HA pair formed: this node is the primary');
}

/** The secondary's record of a pair the primary describes. */
export function joinRecord(body: components['schemas']['HaPeerJoin']): PairRecord {
  let settings: PairSettings;
  try {
    settings = settingsFrom(body.settings);
  } catch (err) {
    throw err instanceof ApplianceError ? err.withFieldPrefix('/settings') : err;
  }
  return {
    pairId: body.pairId,
    key: body.key,
    role: 'secondary',
    localEndpoint: body.secondaryEndpoint,
    peerEndpoint: body.primaryEndpoint,
    localAddress: plainAddress(body.secondaryAddress),
    peerAddress: plainAddress(body.primaryAddress),
    peerFingerprintSha256: body.primaryFingerprintSha256,
    settings,
    pairedAt: body.pairedAt,
    term: body.term,
  };
}

/** A random id of this process (8 bytes, hex). */
export function newBootId(): string {
  return randomUUID().replace(/-/g, '').slice(0, 16);
}
