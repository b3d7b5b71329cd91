// A write's draft (appliance/config/draft.ts) tells what the mutation changed without
// comparing the whole site: for random mutations (adds, replacements, deletions, an id set
// back to its own object, added then deleted, a collection replaced whole, a restore's
// Object.assign) its change must be exactly the identity comparison of the two whole
// configurations, the configuration it gives back must hold no proxy, and the base must be
// untouched. Then through a real store on disk: every commit's change is that comparison,
// and a reopened store holds what was acknowledged.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { types } from 'node:util';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { openDraft } from '../../appliance/config/draft.js';
import { CONFIG_MAPS, emptyConfig, type StoredConfig } from '../../appliance/config/model.js';
import { changeBetween } from '../../appliance/config/revision-log.js';
import type { ConfigSnapshot } from '../../appliance/config/snapshot.js';
import { ConfigStore } from '../../appliance/config/store.js';
import { seededRandom as rng } from '../helpers/seeded-random.js';

type Maps = Record<string, Record<string, unknown>>;

function frozenBase(random: () => number): StoredConfig {
  const config = emptyConfig() as unknown as Maps;
  for (const map of CONFIG_MAPS) for (let i = 0; i < 1 + Math.floor(random() * 6); i++) config[map]![`${map}-${i}`] = Object.freeze({ n: i });
  for (const map of CONFIG_MAPS) Object.freeze(config[map]);
  return config as unknown as StoredConfig;
}

function mutateRandomly(draft: StoredConfig, base: StoredConfig, random: () => number): void {
  const d = draft as unknown as Maps;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  for (let step = 0; step < 1 + Math.floor(random() * 8); step++) {
    const map = pick(CONFIG_MAPS);
    const ids = Object.keys(d[map]!);
    switch (Math.floor(random() * 8)) {
      case 0: d[map]![`${map}-new-${step}`] = { added: step }; break;
      case 1: if (ids.length) d[map]![pick(ids)] = { replaced: step }; break;
      case 2: if (ids.length) delete d[map]![pick(ids)]; break;
      case 3: delete d[map]![`${map}-never`]; break;
      case 4: { const id = pick(Object.keys((base as unknown as Maps)[map]!)); if (id) d[map]![id] = (base as unknown as Maps)[map]![id]; break; }
      case 5: d[map]![`${map}-brief`] = { brief: true }; delete d[map]![`${map}-brief`]; break;
      case 6: d[map] = { ...d[map], [`${map}-whole`]: { whole: step } }; break;
      case 7: Object.assign(d, { [map]: Object.fromEntries(ids.slice(1).map((id) => [id, d[map]![id]])) }); break;
    }
  }
}

describe('a write draft', () => {
  it('gives exactly the identity comparison of the whole configurations, for 2000 random mutations', () => {
    for (let seed = 1; seed <= 2000; seed++) {
      const random = rng(seed);
      const base = frozenBase(random);
      const draft = openDraft(base);
      mutateRandomly(draft.config, base, random);
      const { config, change } = draft.close();
      expect({ seed, change }).toEqual({ seed, change: changeBetween(base, config) });
      for (const map of CONFIG_MAPS) expect(types.isProxy(config[map]), `seed ${seed}: ${map} is a proxy`).toBe(false);
    }
  });

  it('never writes the base, and a draft nobody touched changes nothing', () => {
    const base = frozenBase(rng(7));
    const before = JSON.stringify(base);
    const draft = openDraft(base);
    (draft.config.virtualServices as Record<string, unknown>)['virtualServices-0'] = { other: true };
    delete (draft.config.realServers as Record<string, unknown>)['realServers-0'];
    delete (draft.config.certificates as Record<string, unknown>)['certificates-never'];
    const { config } = draft.close();
    expect(JSON.stringify(base)).toBe(before);
    // Only the collections the mutation changed are copies; the others are the base's own.
    expect(config.virtualServices).not.toBe(base.virtualServices);
    expect(config.realServers).not.toBe(base.realServers);
    expect(config.certificates).toBe(base.certificates);
    expect(config.syslogCollectors).toBe(base.syslogCollectors);
    const untouched = openDraft(base).close();
    expect(Object.values(untouched.change).every((m) => Object.keys(m).length === 0)).toBe(true);
    expect(untouched.config).toEqual(base);
  });
});

describe('the store with drafts', () => {
  const dirs: string[] = [];
  afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
  const target = { check: async () => undefined, checkListeners: async () => undefined, apply: async (_s: ConfigSnapshot) => ({ listenersChanged: 0 }) };
  const open = async (dataDir: string) => {
    const store = new ConfigStore({ dataDir, engine: target, logger: pino({ level: 'silent' }), rules: { reserved: [] } });
    await store.open();
    return store;
  };

  it('reports each commit change as the comparison of its two revisions, and a reopened store holds every acknowledged one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lbappliance-draft-'));
    dirs.push(dir);
    const store = await open(dir);
    const ctx = { user: 'test', operation: 'test' };
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        store.commit(ctx, (draft) => {
          const m = draft.syslogCollectors as Record<string, unknown>;
          if (i % 3 === 2) delete m[`c${i - 1}`];
          else m[`c${i}`] = { label: `c${i}`, host: '127.0.0.1', port: 514, transport: 'udp', caPem: null, format: 'rfc5424', facility: 'local0', minSeverity: 'info' };
          if (i % 5 === 0) draft.snmp = { ...draft.snmp };
        }),
      ),
    );
    for (const r of results) expect(r.change).toEqual(changeBetween(r.before.config, r.after.config));
    expect(results.map((r) => r.revision)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    const last = store.current;
    await store.close();
    const reopened = await open(dir);
    expect(reopened.current.revision).toBe(30);
    expect(reopened.current.config).toEqual(last.config);
    await reopened.close();
  });
});
