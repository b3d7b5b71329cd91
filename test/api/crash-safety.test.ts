// Crash safety: kill -9 the appliance while writes are under way, restart it on the same data
// dir, and check that every acknowledged write is there and nothing is half-written.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ApplianceClient } from '../../openapi/sdk/index.js';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';

let app: TestAppliance | undefined;
afterAll(async () => app?.dispose());

interface Acked {
  vips: Map<string, string>; // id -> label
  certs: Map<string, string>; // id -> fingerprint
  patched: Map<string, number>; // vip id -> weight... of its server
}

/** Writes until stopped; records what the appliance acknowledged. */
async function writeLoop(client: ApplianceClient, worker: number, round: number, acked: Acked, stop: { now: boolean }): Promise<void> {
  for (let i = 0; !stop.now; i++) {
    const n = round * 10_000 + worker * 1000 + i;
    try {
      if (i % 3 === 2) {
        const cert = await client.createCertificate({ label: `cert-${n}`, selfSigned: { commonName: `c${n}.example` } });
        acked.certs.set(cert.id, cert.fingerprintSha256);
      } else {
        const vs = await client.createVirtualService({ label: `vip-${n}`, ipAddress: `127.1.${worker}.${(i % 250) + 1}`, ports: [10000 + (n % 50000)], protocol: 'tcp' });
        acked.vips.set(vs.id, vs.label);
        const rs = await client.createRealServer(vs.id, { label: 'S1', address: '127.0.0.1', port: 9 });
        const weight = (n % 200) + 1;
        await client.updateRealServer(vs.id, rs.id, { weight });
        acked.patched.set(rs.id, weight);
      }
    } catch {
      return; // the process died under us: everything acknowledged so far is recorded
    }
  }
}

describe('crash safety', () => {
  it('keeps every acknowledged write across five kill -9 during concurrent writes', async () => {
    app = await startTestAppliance();
    const acked: Acked = { vips: new Map(), certs: new Map(), patched: new Map() };
    for (let round = 0; round < 5; round++) {
      const stop = { now: false };
      const clients = [app.client(), app.client()];
      const loops = clients.map((c, w) => writeLoop(c, w, round, acked, stop));
      await new Promise((r) => setTimeout(r, 400 + Math.random() * 800));
      await app.kill();
      stop.now = true;
      await Promise.all(loops);
      app = await startTestAppliance({ dataDir: app.dataDir, password: app.password });
      const client = app.client();
      const config = await client.getConfig();
      for (const [id, label] of acked.vips) expect(config.virtualServices[id]?.label, `acknowledged ${label}`).toBe(label);
      for (const [id, fp] of acked.certs) expect(config.certificates[id]?.fingerprintSha256).toBe(fp);
      for (const [id, weight] of acked.patched) expect(config.realServers[id]?.weight).toBe(weight);
      // Every certificate's key survived with it: the engine snapshot resolves every key.
      for (const id of Object.keys(config.certificates)) await expect(client.getCertificate(id)).resolves.toMatchObject({ id });
      // Nothing half-written: every revision file parses and holds its number; no temporaries remain.
      const dir = join(app.dataDir, 'config', 'revisions');
      const files = await readdir(dir);
      expect(files.filter((f) => f.startsWith('.tmp-'))).toEqual([]);
      for (const f of files) {
        const record = JSON.parse(await readFile(join(dir, f), 'utf8')) as { revision: number };
        expect(f).toBe(`rev-${String(record.revision).padStart(10, '0')}.json`);
      }
      expect(config.revision).toBeGreaterThanOrEqual(acked.vips.size + acked.certs.size);
    }
    expect(acked.vips.size + acked.certs.size).toBeGreaterThan(10);
  }, 120_000);
});
