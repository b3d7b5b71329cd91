// The HA controller the appliance runs: standalone until it pairs (createHaPair as primary,
// joinHaPair as secondary), then the API face of its pair runtime, standalone again when the
// pair is broken. Its state lives in the data dir, so a restarted node comes back passive in
// its pair (it never binds the VIPs before it has heard whether its peer holds them).
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { operationTable, type OperationId } from '../../openapi/generated/operations.js';
import type { Principal } from '../users/user-store.js';
import { ifMatchSatisfied } from '../config/canonical-json.js';
import type { RevisionRecord } from '../config/model.js';
import type { ConfigStore } from '../config/store.js';
import type { Engine } from '../engine/types.js';
import { ApplianceError } from '../errors.js';
import type { UsersDocument, UserStore } from '../users/user-store.js';
import { haPairEtag, type HaController, type HaPairInput, type HaPairView, type HaPeerEndpoints, type HaPeerStateView, type HaStatusView } from './controller.js';
import { createHaMetrics, type HaMetrics } from './ha-metrics.js';
import { deriveKeys, tokenMatches } from './pair-keys.js';
import { PairRuntime, vipAddressesOf } from './pair-runtime.js';
import { loadHaState, saveHaState, type HaState, type PairRecord } from './pair-state.js';
import { completePair, joinRecord, newBootId, preparePair, SETTING_NAMES, settingsFrom } from './pairing.js';
import { StandaloneHa } from './standalone.js';
import { VipAddresses } from './vip-addresses.js';

/** What the HA node is built from. */
export interface HaNodeOptions {
  dataDir: string;
  store: ConfigStore;
  users: UserStore;
  engine: Engine;
  logger: Logger;
  registry: Registry;
  /** `--vip-interface`: the interface that carries the VIP addresses of the active node. */
  vipInterface?: string;
}

/** What the node learns once its API listens. */
export interface HaStartContext {
  tls: { cert: string; key: string; fingerprintSha256: string };
  apiHost: string;
  apiPort: number;
}


/** This appliance's HA controller. */
export class HaNode implements HaController {
  readonly #o: HaNodeOptions;
  readonly #log: Logger;
  readonly #metrics: HaMetrics;
  readonly #vip: VipAddresses | null;
  readonly #bootId = newBootId();
  readonly #standalone: StandaloneHa;
  #state: HaState = { pair: null, released: false };
  #pair: PairRuntime | null = null;
  /** The primary's record while pairing: the new secondary calls back before pairing ends. */
  #pending: PairRecord | null = null;
  #ctx: HaStartContext | null = null;
  #changing: Promise<unknown> = Promise.resolve();

