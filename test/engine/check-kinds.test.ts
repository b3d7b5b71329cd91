// Issue 13: a check kind is one module registered in one place. Every type the contract
// offers (but `none`, which runs no probe) has exactly one registered kind, and the runner
// uses the registry: a kind's module decides the verdict, the runner only its timeout.
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { specDocument } from '../../openapi/generated/spec.js';
import { CHECK_KINDS } from '../../appliance/engine/health/kinds/registry.js';
import { runProbe } from '../../appliance/engine/health/probes.js';
import { BODY_MATCH_DEFAULTS, DICOM_DEFAULTS, HL7_DEFAULTS, SCRIPT_DEFAULTS, TCP_DEFAULTS, type ProbeSpec } from '../../appliance/engine/health/probe-spec.js';

let silent: Server;
let port = 0;
const open = new Set<Socket>();
beforeAll(async () => {
  // Accepts and never answers: a kind that waits for an answer times out, naming what it waited for.
  silent = createServer((socket) => {
    open.add(socket);
    socket.resume(); // reads (and drops) what a probe sends, so its close is seen
    socket.on('error', () => undefined);
    socket.once('close', () => open.delete(socket));
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  port = (silent.address() as { port: number }).port;
});
afterAll(() => {
  for (const socket of open) socket.destroy();
  return new Promise<void>((resolve) => silent.close(() => resolve()));
});

function spec(type: ProbeSpec['type']): ProbeSpec {
  return {
    type, address: '127.0.0.1', port, path: '/', host: null, expectStatus: 200, timeoutMs: 400,
    expectStatuses: [], bodyMatch: BODY_MATCH_DEFAULTS, tcp: { ...TCP_DEFAULTS, expect: 'PONG' }, dicom: DICOM_DEFAULTS, hl7: HL7_DEFAULTS,
    script: SCRIPT_DEFAULTS, names: { vip: 'vip', vipAddress: '127.0.0.1', vipPort: 80, server: 'server' },
  };
}

describe('check kinds', () => {
  it('registers one kind for every contract health check type but none', () => {
    const types = (specDocument.components.schemas.HealthCheck.properties.type.enum as string[]).filter((t) => t !== 'none');
    expect(Object.keys(CHECK_KINDS).sort()).toEqual([...types].sort());
  });

  it('runs each kind through the registry: connect passes on a silent server, the kinds that wait for an answer time out saying for what', async () => {
    const results = Object.fromEntries(await Promise.all(Object.keys(CHECK_KINDS).map(async (t) => [t, await runProbe(spec(t as ProbeSpec['type']))] as const)));
    expect(results.connect).toMatchObject({ ok: true, detail: 'connected' });
    for (const t of ['tcp', 'http', 'dicom', 'hl7']) expect(results[t], t).toMatchObject({ ok: false, detail: expect.stringMatching(/^timeout after 400 ms/) });
    expect(results.dicom?.detail).toMatch(/waiting for/);
    // A script check without a program fails without running anything (the rules refuse it at write).
    expect(results.script).toMatchObject({ ok: false, detail: 'no script.path set' });
    // Every kind closes its connection when it is done, passed or timed out.
    const deadline = Date.now() + 5000;
    while (open.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(open.size, 'connections a probe left open').toBe(0);
  });
});
