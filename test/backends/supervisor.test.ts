// startBackends on whole plans, moved off their real addresses so this file can run beside
// any other suite: AGFA on 127.0.95.x (all 44 services, each spoken to in its own protocol)
// and Insignia on 127.0.96.x. Per-service and per-host stop/start, health pages, shutdown.
import { existsSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertStudyReceived, buildTestMessage, dicomEcho, dicomStore, generateStudy, insignia, agfa, relocateProfile, sendHl7, startBackends, tcpBanner, type RunningBackends } from '../../examples/backends/index.js';
import { probe, tempDir } from './helpers.js';

const AGFA = relocateProfile(agfa, '127.0.50.', '127.0.95.');
const INSIGNIA = relocateProfile(insignia, '127.0.60.', '127.0.96.');
let backends: RunningBackends;
let tls: Agent;

function readBanner(address: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: address, port });
    s.once('data', (d: Buffer) => {
      s.destroy();
      resolve(d.toString());
    });
    s.once('error', reject);
  });
}

async function status(url: string): Promise<number> {
  const r = await request(url, { dispatcher: url.startsWith('https') ? tls : undefined });
  await r.body.dump();
  return r.statusCode;
}

beforeAll(async () => {
  backends = await startBackends(AGFA);
  // Trust exactly the backends' own certificates.
  tls = new Agent({ connect: { ca: backends.caPem } });
});
afterAll(async () => {
  await backends?.stop();
  await tls?.close();
});

describe('AGFA plan (on 127.0.95.x)', () => {
  it('runs all 44 services, and each answers in its own protocol naming its server', async () => {
    expect(backends.services).toHaveLength(44);
    for (const { plan, service } of backends.services) {
      const { address } = plan.host;
      const where = `${plan.host.id}:${plan.port}`;
      switch (plan.kind) {
        case 'dicom':
          await dicomEcho({ address, port: plan.port });
          break;
        case 'hl7': {
          const [ack] = await sendHl7({ address, port: plan.port }, [buildTestMessage({ controlId: where })]);
          expect(ack!.sendingApplication).toBe(plan.host.name);
          break;
        }
        case 'tcp':
          expect(await readBanner(address, plan.port)).toBe(tcpBanner(service.identity));
          break;
        case 'http':
        case 'https':
        case 'health': {
          const r = await request(`${plan.kind === 'https' ? 'https' : 'http'}://${address}:${plan.port}/`, { dispatcher: plan.kind === 'https' ? tls : undefined });
          expect(r.headers['x-backend-server'], where).toBe(plan.host.name);
          await r.body.dump();
          break;
        }
      }
    }
    expect(backends.table()).toMatch(/CORE1\s+agfa-core1\s+127\.0\.95\.11:104\s+dicom\s+up\s+VIP 2\n/);
  });

  it('reports a DICOM service on the health page: 200 while it runs, 503 once stopped, 200 again', async () => {
    const core1 = '127.0.95.11';
    expect(await status(`http://${core1}:8099/health/104`)).toBe(200);
    await backends.dicom(core1, 104).stop();
    expect(await probe(core1, 104)).toBe('refused');
    expect(await status(`http://${core1}:8099/health/104`)).toBe(503);
    expect(await status(`http://127.0.95.12:8099/health/104`)).toBe(200); // the other core server is untouched
    await backends.dicom(core1, 104).start();
    await dicomEcho({ address: core1, port: 104 });
    expect(await status(`http://${core1}:8099/health/104`)).toBe(200);
  });

  it('answers VIP 21\'s HTTPS check for the port-80 service on the web servers\' 443', async () => {
    expect(await status('https://127.0.95.21:443/health/80')).toBe(200);
    await backends.viewer('127.0.95.21', 80).stop();
    expect(await status('https://127.0.95.21:443/health/80')).toBe(503);
    await backends.viewer('127.0.95.21', 80).start();
    expect(await status('https://127.0.95.21:443/health/80')).toBe(200);
  });

  it('stops and starts a whole server', async () => {
    const core2 = backends.host('CORE2');
    await core2.stop();
    for (const s of core2.services) expect(await probe(s.plan.host.address, s.plan.port)).toBe('refused');
    expect(await probe('127.0.95.11', 80)).toBe('open');
    await core2.start();
    for (const s of core2.services) expect(await probe(s.plan.host.address, s.plan.port)).toBe('open');
  });

  it('names services it does not have with a typed error', () => {
    expect(() => backends.service('127.0.95.11', 9)).toThrow(expect.objectContaining({ code: 'BACKEND_NO_SUCH_SERVICE' }));
    expect(() => backends.dicom('127.0.95.11', 80)).toThrow(expect.objectContaining({ code: 'BACKEND_NO_SUCH_SERVICE' }));
    expect(() => backends.host('CORE9')).toThrow(expect.objectContaining({ code: 'BACKEND_NO_SUCH_SERVICE' }));
  });
});

describe('Insignia plan (on 127.0.96.x)', () => {
  it('stores a study on the server it was sent to, acknowledges HL7, and frees everything on stop', async () => {
    const work = await tempDir('insignia');
    const running = await startBackends(INSIGNIA, { runDir: join(work.dir, 'run') });
    try {
      const study = await generateStudy({ dir: join(work.dir, 'study'), slices: 3 });
      await dicomStore({ address: '127.0.96.12', port: 104 }, study);
      await assertStudyReceived(study, running.dicom('127.0.96.12', 104).receivedDir);
      expect(await running.dicom('127.0.96.11', 104).receivedFiles()).toEqual([]);
      const [ack] = await sendHl7({ address: '127.0.96.11', port: 2575 }, [buildTestMessage({ controlId: 'INS-1' })]);
      expect(ack).toMatchObject({ controlId: 'INS-1', sendingApplication: 'insignia-server1', sendingFacility: '127.0.96.11:2575' });
      expect(running.hl7('127.0.96.11', 2575).log.map((m) => m.controlId)).toEqual(['INS-1']);
    } finally {
      await running.stop();
    }
    for (const s of running.services) expect(await probe(s.plan.host.address, s.plan.port)).toBe('refused');
    expect(existsSync(join(work.dir, 'run'))).toBe(true); // a given run dir is kept
    await work.remove();
  });

  it('starts all or nothing: one taken address and port stops the services already started', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(2575, '127.0.96.12', r));
    try {
      await expect(startBackends(INSIGNIA)).rejects.toMatchObject({ code: 'BACKEND_LISTEN_FAILED', details: { address: '127.0.96.12', port: 2575 } });
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
    }
    for (const [address, port] of [['127.0.96.11', 104], ['127.0.96.11', 2575], ['127.0.96.12', 104]] as const) expect(await probe(address, port)).toBe('refused');
  });
});
