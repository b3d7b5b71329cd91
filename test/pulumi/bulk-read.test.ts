// Issue 17, Pulumi's side: `pulumi refresh` (and `pulumi up --refresh`) reads every resource
// with its own Read, in parallel. Through the real plugin process, as the engine drives it: a
// refresh of 10 VIPs and 30 real servers reads the configuration from the appliance once,
// not each object; a change made outside Pulumi (a weight, a deleted server) shows in the
// next refresh once the plugin's copy is older than its maximum age; and a write through the
// plugin is read back at once. The requests are counted from the appliance's own metrics.
// Addresses 127.0.231.x belong to this file (nothing binds them: the appliance runs no engine).
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { ApplianceClient } from '../../openapi/sdk/index.js';
import { MAX_AGE_MS } from '../../provider/resources/read-cache.js';
import type { TestAppliance } from '../helpers/appliance-process.js';
import { pluginOnAppliance, T, type Bag, type Plugin } from './helpers/plugin.js';

let app: TestAppliance;
let client: ApplianceClient;
let plugin: Plugin;

interface Held {
  type: string;
  id: string;
  state: Bag;
  inputs: Bag;
}
const held: Held[] = [];

pluginOnAppliance((started) => ({ app, client, plugin } = started));

/** Successful API requests answered so far, by operation (from the appliance's metrics). */
async function requests(): Promise<Map<string, number>> {
  const text = String(await client.getMetrics());
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^lbappliance_api_requests_total\{operation="(\w+)",status="2\d\d"\} (\d+)$/gm)) out.set(m[1] as string, (out.get(m[1] as string) ?? 0) + Number(m[2]));
  return out;
}

function delta(before: Map<string, number>, after: Map<string, number>, op: string): number {
  return (after.get(op) ?? 0) - (before.get(op) ?? 0);
}

/** Every held resource read as a refresh does: all at once. */
function refresh(): Promise<{ id: string; properties: Bag; inputs: Bag | null }[]> {
  return Promise.all(held.map((h) => plugin.read(h.type, h.id, h.state, h.inputs)));
}

describe('a Pulumi refresh', () => {
  it('of 40 resources reads the configuration once, not each object', async () => {
    for (let v = 0; v < 10; v++) {
      const vs = await plugin.checkAndCreate(T.vs, { label: `PBULK-${v}`, ipAddress: `127.0.231.${1 + v}`, ports: [8080], protocol: 'http' });
      held.push({ type: T.vs, id: vs.id, state: vs.properties, inputs: vs.inputs });
      for (let s = 0; s < 3; s++) {
        const rs = await plugin.checkAndCreate(T.rs, { virtualServiceId: vs.id, label: `S-${v}-${s}`, address: `127.0.231.${100 + s}`, port: 9000, drainTimeout: 0 });
        held.push({ type: T.rs, id: rs.id, state: rs.properties, inputs: rs.inputs });
      }
    }
    // Past the maximum age of whatever the creates left, so the refresh starts from nothing held.
    await sleep(MAX_AGE_MS + 50);
    const before = await requests();
    const read = await refresh();
    const after = await requests();
    expect(read.map((r) => r.id)).toEqual(held.map((h) => h.id));
    read.forEach((r, i) => expect(r.properties).toMatchObject(held[i]!.state));
    expect(delta(before, after, 'getVirtualService')).toBe(0);
    expect(delta(before, after, 'getRealServer')).toBe(0);
    // One whole read, or a revision check and at most one whole read.
    expect(delta(before, after, 'getConfig')).toBe(1);
    expect(delta(before, after, 'listRevisions')).toBeLessThanOrEqual(1);
  });

  it('shows changes made outside Pulumi once its copy is older than the maximum age', async () => {
    const server = held.find((h) => h.type === T.rs && h.state.label === 'S-0-0')!;
    const gone = held.find((h) => h.type === T.rs && h.state.label === 'S-1-2')!;
    // A real server's Pulumi id is "<virtual service id>/<real server id>".
    const apiId = (h: Held) => h.id.split('/')[1] as string;
    await client.updateRealServer(server.state.virtualServiceId as string, apiId(server), { weight: 7 });
    await client.deleteRealServer(gone.state.virtualServiceId as string, apiId(gone));
    await sleep(MAX_AGE_MS + 50);
    const before = await requests();
    const read = await refresh();
    const after = await requests();
    expect(read[held.indexOf(server)]?.properties).toMatchObject({ weight: 7 });
    // Gone: an empty id tells the engine to drop it from the stack.
    expect(read[held.indexOf(gone)]?.id).toBe('');
    expect(delta(before, after, 'getRealServer')).toBe(0);
    expect(delta(before, after, 'getConfig')).toBe(1);
    held.splice(held.indexOf(gone), 1);
  });

  it('reads back a write made through the plugin at once', async () => {
    const server = held.find((h) => h.type === T.rs && h.state.label === 'S-2-1')!;
    await refresh();
    const updated = await plugin.update(T.rs, server.id, server.state, { ...server.inputs, weight: 42 }, { oldInputs: server.inputs });
    expect(updated.properties).toMatchObject({ weight: 42 });
    // Within the maximum age of the copy the refresh above read: the write dropped it.
    const read = await plugin.read(T.rs, server.id, updated.properties, { ...server.inputs, weight: 42 });
    expect(read.properties).toMatchObject({ weight: 42 });
  });
});
