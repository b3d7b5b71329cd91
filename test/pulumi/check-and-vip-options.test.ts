// The health check and VIP option settings of issue 15 through the real Pulumi plugin, as
// the engine drives it: `script` checks and feedback agents (this round) beside the `dicom`
// and `hl7` checks, the TLS policy, the connection limits and the fallback (the last round).
// Check names each bad value on its property (schema bounds and the shared rules alike), the
// appliance's own refusal (a program outside its check scripts directory) comes back on the
// property it names and changes nothing, and a VIP setting all of them is created, diffs
// clean, has a change made out of band read back and undone, and imports with inputs that
// diff clean. The appliance runs no engine; addresses 127.0.244.x belong to
// test/engine/script-agent-checks.test.ts, which this file shares without binding them.
import { status } from '@grpc/grpc-js';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApplianceClient } from '../../openapi/sdk/index.js';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';
import { rpcError, startPlugin, T, type Bag, type Plugin } from './helpers/plugin.js';

let app: TestAppliance;
let client: ApplianceClient;
let plugin: Plugin;
let scripts: string;
let certificateId: string;

beforeAll(async () => {
  scripts = await mkdtemp(join(tmpdir(), 'pu-check-scripts-'));
  await writeFile(join(scripts, 'pacs-query.sh'), '#!/bin/sh\nexit 0\n');
  await chmod(join(scripts, 'pacs-query.sh'), 0o755);
  [app, plugin] = await Promise.all([startTestAppliance({ args: ['--check-scripts-dir', scripts] }), startPlugin()]);
  client = app.client();
  await plugin.configureFor(app);
  certificateId = (await client.createCertificate({ label: 'pu-opts-cert', selfSigned: { commonName: 'pacs.hospital.test' } })).id;
});
afterAll(async () => {
  await plugin?.stop();
  await app?.dispose();
  if (scripts) await rm(scripts, { recursive: true, force: true });
});

const BASE: Bag = { label: 'pu-opts', ipAddress: '127.0.244.250', ports: [443], protocol: 'http2' };

describe('Check', () => {
  it.each([
    [{ healthCheck: { type: 'script' } }, 'healthCheck.script.path', /\[LB_INVALID_COMBINATION\]$/],
    [{ healthCheck: { type: 'script', script: { path: '../bin/true' } } }, 'healthCheck.script.path', /\.\. segment.*\[LB_UNSUPPORTED_VALUE\]$/],
    [{ healthCheck: { type: 'script', script: { path: 'a b' } } }, 'healthCheck.script.path', /\[LBP_INVALID_VALUE\]$/],
    [{ healthCheck: { agent: { port: 0 } } }, 'healthCheck.agent.port', /\[LBP_INVALID_VALUE\]$/],
    [{ healthCheck: { agent: { port: 3333, interval: 0 } } }, 'healthCheck.agent.interval', /\[LBP_INVALID_VALUE\]$/],
    [{ protocol: 'tcp', ports: [104], forwarding: 'nat', forwardedFor: false, healthCheck: { agent: { port: 3333 } } }, 'healthCheck.agent.port', /\[LB_INVALID_COMBINATION\]$/],
    [{ healthCheck: { type: 'dicom', dicom: { calledAeTitle: 'SEVENTEEN-CHARS-X' } } }, 'healthCheck.dicom.calledAeTitle', /\[LBP_INVALID_VALUE\]$/],
    [{ healthCheck: { type: 'hl7', hl7: { message: 'PID|1' } } }, 'healthCheck.hl7.message', /\[LBP_INVALID_VALUE\]$/],
    [{ tls: { minVersion: 'TLSv1.0' } }, 'tls.minVersion', /\[LBP_INVALID_VALUE\]$/],
    [{ protocol: 'tcp', ports: [104], tls: { hstsMaxAge: 600 } }, 'tls.hstsMaxAge', /\[LB_INVALID_COMBINATION\]$/],
    [{ limits: { maxConnections: 0 } }, 'limits.maxConnections', /\[LBP_INVALID_VALUE\]$/],
    [{ fallback: { mode: 'server' } }, 'fallback.address', /\[LB_INVALID_COMBINATION\]$/],
  ])('%j fails on %s', async (change, property, reason) => {
    const { failures } = await plugin.check(T.vs, { ...BASE, certificateId: 'cert-0123456789ab', ...change });
    expect(failures.map((f) => f.property)).toContain(property);
    expect(failures.find((f) => f.property === property)?.reason).toMatch(reason);
  });
});

