// A directory user at work, as the on-call operator meets the appliance: the CLI's drain /
// halt / online and the System Overview page's buttons accept an `operator` from the
// directory (Debian's slapd, started here with its own database and test CA), refuse a
// read-only one, and say plainly when the directory is down while `loadbalancer` still works.
// Addresses 127.0.248.3 and 127.0.248.40-49 belong to this file.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApplianceClient } from '../../openapi/sdk/index.js';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';
import { LBAPPLIANCE_BIN } from '../helpers/paths.js';
import { directorySettings, startTestDirectory, userPassword, type TestDirectory } from '../helpers/slapd.js';
import { until } from '../engine/helpers/wait.js';
import { launchChromium, signedIn } from './helpers/chromium.js';

let app: TestAppliance;
let dir: TestDirectory;
let client: ApplianceClient;
let browser: Browser;
const contexts: BrowserContext[] = [];
let ids: { vs: string; rs: string };

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The CLI as a directory user (a clean environment: no LBAPPLIANCE_* from the caller). */
function cliAs(username: string, args: string[], password = userPassword(username)): Promise<Run> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LBAPPLIANCE_') && k !== 'NO_COLOR'));
  const env = { ...base, LBAPPLIANCE_PASSWORD: password, LBAPPLIANCE_USERNAME: username } as NodeJS.ProcessEnv;
  return new Promise((resolve) => {
    execFile(process.execPath, [LBAPPLIANCE_BIN, ...args, '--endpoint', app.endpoint, '--ca-file', join(app.dataDir, 'tls/api.crt')], { env }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const adminState = async () => (await client.getRealServer(ids.vs, ids.rs)).adminState;

beforeAll(async () => {
  [dir, app] = await Promise.all([startTestDirectory('127.0.248.3', 16360, 16389), startTestAppliance()]);
  client = app.client();
  await client.replaceDirectory(directorySettings(dir) as never);
  const vs = await client.createVirtualService({ label: 'PACS', ipAddress: '127.0.248.40', ports: [8080], protocol: 'http' } as never);
  const rs = await client.createRealServer(vs.id, { label: 'PACS1', address: '127.0.248.41', port: 8080 } as never);
  ids = { vs: vs.id, rs: rs.id };
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await app?.dispose();
  await dir?.dispose();
});

describe('a directory user with the CLI and the System Overview page', () => {
  it('lets a directory operator drain, halt and bring a server online with the CLI; a read-only one is refused', async () => {
    const drain = await cliAs('oscar', ['drain', 'PACS', 'PACS1']);
    expect(drain.code, drain.stderr).toBe(0);
    expect(drain.stdout).toContain('online -> draining');
    expect(await adminState()).toBe('drain');
    expect((await cliAs('oscar', ['online', 'PACS', 'PACS1'])).code).toBe(0);
    const refused = await cliAs('rita', ['halt', 'PACS', 'PACS1']);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toContain('LB_FORBIDDEN');
    expect(await adminState()).toBe('online');
  });

  it('says the directory is down (exit 3) while loadbalancer still drains', async () => {
    await dir.stop();
    try {
      const down = await cliAs('oscar', ['drain', 'PACS', 'PACS1']);
      expect(down.code).toBe(3);
      expect(down.stderr).toContain('cannot check oscar against its directory');
      const local = await cliAs('loadbalancer', ['drain', 'PACS', 'PACS1'], app.password);
      expect(local.code, local.stderr).toBe(0);
      expect(await adminState()).toBe('drain');
      expect((await cliAs('loadbalancer', ['online', 'PACS', 'PACS1'], app.password)).code).toBe(0);
    } finally {
      await dir.start();
    }
  });

  it('shows a directory operator the buttons on the page, and a click drains the server', async () => {
    const context = await signedIn(browser, app.endpoint, 'oscar', userPassword('oscar'));
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(`${app.endpoint}/lbadmin/?refresh=0.5`);
    const row = 'tr.rs-row[data-vip="PACS"][data-label="PACS1"]';
    await page.waitForSelector(`${row} button[data-action="drain"]:enabled`);
    expect(await page.getAttribute('.who .role', 'data-role')).toBe('operator');
    expect(await page.textContent('.who')).toContain('oscar (directory)');
    await page.click(`${row} button[data-action="drain"]`);
    await until('drain stored', async () => (await adminState()) === 'drain');
    // The audit entry is written just before the answer leaves, a moment after the change is stored.
    await until('the audit entry of oscar\'s click', async () => {
      const [entry] = (await client.listAuditEntries({ query: { limit: 1 } })).items;
      return entry?.operation === 'setRealServerAdminState' && entry.user === 'oscar';
    });
    await client.setRealServerAdminState(ids.vs, ids.rs, { adminState: 'online' });
  });

  it('gives a directory read-only user the page without a button to press', async () => {
    const context = await signedIn(browser, app.endpoint, 'rita', userPassword('rita'));
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(`${app.endpoint}/lbadmin/?refresh=0.5`);
    await page.waitForSelector('.who .role[data-role="read-only"]');
    expect(await page.locator('tr.rs-row button:enabled').count()).toBe(0);
  });
});
