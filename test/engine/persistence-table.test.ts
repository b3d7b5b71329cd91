// The source-IP table follows a revision that changed some VIPs (configureSome) exactly as it
// follows the whole list of timeouts (configure): the same entries kept, the same dropped, the
// same idle limits, over seeded random sequences of revisions.
import { describe, expect, it } from 'vitest';
import { PersistenceTable } from '../../appliance/engine/embedded/persistence-table.js';
import { seededRandom } from '../helpers/seeded-random.js';

const VIPS = ['vs-a', 'vs-b', 'vs-c', 'vs-d'];

describe('the source-IP table', () => {
  it('follows changed VIPs\' timeouts as it follows the whole list, over 200 seeded sequences', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const random = seededRandom(seed);
      const whole = new PersistenceTable();
      const some = new PersistenceTable();
      // Each VIP's timeout in seconds, or null while it keeps no table.
      const timeouts = new Map<string, number | null>(VIPS.map((id) => [id, null]));
      let now = 1_000_000;
      for (let revision = 0; revision < 12; revision++) {
        const changed = VIPS.filter(() => random() < 0.4);
        for (const id of changed) timeouts.set(id, random() < 0.3 ? null : 1 + Math.floor(random() * 20));
        whole.configure(new Map([...timeouts].filter((e): e is [string, number] => e[1] !== null)));
        some.configureSome(changed.map((id) => [id, timeouts.get(id) ?? null] as const));
        // Clients arrive on the VIPs that keep a table; time passes; the sweep runs.
        for (const [id, t] of timeouts) if (t !== null) for (let c = 0; c < 3; c++) {
          const client = `198.18.0.${Math.floor(random() * 8)}`;
          const rs = `rs-${Math.floor(random() * 3)}`;
          whole.set(id, client, rs, now);
          some.set(id, client, rs, now);
        }
        now += Math.floor(random() * 15_000);
        whole.sweep(now);
        some.sweep(now);
        const at = `seed ${seed} revision ${revision}`;
        for (const id of VIPS) expect(some.entries(id, now), `${at} ${id}`).toEqual(whole.entries(id, now));
      }
      whole.close();
      some.close();
    }
  });

  it('drops the entries of a VIP that stops keeping a table and keeps the others\'', () => {
    const table = new PersistenceTable();
    table.configureSome([['vs-a', 60], ['vs-b', 60]]);
    table.set('vs-a', '198.18.0.1', 'rs-1', 0);
    table.set('vs-b', '198.18.0.2', 'rs-2', 0);
    const removed: string[] = [];
    table.on('change', (c) => removed.push(`${c.type} ${c.entry?.virtualServiceId ?? ''}`));
    table.configureSome([['vs-a', null]]);
    expect(table.size('vs-a')).toBe(0);
    expect(table.size('vs-b')).toBe(1);
    expect(removed).toEqual([expect.stringMatching(/vs-a/)]);
    // The remaining VIP's timeout is the one it had.
    expect(table.lookup('vs-b', '198.18.0.2', 59_000)).toBe('rs-2');
    table.close();
  });
});
