// Changing a formed pair's settings is all or nothing across both nodes (issue 19): when
// either node cannot run its links with the new settings (a heartbeat port taken there), the
// change is refused and both nodes keep the old settings; when the secondary cannot be
// reached, the primary answers the 502 its contract declares and changes nothing. Forming a
// pair is the same: a primary that cannot run its links undoes the pairing on both nodes.
import { createSocket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestAppliance } from '../helpers/appliance-process.js';
import { clientOf, pair, PRIMARY_PASSWORD, SECONDARY_PASSWORD, startNode } from './helpers/pair.js';
import { specDocument } from '../../openapi/generated/spec.js';

// This file's addresses (127.0.201.x: no other suite uses them).
const net = { a: '127.0.201.1', b: '127.0.201.2', c: '127.0.201.3', d: '127.0.201.4' };
const PORT = 46720;
let a: TestAppliance;
let b: TestAppliance;

beforeAll(async () => {
  [a, b] = await Promise.all([startNode(net.a, PRIMARY_PASSWORD), startNode(net.b, SECONDARY_PASSWORD)]);
  await pair(a, b, { heartbeatPort: PORT, heartbeatIntervalMs: 200, deadTimeMs: 5000 });
}, 60_000);

afterAll(async () => {
  await Promise.all([a?.dispose(), b?.dispose()]);
});

/** Runs `fn` while this process holds UDP `port` on `address`. */
async function withPortTaken<T>(address: string, port: number, fn: () => Promise<T>): Promise<T> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(port, address, resolve));
  try {
    return await fn();
  } finally {
    socket.close();
  }
}

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: unknown) => e,
  );

async function heartbeatPorts(): Promise<[number, number]> {
  return [(await clientOf(a).getHaPair()).heartbeatPort as number, (await clientOf(b).getHaPair()).heartbeatPort as number];
}

describe('changing the settings of a pair', () => {
  it('is refused when the secondary cannot bind the new heartbeat port: neither node changes', async () => {
    const err = await withPortTaken(net.b, PORT + 1, () => refusal(clientOf(a).updateHaPair({ heartbeatPort: PORT + 1 }, { ifMatch: '*' })));
    expect(err).toMatchObject({ status: 502, code: 'LB_HA_PEER_REFUSED' });
    expect(await heartbeatPorts()).toEqual([PORT, PORT]);
  });

  it('is refused with 409 naming the field when the primary cannot bind it, and the secondary is set back', async () => {
    const err = await withPortTaken(net.a, PORT + 2, () => refusal(clientOf(a).updateHaPair({ heartbeatPort: PORT + 2 }, { ifMatch: '*' })));
    expect(err).toMatchObject({ status: 409, code: 'LB_ADDRESS_IN_USE', field: '/heartbeatPort' });
    expect(await heartbeatPorts()).toEqual([PORT, PORT]);
    // And a change both can take still goes through.
    expect((await clientOf(a).updateHaPair({ heartbeatPort: PORT + 3 }, { ifMatch: '*' })).heartbeatPort).toBe(PORT + 3);
    expect(await heartbeatPorts()).toEqual([PORT + 3, PORT + 3]);
  });

  it('answers the 502 updateHaPair declares when the secondary cannot be reached, and changes nothing', async () => {
    const responses = (specDocument.paths['/api/v1/ha-pair'] as { patch: { responses: Record<string, unknown> } }).patch.responses;
    expect(Object.keys(responses)).toContain('502');
    await b.stop();
    const err = await refusal(clientOf(a).updateHaPair({ deadTimeMs: 6000 }, { ifMatch: '*' }));
    expect(err).toMatchObject({ status: 502, code: 'LB_PEER_UNREACHABLE' });
    expect((await clientOf(a).getHaPair()).deadTimeMs).toBe(5000);
  });
});

describe('forming a pair', () => {
  it('is undone on both nodes when the primary cannot bind its heartbeat port: 409 naming the field, both standalone', async () => {
    const [c, d] = await Promise.all([startNode(net.c, PRIMARY_PASSWORD), startNode(net.d, SECONDARY_PASSWORD)]);
    try {
      const err = await withPortTaken(net.c, PORT + 10, () => refusal(pair(c, d, { heartbeatPort: PORT + 10 })));
      expect(err).toMatchObject({ status: 409, code: 'LB_ADDRESS_IN_USE', field: '/heartbeatPort' });
      expect((await clientOf(c).getHaPair()).state).toBe('standalone');
      expect((await clientOf(c).getHaStatus()).state).toBe('standalone');
      // The secondary was told to leave (it took the primary's users, so the primary's password).
      expect((await clientOf(d).getHaPair()).state).toBe('standalone');
      // And pairing again, with a free port, works (the secondary's password is now the primary's).
      expect((await clientOf(c).createHaPair({ peerEndpoint: d.endpoint, peerPassword: PRIMARY_PASSWORD, heartbeatPort: PORT + 11 })).state).toBe('paired');
    } finally {
      await Promise.all([c.dispose(), d.dispose()]);
    }
  });
});
