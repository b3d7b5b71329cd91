// The store's revision log on real files: writes that arrive together share fdatasyncs and
// still get their own strictly increasing revisions; every kept revision is rebuilt exactly
// from its snapshot and the log; a refused write leaves no trace; and the power-loss model:
// whatever tail of the last segment a crash tore (cut anywhere, or followed by garbage), the
// store reopens at the last whole line, and the next write is kept after it.
import { cp, mkdtemp, readdir, readFile, rm, stat, truncate, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { ConfigSnapshot } from '../../appliance/config/snapshot.js';
import { ConfigStore } from '../../appliance/config/store.js';
import type { StoredRealServer, VirtualServiceSpec } from '../../appliance/config/model.js';
import { fillContractDefaults } from '../../appliance/config/contract-defaults.js';
import { specDocument } from '../../openapi/generated/spec.js';

const dirs: string[] = [];
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'lbappliance-revlog-'));
  dirs.push(d);
  return d;
}

const target = { check: async () => undefined, checkListeners: async () => undefined, apply: async (_s: ConfigSnapshot) => ({ listenersChanged: 0 }) };

async function openStore(dataDir: string, options: { keep?: number; snapshotEvery?: number } = {}): Promise<ConfigStore> {
  const store = new ConfigStore({ dataDir, engine: target, logger: pino({ level: 'silent' }), rules: { reserved: [] }, ...options });
  await store.open();
  return store;
}

function vip(n: number): VirtualServiceSpec {
  const spec = {
    label: `v${n}`, ipAddress: `127.0.228.${1 + (n % 250)}`, ports: [9000 + Math.floor(n / 250)], protocol: 'tcp', certificateId: null, algorithm: 'round-robin',
    persistence: { mode: 'none', timeout: 600, cookieName: 'LBSESSION' }, healthCheck: { type: 'connect', path: '/', host: null, port: null, expectStatus: 200, interval: 5, timeout: 3, rise: 2, fall: 3 },
    forceHttps: false, redirectCode: 301, forwardedFor: true, timeouts: { client: 60, server: 60, connect: 5, httpRequest: 10 }, enabled: true,
  };
  // Every setting added since is the contract's default, as the API fills it into a write.
  fillContractDefaults(spec, specDocument.components.schemas.VirtualServiceSpec);
  return spec as unknown as VirtualServiceSpec;
}

function server(n: number): StoredRealServer {
  const rs: Record<string, unknown> = { label: 's', address: '127.0.228.250', port: 9, weight: 1, adminState: 'online', backup: false };
  fillContractDefaults(rs, specDocument.components.schemas.RealServerSpec);
  return { ...rs, virtualServiceId: id('vs', n) } as unknown as StoredRealServer;
}

function id(prefix: string, n: number): string {
  return `${prefix}-${n.toString(16).padStart(12, '0')}`;
}

/** A write: add VIP n (with a server), or change an existing server's weight. */
function write(store: ConfigStore, n: number) {
  return store.commit({ user: 'test', operation: `w${n}` }, (draft) => {
    if (n % 3 === 2 && draft.realServers[id('rs', n - 1)]) {
      draft.realServers[id('rs', n - 1)] = { ...(draft.realServers[id('rs', n - 1)] as StoredRealServer), weight: n };
    } else {
      draft.virtualServices[id('vs', n)] = vip(n);
      draft.realServers[id('rs', n)] = server(n);
    }
  });
}

