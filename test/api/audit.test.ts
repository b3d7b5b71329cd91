// The audit log under concurrent writers (issue 19 item 6): each entry holds exactly the diff
// from revision N-1 to revision N (its 'before' was once taken before the write waited its
// turn, so 2,614 of a fuzzer's real-server writes listed other writers' changes).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApplianceClient } from '../../openapi/sdk/index.js';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';
import { allEntries, expectExactDiffs } from '../helpers/audit.js';

describe('audit entries under concurrent writers', () => {
  let app: TestAppliance;
  let client: ApplianceClient;
  beforeAll(async () => {
    app = await startTestAppliance();
    client = app.client();
  });
  afterAll(async () => app?.dispose());

  it('an entry\'s JSON Patch applied to revision N-1 gives revision N, for every N, under 20 writers', async () => {
    const vs = await client.createVirtualService({ label: 'AUDIT', ipAddress: '127.0.180.10', ports: [80], protocol: 'http' });
    const servers = await Promise.all(Array.from({ length: 20 }, (_, i) => client.createRealServer(vs.id, { label: `rs-${i}`, address: `127.0.180.${20 + i}`, port: 80 })));
    const from = (await client.listRevisions()).current;
    // 20 writers, each with its own connection, each changing only its own server 3 times.
    const writers = servers.map((rs, i) => {
      const own = app.client();
      return (async () => {
        for (let round = 1; round <= 3; round++) {
          await own.updateRealServer(vs.id, rs.id, { weight: 10 * round + i, adminState: round === 2 ? 'drain' : 'online' });
        }
      })();
    });
    await Promise.all(writers);
    const checked = await expectExactDiffs(client, from);
    expect(checked).toBe(60);
    // And each entry names only the server its request wrote.
    const entries = (await allEntries(client)).filter((e) => e.operation === 'updateRealServer');
    for (const e of entries) {
      const rsId = e.path.split('/').pop() as string;
      for (const change of e.changes ?? []) expect(change.path.startsWith(`/realServers/${rsId}/`)).toBe(true);
    }
  });
});