  constructor(options: HaNodeOptions) {
    this.#o = options;
    this.#log = options.logger;
    this.#metrics = createHaMetrics(options.registry);
    this.#vip = options.vipInterface ? new VipAddresses(options.vipInterface, options.logger) : null;
    this.#standalone = new StandaloneHa(() => options.store.current.revision, () => this.#state.released);
    // A standalone node owns the addresses of the VIPs it gains; a paired node's runtime does that itself.
    options.store.onCommit(() => (this.#ownsAsStandalone() ? this.#vip?.own(vipAddressesOf(options.store)) : undefined));
  }

  /** Reads the HA state; a paired (or released) node releases the VIPs before the config is applied. */
  async load(): Promise<void> {
    this.#state = await loadHaState(this.#o.dataDir);
    if (this.#state.pair || this.#state.released) await this.#o.engine.setActive(false);
  }

  /** Starts the pair runtime (passive) or, standalone, takes the VIP addresses. */
  async start(ctx: HaStartContext): Promise<void> {
    this.#ctx = ctx;
    if (this.#vip && !this.#ownsAsStandalone()) await this.#vip.release(vipAddressesOf(this.#o.store));
    if (this.#state.pair) {
      this.#log.info({ role: this.#state.pair.role, peer: this.#state.pair.peerEndpoint }, 'HA: rejoining the pair as passive');
      await this.#run(this.#state.pair, 'passive');
    } else if (this.#ownsAsStandalone()) await this.#vip?.own(vipAddressesOf(this.#o.store));
  }

  /** Stops the pair runtime (the VIPs stay as they are until the engine stops). */
  async close(): Promise<void> {
    await this.#changing.catch(() => undefined);
    await this.#pair?.close();
    this.#pair = null;
  }

  /** Removes the VIP addresses this node carries (after the engine stopped: a node shutting down gives them up). */
  async releaseAddresses(): Promise<void> {
    await this.#vip?.release();
  }

  // ------------------------------------------------------------ HaController

  pair(): HaPairView {
    return this.#pair?.pairView() ?? this.#standalone.pair();
  }

  status(): HaStatusView {
    return this.#pair?.statusView() ?? this.#standalone.status();
  }

  summary(): ReturnType<HaController['summary']> {
    const pair = this.#pair;
    if (!pair) return this.#standalone.summary();
    return { haRole: pair.role, haState: pair.state, peerHeartbeatAgeMs: pair.heartbeatAgeMs() };
  }

  create(input: HaPairInput): Promise<HaPairView> {
    return this.#serial(async () => {
      if (this.#pair) throw new ApplianceError('LB_HA_STATE', `this node is already the ${this.#pair.role} of a pair with ${this.#pair.record.peerEndpoint}; break it first`);
      const ctx = this.#started();
      const pairing = { store: this.#o.store, users: this.#o.users, logger: this.#log, ownFingerprintSha256: ctx.tls.fingerprintSha256, apiHost: ctx.apiHost, apiPort: ctx.apiPort, term: 1 };
      const record = await preparePair(input, pairing);
      this.#pending = record;
      try {
        await completePair(record, input.peerPassword, pairing);
      } finally {
        this.#pending = null;
      }
      const active = this.#o.engine.status().active || !this.#state.released;
      const before = this.#state;
      try {
        await this.#run(record, active ? 'active' : 'passive', 'passive');
      } catch (err) {
        // This node cannot run the pair (a port taken here): the secondary leaves again, and
        // this node goes back to what it was, so neither half-pairs.
        await (this.#pair as PairRuntime | null)?.client.leaveHaPair().catch((e: unknown) => this.#log.warn({ err: (e as Error).message }, 'the secondary could not be told to leave the pair this node could not start'));
        await this.#undoPairing(before);
        throw err;
      }
      return this.pair();
    });
  }

  update(patch: Record<string, unknown>, ifMatch?: string): Promise<HaPairView> {
    return this.#serial(async () => {
      const pair = this.#requirePair();
      if (pair.role !== 'primary') throw this.#notPrimary(pair);
      // Checked in the same turn as the change, so two clients holding one ETag cannot both win.
      const etag = haPairEtag(pair.pairView());
      if (!ifMatchSatisfied(ifMatch, etag)) {
        throw new ApplianceError('LB_PRECONDITION_FAILED', `the HA pair has changed: its ETag is ${etag}, not ${ifMatch}`, { field: 'If-Match' });
      }
      for (const name of Object.keys(patch)) {
        if (!(SETTING_NAMES as readonly string[]).includes(name)) {
          throw new ApplianceError('LB_VALIDATION', `${name} cannot be changed on a formed pair (only ${SETTING_NAMES.join(', ')}); break the pair and pair again`, { field: `/${name}` });
        }
      }
      const settings = settingsFrom(patch, pair.record.settings);
      // The secondary first: if it cannot take them, nothing changes on either side; if this
      // node then cannot (a port taken here), the secondary gets its old settings back.
      const old = pair.record.settings;
      await pair.client.putHaPeerSettings(settings);
      try {
        await pair.applySettings(settings);
      } catch (err) {
        await pair.client.putHaPeerSettings(old).catch((undo: unknown) => this.#log.error({ err: (undo as Error).message }, 'the secondary keeps pair settings this node refused; change them again'));
        throw err;
      }
      return this.pair();
    });
  }

  remove(): Promise<void> {
    return this.#serial(async () => {
      const pair = this.#requirePair();
      await pair.client.leaveHaPair().catch((err: unknown) => this.#log.warn({ err: (err as Error).message }, 'breaking the pair: the peer could not be told; it breaks its side when it next reaches this node'));
      await this.#dissolve();
    });
  }

  async takeover(): Promise<HaStatusView> {
    const pair = this.#pair;
    if (pair) {
      await pair.takeover();
      return this.status();
    }
    if (!this.#state.released) throw new ApplianceError('LB_NOT_FOUND', 'this node is not part of an HA pair and already owns its VIPs');
    await this.#serial(async () => {
      this.#state = { pair: null, released: false };
      await saveHaState(this.#o.dataDir, this.#state);
      if (this.#vip) await this.#vip.own(vipAddressesOf(this.#o.store));
      await this.#o.engine.setActive(true);
      this.#log.warn('standalone node took its VIPs');
    });
    return this.status();
  }

  guard = (_id: OperationId, op: (typeof operationTable)[OperationId]): void => {
    if (op.write === 'cluster' && this.#pair?.role === 'secondary') throw this.#notPrimary(this.#pair);
  };

  peerToken(token: string): 'accepted' | 'refused' | 'unpaired' {
    const record = this.#pair?.record ?? this.#pending;
    if (!record) return 'unpaired';
    return tokenMatches(token, deriveKeys(record.key, record.pairId).apiToken) ? 'accepted' : 'refused';
  }

  peerSync(revision?: number | null): 'in-sync' | 'behind' | null {
    const pair = this.#pair;
    if (!pair || pair.role !== 'primary') return null;
    return pair.peerLacks(revision ?? null) ? 'behind' : 'in-sync';
  }

  peer: HaPeerEndpoints = {
    join: (body) =>
      this.#serial(async () => {
        if (this.#pair) {
          if (this.#pair.record.pairId === body.pairId) return this.#pair.peerState();
          throw new ApplianceError('LB_HA_STATE', `this node already belongs to a pair with ${this.#pair.record.peerEndpoint}; break that pair first`);
        }
        this.#started();
        // Everything is checked before anything changes: a refused join leaves this node
        // standalone with its engine and its VIPs serving.
        const record = joinRecord(body);
        const before = this.#state;
        await this.#o.engine.setActive(false);
        await this.#vip?.release();
        try {
          await this.#run(record, 'passive', 'active');
        } catch (err) {
          await this.#undoPairing(before);
          // A link that could not start names its setting; in this body the settings are under /settings.
          const setting = err instanceof ApplianceError && (SETTING_NAMES as readonly string[]).includes(err.field?.split('/')[1] ?? '');
          throw setting ? (err as ApplianceError).withFieldPrefix('/settings') : err;
        }
        this.#log.warn({ primary: record.peerEndpoint, pairId: record.pairId }, 'HA pair joined: this node is the secondary');
        return (this.#pair as PairRuntime | null)?.peerState() ?? this.#peerStateOfPending();
      }),
    leave: () =>
      this.#serial(async () => {
        this.#requirePair();
        this.#log.warn('the peer broke the pair');
        await this.#dissolve();
      }),
    state: () => this.#pair?.peerState() ?? this.#peerStateOfPending(),
    revision: (body) => this.#requirePair().adoptRevision(body.record as unknown as RevisionRecord, body.keys, body.replaceHistory ?? false),
    users: (body) => this.#requirePair().adoptUsers(body as UsersDocument),
    settings: (body) =>
      this.#serial(async () => {
        const pair = this.#requirePair();
        await pair.applySettings(settingsFrom(body));
        return pair.peerState();
      }),
    flowState: (body) => {
      this.#requirePair();
      this.#o.engine.kernelPairing?.holdPeerFlowState(body);
    },
    release: (body) => this.#requirePair().release(body.term, body.reason),
  };

  // ------------------------------------------------------------ internals

  #ownsAsStandalone(): boolean {
    return this.#pair === null && !this.#state.pair && !this.#state.released;
  }

  #started(): HaStartContext {
    if (!this.#ctx) throw new ApplianceError('LB_HA_STATE', 'the appliance is still starting');
    return this.#ctx;
  }

  #requirePair(): PairRuntime {
    if (!this.#pair) throw new ApplianceError('LB_NOT_FOUND', 'this node is not part of an HA pair');
    return this.#pair;
  }

  #notPrimary(pair: PairRuntime): ApplianceError {
    return new ApplianceError('LB_HA_NOT_PRIMARY', `this node is the secondary of an HA pair: send writes to the primary, ${pair.record.peerEndpoint}`, {
      extra: { primaryEndpoint: pair.record.peerEndpoint },
    });
  }

