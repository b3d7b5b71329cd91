// Writes on an HA pair as a client sees them (issue 19): under 20 concurrent writers on the
// primary, while the secondary replicates every revision, each audit entry is exactly the
// diff from revision N-1 to N; the pair's own settings are a conditional resource (an ETag
// on every read and write, If-Match on updateHaPair, 412 on a stale one); and the login
// throttle holds on both nodes under parallel guessing while the pair replicates.
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestAppliance } from '../helpers/appliance-process.js';
import { expectExactDiffs } from '../helpers/audit.js';
import { clientOf, pair, PRIMARY_PASSWORD, SECONDARY_PASSWORD, startNode, until } from './helpers/pair.js';

// This file's addresses (no other suite uses 127.0.181.x).
const net = { a: '127.0.181.1', b: '127.0.181.2', vip: '127.0.181.10', backends: (i: number) => `127.0.181.${20 + i}` };
let a: TestAppliance;
let b: TestAppliance;

beforeAll(async () => {
  [a, b] = await Promise.all([startNode(net.a, PRIMARY_PASSWORD), startNode(net.b, SECONDARY_PASSWORD)]);
  await pair(a, b, { heartbeatIntervalMs: 200, deadTimeMs: 1000 });
});

afterAll(async () => {
  await Promise.all([a?.dispose(), b?.dispose()]);
});

describe('writes on an HA pair', () => {
  it('each audit entry on the primary is exactly the diff from N-1 to N under 20 writers, while the secondary replicates', async () => {
    const client = clientOf(a);
    const vs = await client.createVirtualService({ label: 'HA-AUDIT', ipAddress: net.vip, ports: [8080], protocol: 'http' });
    const servers = await Promise.all(Array.from({ length: 20 }, (_, i) => client.createRealServer(vs.id, { label: `rs-${i}`, address: net.backends(i), port: 8080 })));
    const from = (await client.listRevisions()).current;
    const writers = servers.map((rs, i) => {
      const own = a.client({ password: PRIMARY_PASSWORD });
      return (async () => {
        for (let round = 1; round <= 3; round++) {
          const res = await own.request('updateRealServer', { path: { virtualServiceId: vs.id, realServerId: rs.id }, body: { weight: 10 * round + i } });
          expect(res.headers['x-lbappliance-peer'] ?? 'in-sync').not.toBe('behind');
        }
      })();
    });
    await Promise.all(writers);
    expect(await expectExactDiffs(client, from)).toBe(60);
    // The secondary stored every one of them (replication is synchronous) and holds the same documents.
    const current = (await client.listRevisions()).current;
    await until('the secondary at the primary\'s revision', async () => (await clientOf(b).listRevisions()).current === current, 5000);
    expect(await clientOf(b).getRevision(current)).toEqual(await client.getRevision(current));
  });

  it('reads of the pair carry an ETag, and updateHaPair honours If-Match (412 on a stale one, nothing changed on either node)', async () => {
    const read = await clientOf(a).request('getHaPair');
    expect(read.etag).toMatch(/^"[0-9a-f]{16}"$/);
    const onB = await clientOf(b).request('getHaPair');
    expect(onB.etag).toMatch(/^"[0-9a-f]{16}"$/);
    const changed = await clientOf(a).request('updateHaPair', { body: { deadTimeMs: 1400 } }, { ifMatch: read.etag });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ deadTimeMs: 1400 });
    expect(changed.etag).toMatch(/^"[0-9a-f]{16}"$/);
    expect(changed.etag).not.toBe(read.etag);
    expect((await clientOf(a).request('getHaPair')).etag).toBe(changed.etag);
    // A client holding the first ETag lost the race: 412, and neither node changes.
    const stale = await clientOf(a)
      .updateHaPair({ deadTimeMs: 3000 }, { ifMatch: read.etag })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(stale).toMatchObject({ status: 412, code: 'LB_PRECONDITION_FAILED', field: 'If-Match' });
    expect((await clientOf(a).getHaPair()).deadTimeMs).toBe(1400);
    expect((await clientOf(b).getHaPair()).deadTimeMs).toBe(1400);
    // `*` and the current ETag both match.
    expect((await clientOf(a).updateHaPair({ deadTimeMs: 1000 }, { ifMatch: '*' })).deadTimeMs).toBe(1000);
  });
  it('checks at most 10 of 60 parallel wrong guesses on either node while the primary writes and the secondary replicates', async () => {
    const client = clientOf(a);
    const vs = await client.createVirtualService({ label: 'HA-GUESS', ipAddress: net.vip, ports: [8081], protocol: 'http' });
    // The primary keeps writing (each write replicated before it is acknowledged) while the guesses arrive.
    let writing = true;
    const writer = (async () => {
      for (let w = 1; writing && w < 200; w++) await client.updateVirtualService(vs.id, { timeouts: { client: 60 + w } });
    })();
    try {
      for (const [node, from] of [[a, '127.0.181.101'], [b, '127.0.181.102']] as const) {
        const agent = new Agent({ connect: { rejectUnauthorized: false }, localAddress: from, connections: 100 });
        try {
          const statuses = await Promise.all(
            Array.from({ length: 60 }, (_, i) =>
              request(`${node.endpoint}/api/v1/config`, { dispatcher: agent, headers: { authorization: `Basic ${Buffer.from(`loadbalancer:pair-guess-${i}`).toString('base64')}` } }).then(async (r) => (await r.body.dump(), r.statusCode)),
            ),
          );
          const checked = statuses.filter((s) => s === 401).length;
          expect([node === a ? 'primary' : 'secondary', checked >= 1 && checked <= 10]).toEqual([node === a ? 'primary' : 'secondary', true]);
          expect(statuses.filter((s) => s === 429).length).toBe(60 - checked);
        } finally {
          await agent.close();
        }
      }
    } finally {
      writing = false;
      await writer;
    }
    // The writes went on through the guessing, and the secondary holds the last of them.
    const current = (await client.listRevisions()).current;
    await until('the secondary at the primary\'s revision', async () => (await clientOf(b).listRevisions()).current === current, 5000);
  });
});
