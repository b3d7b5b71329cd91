// The operational event stream (issue 18): a real server's health change, a certificate near
// its expiry and an audited write each become one event, seen in a real appliance's log
// (every event is logged as the integrations receive it). Health changes reach the events
// through the engine's onHealth hook: the embedded engine's checks in this process or beside
// worker processes, and HAProxy's checks, each announce a change once, promptly.
// Addresses 127.0.130.x and 127.0.134.1-12 belong to this file.
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApplianceClient } from '../../openapi/sdk/index.js';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';

const VIP = '127.0.130.1';
const SERVER = '127.0.130.2';
/** How long a check plus its event may take on a loaded machine (checks run every second; the event leaves with the verdict). */
const PROMPT_MS = 30_000;

interface EventLine {
  event: string;
  severity: string;
  msg: string;
}

function events(app: TestAppliance): EventLine[] {
  return app.output.flatMap((line) => {
    try {
      const parsed = JSON.parse(line) as Partial<EventLine>;
      return typeof parsed.event === 'string' ? [parsed as EventLine] : [];
    } catch {
      return [];
    }
  });
}

async function until<T>(what: string, read: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * A VIP whose one server is first unreachable, then listening: one down event with the
 * check's reason and one up event, each within PROMPT_MS of the change, and no more.
 * Returns the server the test started (the caller closes it).
 */
async function downAndBack(app: TestAppliance, client: ApplianceClient, vip: string, address: string): Promise<Server> {
  const vs = await client.createVirtualService({ label: 'PACS', ipAddress: vip, ports: [11112], protocol: 'tcp', healthCheck: { type: 'connect', interval: 1, timeout: 1, rise: 1, fall: 1 } });
  await client.createRealServer(vs.id, { label: 'pacs-1', address, port: 11112 });
  const where = `pacs-1 \\(${address.replaceAll('.', '\\.')}:11112\\) of PACS`;
  const down = await until('a down event', () => events(app).find((e) => e.event === 'real-server-health' && e.msg.includes('pacs-1')), PROMPT_MS);
  expect(down.severity).toBe('error');
  expect(down.msg).toMatch(new RegExp(`^real server ${where} is down: .*(refused|ECONNREFUSED)`, 'i'));
  const server = createServer((s) => s.destroy());
  await new Promise<void>((resolve) => server.listen(11112, address, resolve));
  const up = await until('an up event', () => events(app).find((e) => e.event === 'real-server-health' && e.msg.endsWith('is up')), PROMPT_MS);
  expect(up).toMatchObject({ severity: 'notice', msg: `real server pacs-1 (${address}:11112) of PACS is up` });
  // One event per change, not one per check.
  await new Promise((r) => setTimeout(r, 2500));
  expect(events(app).filter((e) => e.event === 'real-server-health')).toHaveLength(2);
  return server;
}

describe('operational events', () => {
  let app: TestAppliance;
  let client: ApplianceClient;
  let server: Server | null = null;
  beforeAll(async () => {
    app = await startTestAppliance({ engine: 'embedded' });
    client = app.client();
  });
  afterAll(async () => {
    server?.close();
    await app?.dispose();
  });

  it('a server going down and coming back is one event each, with the check\'s reason', async () => {
    server = await downAndBack(app, client, VIP, SERVER);
  });

  it('a certificate that expires within a week is announced once, as an error', async () => {
    await client.createCertificate({ label: 'short-lived', selfSigned: { commonName: 'pacs.example.test', days: 5 } });
    const expiry = await until('an expiry event', () => events(app).find((e) => e.event === 'certificate-expiry'));
    expect(expiry.severity).toBe('error');
    expect(expiry.msg).toMatch(/^certificate short-lived expires in [45] days/);
    await client.createCertificate({ label: 'long-lived', selfSigned: { commonName: 'viewer.example.test', days: 365 } });
    await new Promise((r) => setTimeout(r, 2500));
    expect(events(app).filter((e) => e.event === 'certificate-expiry')).toHaveLength(1);
  });
});

describe.each([
  { engine: 'embedded' as const, name: 'the embedded engine with two worker processes', host: 1, env: { LBAPPLIANCE_ENGINE_WORKERS: '2' } },
  { engine: 'haproxy' as const, name: 'the HAProxy engine', host: 11, env: {} as Record<string, string> },
])('health events of $name', ({ engine, host, env }) => {
  let app: TestAppliance;
  let server: Server | null = null;
  beforeAll(async () => {
    app = await startTestAppliance({ engine, env });
  }, 120_000);
  afterAll(async () => {
    server?.close();
    await app?.dispose();
  });

  it('a server going down and coming back is one event each, with the check\'s reason', { timeout: 120_000 }, async () => {
    server = await downAndBack(app, app.client(), `127.0.134.${host}`, `127.0.134.${host + 1}`);
  });
});
