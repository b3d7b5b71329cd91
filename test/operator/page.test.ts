// The System Overview page in headless Chromium, as an on-call engineer uses it: TeraRecon's
// three VIPs with their stand-in servers, a server that dies and comes back, Drain / Halt /
// Online clicked in the page, and a read-only user who can look but not touch. The screenshot
// of the degraded picture is kept as test/artifacts/overview.png. Addresses 127.0.110.x
// belong to this file (TeraRecon's plan moved from 127.0.40.x).
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { profiles, relocateProfile, startBackends, type RunningBackends } from '../../examples/backends/index.js';
import type { ApplianceClient } from '../../openapi/sdk/index.js';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';
import { ROOT } from '../helpers/paths.js';
import { until } from '../engine/helpers/wait.js';
import { launchChromium, signedIn } from './helpers/chromium.js';
import { deployProfile, type Deployed } from './helpers/deploy.js';

const profile = relocateProfile(profiles.terarecon, '127.0.40.', '127.0.110.');
const READER = { username: 'oncall', password: 'oncall-password-0123' };
/** Row backgrounds of overview.css, as Chromium computes them. */
const BACKGROUND = { green: 'rgb(223, 243, 228)', yellow: 'rgb(255, 243, 191)', red: 'rgb(255, 224, 224)', blue: 'rgb(219, 233, 255)', grey: 'rgb(236, 236, 236)' };

/** Browser globals inside page callbacks (the test tsconfig has no DOM library). */
type BrowserGlobals = { getComputedStyle(e: unknown): { backgroundColor: string }; marker?: number };

let app: TestAppliance;
let client: ApplianceClient;
let backends: RunningBackends;
let deployed: Deployed;
let browser: Browser;
const contexts: BrowserContext[] = [];

const vipRow = (label: string) => `tr.vip-row[data-label="${label}"]`;
const rsRow = (vip: string, label: string) => `tr.rs-row[data-vip="${vip}"][data-label="${label}"]`;

async function openOverview(username: string, password: string): Promise<Page> {
  const context = await signedIn(browser, app.endpoint, username, password);
  contexts.push(context);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (msg) => msg.type() === 'error' && !/401/.test(msg.text()) && errors.push(msg.text()));
  (page as Page & { scriptErrors?: string[] }).scriptErrors = errors;
  await page.goto(`${app.endpoint}/lbadmin/?refresh=0.5`);
  await page.waitForSelector(vipRow('AVS-AQI'));
  return page;
}

async function colourOf(page: Page, selector: string): Promise<{ colour: string | null; background: string }> {
  return page.$eval(selector, (row) => ({ colour: row.getAttribute('data-colour'), background: (globalThis as unknown as BrowserGlobals).getComputedStyle(row).backgroundColor }));
}

async function waitColour(page: Page, selector: string, colour: keyof typeof BACKGROUND): Promise<void> {
  await page.waitForSelector(`${selector}[data-colour="${colour}"]`, { timeout: 15_000 });
  expect((await colourOf(page, selector)).background).toBe(BACKGROUND[colour]);
}

async function adminStateOf(vip: string, server: string): Promise<string> {
  const v = deployed.vips[vip]!;
  return (await client.getRealServer(v.id, v.servers[server]!)).adminState;
}

beforeAll(async () => {
  [app, backends] = await Promise.all([startTestAppliance({ engine: 'embedded', host: '127.0.110.1' }), startBackends(profile)]);
  client = app.client();
  deployed = await deployProfile(client, profile);
  await client.createUser({ ...READER, role: 'read-only' });
  browser = await launchChromium();
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await backends?.stop();
  await app?.dispose();
});