  #peerStateOfPending(): HaPeerStateView {
    const record = this.#pending;
    if (!record) throw new ApplianceError('LB_HA_STATE', 'this node is not part of an HA pair');
    return { pairId: record.pairId, role: record.role, state: this.#o.engine.status().active ? 'active' : 'passive', term: record.term, revision: this.#o.store.current.revision, usersDigest: '', bootId: this.#bootId };
  }

  async #run(record: PairRecord, initial: 'active' | 'passive', peerSeen?: 'active' | 'passive'): Promise<void> {
    const ctx = this.#started();
    this.#state = { pair: record, released: false };
    await saveHaState(this.#o.dataDir, this.#state);
    const runtime = new PairRuntime(
      {
        dataDir: this.#o.dataDir,
        store: this.#o.store,
        users: this.#o.users,
        engine: this.#o.engine,
        logger: this.#log.child({ component: 'ha' }),
        tls: ctx.tls,
        vip: this.#vip,
        metrics: this.#metrics,
        bootId: this.#bootId,
        onPeerLeft: () => void this.#serial(() => (this.#pair === runtime ? this.#dissolve() : Promise.resolve())),
      },
      record,
      initial,
      peerSeen,
    );
    this.#pair = runtime;
    await runtime.start();
  }

  /** A pairing (join or create) that failed after it began: back to the state before it, serving again if it was. */
  async #undoPairing(before: HaState): Promise<void> {
    const runtime = this.#pair;
    this.#pair = null;
    await runtime?.close().catch(() => undefined);
    this.#state = before;
    await saveHaState(this.#o.dataDir, before);
    if (this.#ownsAsStandalone()) {
      await this.#vip?.own(vipAddressesOf(this.#o.store));
      await this.#o.engine.setActive(true);
    }
    this.#log.warn('HA pairing failed: this node stays standalone');
  }

  /** Becomes standalone: the active node keeps its VIPs, the passive one keeps them released. */
  async #dissolve(): Promise<void> {
    const pair = this.#pair;
    if (!pair) return;
    const released = pair.state === 'passive';
    this.#pair = null;
    await pair.close();
    this.#state = { pair: null, released };
    await saveHaState(this.#o.dataDir, this.#state);
    this.#log.warn({ released }, released ? 'HA pair broken: standalone, VIPs kept released' : 'HA pair broken: standalone, keeping the VIPs');
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#changing.then(fn);
    this.#changing = run.catch(() => undefined);
    return run;
  }
}
