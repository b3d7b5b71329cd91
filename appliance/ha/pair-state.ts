// The HA state a node keeps in its data dir (ha/state.json, 0600), so that a restarted node
// rejoins its pair: the pair key, the peer and its pinned fingerprint, the shared settings
// and the last ownership term. Node-local settings (the API's address and TLS identity, the
// VIP interface) are not here: they come from the command line and stay per node.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../config/atomic-file.js';

/** The settings both nodes of a pair share (the contract's HaPeerSettings). */
export interface PairSettings {
  heartbeatPort: number;
  replicationPort: number;
  heartbeatIntervalMs: number;
  deadTimeMs: number;
  preferPrimary: boolean;
}

/** One node's record of its pair. */
export interface PairRecord {
  pairId: string;
  /** The pair key, base64url; every key the pair uses is derived from it. */
  key: string;
  role: 'primary' | 'secondary';
  localEndpoint: string;
  peerEndpoint: string;
  /** This node's heartbeat and replication address. */
  localAddress: string;
  peerAddress: string;
  /** The peer's API certificate, pinned. */
  peerFingerprintSha256: string;
  settings: PairSettings;
  pairedAt: string;
  /** The highest ownership term this node knows. */
  term: number;
}

/** The HA state file. */
export interface HaState {
  pair: PairRecord | null;
  /** A node that was passive when its pair was broken keeps its VIPs released until a takeover. */
  released: boolean;
}

function statePath(dataDir: string): string {
  return join(dataDir, 'ha', 'state.json');
}

/** Reads the HA state (a node never paired has none). */
export async function loadHaState(dataDir: string): Promise<HaState> {
  try {
    const doc = JSON.parse(await readFile(statePath(dataDir), 'utf8')) as Partial<HaState>;
    return { pair: doc.pair ?? null, released: doc.released === true };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { pair: null, released: false };
    throw err;
  }
}

/** Writes the HA state atomically. */
export async function saveHaState(dataDir: string, state: HaState): Promise<void> {
  await mkdir(join(dataDir, 'ha'), { recursive: true, mode: 0o700 });
  await writeFileAtomic(statePath(dataDir), JSON.stringify(state, null, 1), 0o600);
}