describe('the System Overview page', () => {
  it('shows every example VIP with its servers, in green once the checks pass', async () => {
    const page = await openOverview('loadbalancer', app.password);
    for (const label of ['AVS-Redirect', 'AVS', 'AVS-AQI']) await waitColour(page, vipRow(label), 'green');
    for (const vip of ['AVS', 'AVS-AQI']) for (const rs of ['SERVER1', 'SERVER2']) await waitColour(page, rsRow(vip, rs), 'green');
    const avs = await page.$eval(vipRow('AVS'), (row) => [...row.querySelectorAll('td')].map((td) => td.textContent?.trim()));
    expect(avs.slice(1, 8)).toEqual(['\u25BEAVS', '127.0.110.217', '443', '0', 'HTTP2 TLSv1.2+', 'HTTP cookie', 'up']);
    expect(await page.$eval(vipRow('AVS-AQI'), (row) => row.querySelector('td.persistence')?.textContent)).toBe('source IP');
    expect(await page.$eval(vipRow('AVS-Redirect'), (row) => row.getAttribute('data-state'))).toBe('redirect');
    const server = await page.$eval(rsRow('AVS', 'SERVER1'), (row) => [...row.querySelectorAll('td')].map((td) => td.textContent?.trim()));
    expect(server.slice(1, 7)).toEqual(['SERVER1', '127.0.110.6', '443', '0', '100', 'up']);
    expect(server[7]).toMatch(/^\u2713 connected \u00B7 \d+ ms \u00B7 .* ago$/);
    // This node's HA role, and who is signed in.
    expect(await page.textContent('#ha')).toContain('standalone');
    expect(await page.getAttribute('.who .role', 'data-role')).toBe('admin');
    expect(await page.locator('tr.rs-row button:enabled').count()).toBe(4 * 2); // Drain and Halt on each online server
    expect((page as Page & { scriptErrors?: string[] }).scriptErrors).toEqual([]);
  });

  it('turns a stopped server red and its VIPs yellow without a reload, and green again', async () => {
    const page = await openOverview('loadbalancer', app.password);
    await waitColour(page, rsRow('AVS', 'SERVER2'), 'green');
    await page.evaluate(() => ((globalThis as unknown as BrowserGlobals).marker = 42));
    await backends.host('SERVER2').stop();
    await waitColour(page, rsRow('AVS', 'SERVER2'), 'red');
    await waitColour(page, rsRow('AVS-AQI', 'SERVER2'), 'red');
    await waitColour(page, vipRow('AVS'), 'yellow');
    await waitColour(page, vipRow('AVS-AQI'), 'yellow');
    await waitColour(page, rsRow('AVS', 'SERVER1'), 'green');
    expect(await page.textContent(`${rsRow('AVS', 'SERVER2')} td.detail`)).toMatch(/^\u2717 ECONNREFUSED /);
    expect(await page.textContent('#summary')).toContain('2 degraded, 0 down; 2 of 4 real servers down');
    expect(await page.evaluate(() => (globalThis as unknown as BrowserGlobals).marker)).toBe(42);
    await mkdir(join(ROOT, 'test/artifacts'), { recursive: true });
    await page.screenshot({ path: join(ROOT, 'test/artifacts/overview.png'), fullPage: true });
    await backends.host('SERVER2').start();
    await waitColour(page, vipRow('AVS'), 'green');
    await waitColour(page, vipRow('AVS-AQI'), 'green');
    expect(await page.evaluate(() => (globalThis as unknown as BrowserGlobals).marker)).toBe(42);
  });

  it('drains, halts and brings back a server with its buttons, on the appliance itself', async () => {
    const page = await openOverview('loadbalancer', app.password);
    const row = rsRow('AVS', 'SERVER1');
    await waitColour(page, row, 'green');
    await page.click(`${row} button[data-action="drain"]`);
    await until('drain stored', async () => (await adminStateOf('AVS', 'SERVER1')) === 'drain');
    await waitColour(page, row, 'yellow');
    expect(await page.getAttribute(`${row} button[data-action="drain"]`, 'aria-pressed')).toBe('true');
    expect(await page.isDisabled(`${row} button[data-action="drain"]`)).toBe(true);
    await page.click(`${row} button[data-action="halt"]`);
    await until('halt stored', async () => (await adminStateOf('AVS', 'SERVER1')) === 'halt');
    await waitColour(page, row, 'blue');
    await page.click(`${row} button[data-action="online"]`);
    await until('online stored', async () => (await adminStateOf('AVS', 'SERVER1')) === 'online');
    await waitColour(page, row, 'green');
    // Each click is a write of the administrator's, in the audit log.
    const entries = (await client.listAuditEntries({ query: { limit: 3 } })).items;
    expect(entries.map((e) => [e.operation, e.user, e.changes?.[0]?.value])).toEqual([
      ['setRealServerAdminState', 'loadbalancer', 'online'],
      ['setRealServerAdminState', 'loadbalancer', 'halt'],
      ['setRealServerAdminState', 'loadbalancer', 'drain'],
    ]);
  });

  it('gives a read-only user the same picture with no button to press', async () => {
    const page = await openOverview(READER.username, READER.password);
    await waitColour(page, vipRow('AVS'), 'green');
    expect(await page.getAttribute('.who .role', 'data-role')).toBe('read-only');
    expect(await page.locator('tr.rs-row button').count()).toBe(4 * 3);
    expect(await page.locator('tr.rs-row button:enabled').count()).toBe(0);
    expect(await page.getAttribute(`${rsRow('AVS', 'SERVER1')} button[data-action="halt"]`, 'title')).toMatch(/read-only/i);
    // Even a forced click changes nothing.
    await page.click(`${rsRow('AVS', 'SERVER1')} button[data-action="halt"]`, { force: true });
    await page.waitForTimeout(300);
    expect(await adminStateOf('AVS', 'SERVER1')).toBe('online');
  });
  it('draws an HA pair: both roles, which one is active, and the heartbeat age', async () => {
    // This node is standalone; the pair's answers are stood in for at the browser, so this
    // checks the page's drawing of what the HA controller reports.
    const context = await signedIn(browser, app.endpoint, 'loadbalancer', app.password);
    contexts.push(context);
    const page = await context.newPage();
    await page.route('**/api/v1/overview', async (route) => {
      const res = await route.fetch();
      const o = (await res.json()) as { node: Record<string, unknown> };
      o.node = { ...o.node, haRole: 'secondary', haState: 'active', peerHeartbeatAgeMs: 2500 };
      await route.fulfill({ response: res, json: o });
    });
    await page.route('**/api/v1/ha-pair/status', (route) =>
      route.fulfill({ json: { role: 'secondary', state: 'active', peer: { endpoint: 'https://127.0.110.2:9443', state: 'unknown', heartbeatAgeMs: 2500, apiReachable: false, revision: 8 }, revision: 8, peerBehind: false, lastTransition: null } }),
    );
    await page.goto(`${app.endpoint}/lbadmin/?refresh=0.5`);
    await page.waitForSelector('#ha .peer[data-role="primary"]');
    expect(await page.$$eval('#ha .peer', (boxes) => boxes.map((b) => [b.getAttribute('data-role'), b.getAttribute('data-state')]))).toEqual([
      ['primary', 'lost'],
      ['secondary', 'active'],
    ]);
    expect(await page.textContent('#ha .link')).toBe('heartbeat 2.5 s ago');
    expect(await page.textContent('#ha .peer[data-role="secondary"] .role')).toBe('secondary (this node)');
    // The page keeps polling: stop the stand-ins before later tests change users under it.
    await page.unrouteAll({ behavior: 'ignoreErrors' });
    await page.close();
  });

  it('shows every port of a VIP that listens on many, and works when opened with credentials in its address', async () => {
    const many = await client.createVirtualService({ label: 'MANY-PORTS', ipAddress: '127.0.110.230', ports: [2575, 2576, 2577, 2578, 2579, 104, 11112], protocol: 'tcp' });
    try {
      // https://user:password@host/lbadmin/: browsers refuse fetch() from such a page; it reloads itself without them.
      const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 } });
      contexts.push(context);
      const page = await context.newPage();
      const url = new URL(`${app.endpoint}/lbadmin/?refresh=0.5`);
      url.username = 'loadbalancer';
      url.password = app.password;
      await page.goto(url.href);
      await page.waitForSelector(vipRow('MANY-PORTS'));
      expect(await page.evaluate(() => (globalThis as unknown as { location: { href: string } }).location.href)).not.toContain(app.password);
      const cell = await page.$eval(`${vipRow('MANY-PORTS')} td.ports`, (td) => ({ text: td.textContent, title: td.getAttribute('title'), fits: td.scrollWidth <= td.clientWidth }));
      expect(cell).toEqual({ text: '2575, 2576, 2577, 2578, 2579, 104, 11112', title: '2575, 2576, 2577, 2578, 2579, 104, 11112', fits: true });
      await page.close();
    } finally {
      await client.deleteVirtualService(many.id);
    }
  });

  it('shows the weight a feedback agent scaled, and the agent\'s last reply on hover', async () => {
    // A real server with a feedback agent answering 25%: the page shows "25 of 100".
    const service = createServer((socket) => socket.end());
    const agent = createServer((socket) => socket.end('25%\n'));
    await Promise.all([
      new Promise<void>((resolve) => service.listen(9000, '127.0.110.210', resolve)),
      new Promise<void>((resolve) => agent.listen(9100, '127.0.110.210', resolve)),
    ]);
    const vs = await client.createVirtualService({ label: 'AGENT', ipAddress: '127.0.110.209', ports: [9001], protocol: 'tcp', healthCheck: { type: 'connect', interval: 1, agent: { port: 9100, interval: 1 } } });
    try {
      await client.createRealServer(vs.id, { label: 'agent-rs', address: '127.0.110.210', port: 9000, weight: 100 });
      const page = await openOverview('loadbalancer', app.password);
      const cell = `${rsRow('AGENT', 'agent-rs')} td.weight`;
      await page.waitForFunction((selector) => (globalThis as unknown as { document: { querySelector(s: string): { textContent: string } | null } }).document.querySelector(selector)?.textContent === '25 of 100', cell, { timeout: 20_000 });
      expect(await page.getAttribute(cell, 'title')).toBe('agent: 25%');
    } finally {
      await client.deleteVirtualService(vs.id);
      service.close();
      agent.close();
    }
  });

  it('is served with the API\'s authentication and a strict content security policy', async () => {
    const dispatcher = new Agent({ connect: { rejectUnauthorized: false } });
    const auth = { authorization: `Basic ${Buffer.from(`${READER.username}:${READER.password}`).toString('base64')}` };
    try {
      const anonymous = await request(`${app.endpoint}/lbadmin/`, { dispatcher });
      expect(anonymous.statusCode).toBe(401);
      expect(anonymous.headers['www-authenticate']).toMatch(/^Basic realm="lbappliance"/);
      await anonymous.body.dump();
      for (const [path, type] of [
        ['/lbadmin/', 'text/html'],
        ['/lbadmin/overview.js', 'text/javascript'],
        ['/lbadmin/overview.css', 'text/css'],
      ] as const) {
        const res = await request(`${app.endpoint}${path}`, { dispatcher, headers: auth });
        expect([path, res.statusCode, res.headers['content-type']]).toEqual([path, 200, type]);
        expect(res.headers['content-security-policy']).toContain("script-src 'self'");
        expect(res.headers['x-frame-options']).toBe('DENY');
        expect((await res.body.text()).length).toBeGreaterThan(100);
      }
      const me = await request(`${app.endpoint}/api/v1/current-user`, { dispatcher, headers: auth });
      expect(await me.body.json()).toMatchObject({ username: READER.username, role: 'read-only' });
    } finally {
      await dispatcher.close();
    }
  });
});