describe('a VIP with every new setting', () => {
  let id: string;
  let state: Bag;
  let inputs: Bag;
  const all = (): Bag => ({
    ...BASE,
    certificateId,
    healthCheck: {
      type: 'script',
      interval: 10,
      script: { path: 'pacs-query.sh', args: ['--aet', 'PACS1'] },
      agent: { port: 3333, interval: 2 },
      dicom: { callingAeTitle: 'LB-CHECK', calledAeTitle: 'PACS1', tls: true },
      hl7: { message: 'MSH|^~\\&|LB|RADIOLOGY|RIS|HOSPITAL||||X|P|2.3' },
    },
    tls: { minVersion: 'TLSv1.3', hstsMaxAge: 31536000, hstsIncludeSubDomains: true },
    limits: { maxConnections: 200, whenFull: 'refuse' },
    fallback: { mode: 'page' },
  });

  it('refuses a program outside the check scripts directory on its property, changing nothing', async () => {
    const before = await client.getConfig();
    const { inputs: checked, failures } = await plugin.check(T.vs, { ...all(), healthCheck: { type: 'script', script: { path: '/bin/true' } } });
    expect(failures).toEqual([]);
    const err = await rpcError(plugin.create(T.vs, checked));
    // A 422 is a bad argument, as for the appliance's other value refusals.
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.details).toMatch(/healthCheck\.script\.path.*outside the check scripts directory.*\[LB_UNSUPPORTED_VALUE\]$/);
    expect(await client.getConfig()).toEqual(before);
  });

  it('creates it with every setting, and diffs clean', async () => {
    const created = await plugin.checkAndCreate(T.vs, all());
    ({ id, inputs } = created);
    state = created.properties;
    const want = { healthCheck: all().healthCheck, tls: { minVersion: 'TLSv1.3', hstsMaxAge: 31536000, hstsIncludeSubDomains: true }, limits: { maxConnections: 200, whenFull: 'refuse' }, fallback: { mode: 'page' } };
    expect(state).toMatchObject(want);
    expect(await client.getVirtualService(id)).toMatchObject(want);
    expect((await plugin.diff(T.vs, id, state, inputs, { oldInputs: inputs })).changes).toBe('none');
  });

  it('reads a change made out of band, and the next update undoes it', async () => {
    const vs = await client.getVirtualService(id);
    await client.updateVirtualService(id, {
      healthCheck: { ...vs.healthCheck, agent: { port: 4444, interval: 2 }, script: { path: 'pacs-query.sh', args: [] }, hl7: { message: null } },
      tls: { ...vs.tls, minVersion: 'TLSv1.2' },
      limits: { ...vs.limits, maxConnections: 10 },
      fallback: { mode: 'none' },
    });
    const read = await plugin.read(T.vs, id, state, inputs);
    // A null (the hl7 message) reads back as absent.
    expect(read.properties).toMatchObject({ healthCheck: { agent: { port: 4444 }, script: { args: [] } }, tls: { minVersion: 'TLSv1.2' }, limits: { maxConnections: 10 }, fallback: { mode: 'none' } });
    const diff = await plugin.diff(T.vs, id, read.properties, inputs);
    expect(diff.changes).toBe('some');
    expect(diff.replaces).toEqual([]);
    expect(Object.keys(diff.detailed ?? {}).sort()).toEqual(
      expect.arrayContaining(['fallback.mode', 'healthCheck.agent.port', 'healthCheck.hl7.message', 'limits.maxConnections', 'tls.minVersion']),
    );
    expect(Object.keys(diff.detailed ?? {}).some((k) => k.startsWith('healthCheck.script.args'))).toBe(true);
    state = (await plugin.update(T.vs, id, read.properties, inputs)).properties;
    expect(await client.getVirtualService(id)).toMatchObject({ healthCheck: all().healthCheck, tls: { minVersion: 'TLSv1.3' }, limits: { maxConnections: 200 }, fallback: { mode: 'page' } });
  });

  it('imports by id with no prior state, returning inputs that diff clean', async () => {
    const imported = await plugin.read(T.vs, id);
    expect(imported.inputs).toMatchObject({ healthCheck: { type: 'script', script: { path: 'pacs-query.sh', args: ['--aet', 'PACS1'] }, agent: { port: 3333, interval: 2 } }, tls: { minVersion: 'TLSv1.3' }, limits: { maxConnections: 200 }, fallback: { mode: 'page' } });
    const { inputs: checked } = await plugin.check(T.vs, imported.inputs!);
    expect((await plugin.diff(T.vs, id, imported.properties, checked)).changes).toBe('none');
    await plugin.delete(T.vs, id, state);
  });
});
