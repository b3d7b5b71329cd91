// Issue 19: an appliance whose stored revision cannot be applied still starts, serves its
// API, says why in the overview, and takes a fix or a rollback; it never crash-loops. Each
// case damages a real data dir between two runs of the appliance, as an upgrade, a hand edit
// or a lost file would. Addresses 127.0.152.x belong to this file.
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';
import { startHttpBackend, type HttpBackend } from '../engine/helpers/backends.js';
import { get } from '../engine/helpers/traffic.js';
import { until } from '../engine/helpers/wait.js';

const NET = '127.0.152';
let app: TestAppliance | undefined;
let backend: HttpBackend | undefined;

afterAll(async () => {
  await app?.dispose();
  await backend?.close();
});

async function newestRevisionFile(dataDir: string): Promise<string> {
  const dir = join(dataDir, 'config', 'revisions');
  const files = (await readdir(dir)).filter((f) => /^rev-\d{10}\.json$/.test(f)).sort();
  return join(dir, files.at(-1) as string);
}

function running(a: TestAppliance): boolean {
  return a.process.exitCode === null && a.process.signalCode === null;
}

describe('a stored revision the appliance cannot apply', () => {
  it('a certificate key lost from the keystore: the appliance starts, reports it, and a rollback applies', async () => {
    backend = await startHttpBackend({ name: 'plain', host: `${NET}.6` });
    app = await startTestAppliance({ engine: 'embedded', host: `${NET}.1` });
    let client = app.client();
    const plain = await client.createVirtualService({ label: 'plain', ipAddress: `${NET}.20`, ports: [8080], protocol: 'http' });
    await client.createRealServer(plain.id, { label: 'b', address: backend.host, port: backend.port });
    const good = (await client.getConfig()).revision;
    const cert = await client.createCertificate({ label: 'lost-key', selfSigned: { commonName: 'lost.test' } });
    await client.createVirtualService({ label: 'tls', ipAddress: `${NET}.21`, ports: [8443], protocol: 'http2', certificateId: cert.id });
    const broken = (await client.getConfig()).revision;
    await app.stop();
    const keys = join(app.dataDir, 'config', 'keys');
    for (const f of await readdir(keys)) await rm(join(keys, f));

    app = await app.restart();
    client = app.client();
    const o = await client.getOverview();
    expect(o.revision).toBe(broken);
    expect(o.applyError).toMatchObject({ revision: broken });
    expect(o.applyError?.message).toContain(`lost-key (${cert.id})`);
    expect((await client.getConfig()).certificates[cert.id]?.label).toBe('lost-key');
    expect(app.output.join('\n')).toContain('engine could not apply the revision completely');

    // A rollback to the revision before the certificate applies, clears the report and carries traffic.
    await client.rollbackToRevision(good);
    expect((await client.getOverview()).applyError).toBeNull();
    await until('the plain VIP carries traffic', async () => (await get(`http://${NET}.20:8080/`).catch(() => null))?.status === 200);
    app = await app.restart();
    expect((await app.client().getOverview()).applyError).toBeNull();
    expect(running(app)).toBe(true);
  }, 60_000);

  it('a check path stored before the contract refused it ("/ǅ"): the appliance starts, stays up, and sends it percent-encoded', async () => {
    backend ??= await startHttpBackend({ name: 'plain', host: `${NET}.6` });
    await app?.dispose();
    app = await startTestAppliance({ engine: 'embedded', host: `${NET}.1` });
    let client = app.client();
    const vs = await client.createVirtualService({ label: 'HC', ipAddress: `${NET}.50`, ports: [8080], protocol: 'http', healthCheck: { type: 'http', path: '/placeholder', interval: 1 } });
    await app.stop();
    // The revision, as an earlier version stored it.
    const file = await newestRevisionFile(app.dataDir);
    await writeFile(file, (await readFile(file, 'utf8')).replace('"/placeholder"', JSON.stringify('/ǅ')));

    app = await app.restart();
    client = app.client();
    // The second write: a real server on it. The process died about a second later.
    await client.createRealServer(vs.id, { label: 'b', address: backend.host, port: backend.port });
    await until('the check reaches the server', () => backend?.seen.some((r) => r.url === '/%C7%85'));
    await new Promise((r) => setTimeout(r, 2500));
    expect(running(app), app.output.slice(-20).join('\n')).toBe(true);
    // It reads back as what is sent, which the contract admits: the VIP can be read, backed up and written again.
    expect((await client.getVirtualService(vs.id)).healthCheck.path).toBe('/%C7%85');
    await client.replaceConfig(await client.getConfig());
    const o = await client.getOverview();
    expect(o.applyError).toBeNull();
    expect(o.virtualServices.find((v) => v.id === vs.id)?.realServers[0]?.health).toBe('up');
    app = await app.restart();
    await new Promise((r) => setTimeout(r, 1500));
    expect(running(app)).toBe(true);
  }, 60_000);
});
