// Paging the audit log (issue 19 item 12): `before` reaches every entry on disk (it once
// stopped at the newest 5,000 held in memory), across a torn line and a restart.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';
import { allEntries } from '../helpers/audit.js';

describe('audit log paging', () => {
  let app: TestAppliance;
  let dataDir: string;
  const onDisk = 12_345;
  beforeAll(async () => {
    // An appliance whose audit log already holds more entries than it keeps in memory.
    dataDir = await mkdtemp(join(tmpdir(), 'lbappliance-audit-'));
    const lines: string[] = [];
    for (let seq = 1; seq <= onDisk; seq++) {
      lines.push(JSON.stringify({ seq, at: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(), user: 'loadbalancer', address: '127.0.0.1', method: 'POST', path: '/api/v1/users', operation: 'createUser', status: 409, revision: null, changes: null }));
      // A line torn by a crash, in the middle, is skipped.
      if (seq === 6000) lines.push('{"seq":99999,"at":"torn');
    }
    // The last line was torn by a crash too, before its newline: the next entry starts a line of its own.
    await writeFile(join(dataDir, 'audit.log'), `${lines.join('\n')}\n{"seq":${onDisk + 1},"at":"to`, { mode: 0o600 });
    app = await startTestAppliance({ dataDir });
  });
  afterAll(async () => {
    await app?.dispose();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('pages with before through every entry on disk, newest first, not only the newest 5,000', async () => {
    const client = app.client();
    await client.createVirtualService({ label: 'PAGED', ipAddress: '127.0.180.50', ports: [80], protocol: 'http' });
    const entries = await allEntries(client, 1000);
    expect(entries.length).toBe(onDisk + 1);
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: onDisk + 1 }, (_, i) => i + 1));
    expect(entries.at(-1)).toMatchObject({ seq: onDisk + 1, operation: 'createVirtualService', status: 201 });
    // A page starting far back, and one straddling the entries kept in memory.
    const old = await client.listAuditEntries({ query: { before: 101, limit: 7 } });
    expect(old.items.map((e) => e.seq)).toEqual([100, 99, 98, 97, 96, 95, 94]);
    const straddle = await client.listAuditEntries({ query: { before: onDisk - 4990, limit: 20 } });
    expect(straddle.items.map((e) => e.seq)).toEqual(Array.from({ length: 20 }, (_, i) => onDisk - 4991 - i));
    expect((await client.listAuditEntries({ query: { before: 1 } })).items).toEqual([]);
    expect(old.items[0]).toEqual({ seq: 100, at: new Date(Date.UTC(2026, 0, 1, 0, 0, 100)).toISOString(), user: 'loadbalancer', address: '127.0.0.1', method: 'POST', path: '/api/v1/users', operation: 'createUser', status: 409, revision: null, changes: null });
  });

  it('still serves every entry after a restart, including those written since', async () => {
    app = await app.restart();
    const entries = await allEntries(app.client(), 1000);
    expect(entries.length).toBe(onDisk + 1);
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: onDisk + 1 }, (_, i) => i + 1));
  });
});