describe('the revision log', () => {
  it('group commit: 60 writes sent together get revisions 1..60 in order and share fdatasyncs', async () => {
    const dir = await tempDir();
    const store = await openStore(dir);
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => write(store, i + 1)));
    expect(results.map((r) => r.revision)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    for (const r of results) expect(r.before.revision).toBe(r.revision - 1);
    expect(store.logStats.lines).toBe(60);
    expect(store.logStats.flushes).toBeLessThan(60);
    await store.close();
    const again = await openStore(dir);
    expect(again.current.revision).toBe(60);
    expect(JSON.stringify(again.current.config)).toBe(JSON.stringify(results[59]?.after.config));
    await again.close();
  });

  it('rebuilds every kept revision from its snapshot and the log, before and after a restart, and prunes what no kept revision needs', async () => {
    const dir = await tempDir();
    let store = await openStore(dir, { keep: 15, snapshotEvery: 10 });
    const configs = new Map<number, string>();
    for (let n = 1; n <= 47; n++) {
      const r = await write(store, n);
      configs.set(r.revision, JSON.stringify(r.after.config));
    }
    const check = async (s: ConfigStore) => {
      const kept = s.history().map((h) => h.revision);
      expect(kept).toEqual(Array.from({ length: 15 }, (_, i) => 47 - i));
      for (const r of kept) expect(JSON.stringify((await s.revision(r))?.config), `revision ${r}`).toBe(configs.get(r));
      expect(await s.revision(20)).toBeNull();
    };
    await check(store);
    await store.close();
    // Kept 33..47: the snapshot at 30 and the ones after it (47: the clean stop's), nothing older.
    expect((await readdir(join(dir, 'config', 'revisions'))).sort()).toEqual(['rev-0000000030.json', 'rev-0000000040.json', 'rev-0000000047.json']);
    expect((await readdir(join(dir, 'config', 'log'))).sort()).toEqual(['wal-0000000030.log', 'wal-0000000040.log', 'wal-0000000047.log']);
    store = await openStore(dir, { keep: 15, snapshotEvery: 10 });
    await check(store);
    await store.close();
  });

  it('a refused write changes nothing: no revision, no log line', async () => {
    const dir = await tempDir();
    const store = await openStore(dir);
    await write(store, 1);
    const logFile = join(dir, 'config', 'log', 'wal-0000000000.log');
    const size = (await stat(logFile)).size;
    await expect(store.commit({ user: 't', operation: 'bad' }, (draft) => {
      draft.virtualServices[id('vs', 2)] = vip(2);
      throw new Error('refused');
    })).rejects.toThrow('refused');
    expect(store.current.revision).toBe(1);
    expect(Object.keys(store.current.config.virtualServices)).toEqual([id('vs', 1)]);
    expect((await stat(logFile)).size).toBe(size);
    const next = await write(store, 3);
    expect(next.revision).toBe(2);
    await store.close();
  });

  it('power-loss model: a torn last segment (cut at any byte, or followed by garbage) reopens at the last whole line, and the next write is kept', async () => {
    const dir = await tempDir();
    const store = await openStore(dir);
    const configs: string[] = [JSON.stringify({ virtualServices: {}, realServers: {}, certificates: {} })];
    for (let n = 1; n <= 6; n++) configs.push(JSON.stringify((await write(store, n)).after.config));
    await store.drain();
    // The data dir as a crash would leave it: no clean-stop snapshot.
    const crashed = await tempDir();
    await cp(dir, crashed, { recursive: true });
    await store.close();
    const log = join(crashed, 'config', 'log', 'wal-0000000000.log');
    const bytes = await readFile(log);
    const ends: number[] = [];
    for (let i = 0; i < bytes.length; i++) if (bytes[i] === 10) ends.push(i + 1);
    expect(ends).toHaveLength(6);
    // Cut points through the last two lines (every line end and its neighbours, and every 11th byte), some followed by garbage.
    const from = ends[3] as number;
    const cuts = [...new Set([...ends.slice(3).flatMap((e) => [e - 1, e, e + 1]), from, ...Array.from({ length: Math.floor((bytes.length - from) / 11) }, (_, k) => from + 11 * k)])].filter((c) => c >= from && c <= bytes.length);
    for (const [i, cut] of cuts.entries()) {
      const copy = await tempDir();
      await cp(crashed, copy, { recursive: true });
      const file = join(copy, 'config', 'log', 'wal-0000000000.log');
      await truncate(file, cut);
      if (i % 7 === 0) await appendFile(file, Buffer.from('0badf00d {"revision":99'));
      const whole = ends.filter((e) => e <= cut).length;
      const reopened = await openStore(copy);
      expect(reopened.current.revision, `cut at ${cut}`).toBe(whole);
      expect(JSON.stringify(reopened.current.config)).toBe(configs[whole]);
      const next = await write(reopened, 100);
      expect(next.revision).toBe(whole + 1);
      await reopened.drain();
      const again = await openStore(copy);
      expect(again.current.revision).toBe(whole + 1);
      expect(again.current.config.virtualServices[id('vs', 100)]?.label).toBe('v100');
      await again.close();
      await reopened.close().catch(() => undefined);
      await rm(copy, { recursive: true, force: true });
    }
  }, 120_000);
});
