// The store publishes every revision to its listeners, and a listener can leave: the HA pair
// runtime adds one per run and removes it when the run closes, so pairing and unpairing
// repeatedly leaves no replicator of an old run listening.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigSnapshot } from '../../appliance/config/snapshot.js';
import { ConfigStore } from '../../appliance/config/store.js';

let dir: string;
let store: ConfigStore;
const applied: number[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lbappliance-store-'));
  // A snapshot target that accepts everything and remembers what it applied.
  const target = { check: async () => undefined, checkListeners: async () => undefined, apply: async (s: ConfigSnapshot) => (applied.push(s.revision), { listenersChanged: 0 }) };
  store = new ConfigStore({ dataDir: dir, engine: target, logger: pino({ level: 'silent' }), rules: { reserved: [] } });
  await store.open();
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe('the store feed', () => {
  it('calls a listener for every revision until it unsubscribes', async () => {
    const seen: number[] = [];
    const off = store.onCommit((record) => void seen.push(record.revision));
    const write = (label: string) =>
      store.commit({ user: 'test', operation: 'test' }, (draft) => {
        draft.certificates = draft.certificates ?? {};
        (draft as { virtualServices: Record<string, unknown> }).virtualServices[`vs-${label.padStart(12, '0')}`] = {
          label, ipAddress: '127.0.51.9', ports: [9000 + Number(label)], protocol: 'tcp', certificateId: null, algorithm: 'round-robin',
          persistence: { mode: 'none', timeout: 600, cookieName: 'LBSESSION' }, healthCheck: { type: 'connect', path: '/', host: null, port: null, expectStatus: 200, interval: 5, timeout: 3, rise: 2, fall: 3 },
          forceHttps: false, redirectCode: 301, forwardedFor: true, timeouts: { client: 60, server: 60, connect: 5, httpRequest: 10 }, enabled: true,
        };
      });
    const a = await write('1');
    const b = await write('2');
    off();
    off(); // twice is harmless
    const c = await write('3');
    expect(seen).toEqual([a.revision, b.revision]);
    expect(applied).toContain(c.revision);
  });
});
