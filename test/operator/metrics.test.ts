// What an on-call dashboard reads: Prometheus metrics scraped from a real appliance after
// known traffic (requests, response codes, bytes, connections per VIP and per real server,
// health transitions and check latency, admin and VIP states, config and HA gauges), and
// the Grafana dashboard and alert rules of examples/monitoring/, whose every expression must
// parse as PromQL and name only metrics a real scrape serves. Addresses 127.0.112.x belong
// to this file.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { ApplianceClient } from '../../openapi/sdk/index.js';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';
import { ROOT } from '../helpers/paths.js';
import { backendFleet, type HttpBackend } from '../engine/helpers/backends.js';
import { get } from '../engine/helpers/traffic.js';
import { until } from '../engine/helpers/wait.js';
import { FAST_CHECK } from './helpers/deploy.js';

const VIP = '127.0.112.217';
const PORT = 8080;
let app: TestAppliance;
let client: ApplianceClient;
const fleet = backendFleet('127.0.112');
let a: HttpBackend;
let b: HttpBackend;
let ids: { vs: string; a: string; b: string };

/** One sample of the Prometheus text format (undefined when absent). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const brace = line.indexOf('{');
    const metric = brace < 0 ? line.slice(0, line.indexOf(' ')) : line.slice(0, brace);
    if (metric !== name) continue;
    const have = brace < 0 ? [] : line.slice(brace + 1, line.indexOf('}')).split(',');
    if (want.every((w) => have.includes(w))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

/** Every metric name a scrape serves (histograms with their _bucket, _sum and _count series). */
function metricNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = m as unknown as [string, string, string];
    names.add(name);
    if (type === 'histogram' || type === 'summary') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
  }
  return names;
}

const scrape = async () => String(await client.getMetrics());
const vs = { virtual_service: 'metered' };

beforeAll(async () => {
  [app, a, b] = await Promise.all([startTestAppliance({ engine: 'embedded', host: '127.0.112.1' }), fleet.start('m-a', 10), fleet.start('m-b', 11)]);
  client = app.client();
  const v = await client.createVirtualService({ label: 'metered', ipAddress: VIP, ports: [PORT], protocol: 'http', healthCheck: { type: 'http', path: '/', ...FAST_CHECK } });
  const ra = await client.createRealServer(v.id, { label: 'a', address: a.host, port: a.port });
  const rb = await client.createRealServer(v.id, { label: 'b', address: b.host, port: b.port });
  ids = { vs: v.id, a: ra.id, b: rb.id };
  await client.createCertificate({ label: 'expiring', selfSigned: { commonName: 'expiring.test', days: 10 } });
  await until('both servers checked up', async () => (await client.getOverview()).virtualServices[0]?.state === 'up');
});

afterAll(async () => {
  await app?.dispose();
  await fleet.closeAll();
});

describe('metrics after known traffic', () => {
  it('count requests, response codes, bytes and connections per VIP and per real server', async () => {
    for (let i = 0; i < 10; i++) expect((await get(`http://${VIP}:${PORT}/`)).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await get(`http://${VIP}:${PORT}/status?code=503`)).status).toBe(503);
    expect((await get(`http://${VIP}:${PORT}/status?code=404`)).status).toBe(404);
    const body = Buffer.alloc(50_000, 7);
    expect((await get(`http://${VIP}:${PORT}/echo`, { method: 'POST', body })).body.length).toBe(body.length);
    const t = await scrape();
    expect(sample(t, 'lbappliance_virtual_service_requests_total', { ...vs, code: '2xx' })).toBe(11);
    expect(sample(t, 'lbappliance_virtual_service_requests_total', { ...vs, code: '5xx' })).toBe(2);
    expect(sample(t, 'lbappliance_virtual_service_requests_total', { ...vs, code: '4xx' })).toBe(1);
    expect(sample(t, 'lbappliance_virtual_service_connections_total', vs)).toBe(14);
    // Round robin over two equal servers: both take requests, together all 14 (each worker
    // process of the engine keeps its own turn, so the split is 7 and 7 only in one process);
    // and each server's answers by class.
    const perServer = ['a', 'b'].map((rs) => sample(t, 'lbappliance_real_server_requests_total', { ...vs, real_server: rs }) ?? 0);
    expect(perServer.every((n) => n >= 1), `per server: ${perServer.join(', ')}`).toBe(true);
    expect(perServer[0]! + perServer[1]!).toBe(14);
    const byServer = (code: string) => ['a', 'b'].reduce((n, rs) => n + (sample(t, 'lbappliance_real_server_responses_total', { ...vs, real_server: rs, code }) ?? 0), 0);
    expect([byServer('2xx'), byServer('4xx'), byServer('5xx')]).toEqual([11, 1, 2]);
    expect(sample(t, 'lbappliance_virtual_service_bytes_total', { ...vs, direction: 'in' })).toBeGreaterThan(body.length);
    expect(sample(t, 'lbappliance_virtual_service_bytes_total', { ...vs, direction: 'out' })).toBeGreaterThan(body.length);
    const toServers = ['a', 'b'].reduce((n, rs) => n + (sample(t, 'lbappliance_real_server_bytes_total', { ...vs, real_server: rs, direction: 'out' }) ?? 0), 0);
    expect(toServers).toBeGreaterThan(body.length);
    for (const rs of ['a', 'b']) expect(sample(t, 'lbappliance_real_server_connections_total', { ...vs, real_server: rs })).toBeGreaterThanOrEqual(1);
  });

  it('show open connections while a request is held', async () => {
    const held = get(`http://${VIP}:${PORT}/hold`);
    held.catch(() => undefined); // a failed wait below must not leave its rejection unhandled; `await held` still sees it
    await until('a request held at a backend', () => a.inFlight + b.inFlight === 1);
    // The engine's worker processes report their counts a few times a second: the gauges follow within
    // one report. A report made between the client's accept and the connection to the server counts the
    // client only, so wait for one that has both sides of the held request.
    const openOn = (t: string) => ['a', 'b'].map((rs) => sample(t, 'lbappliance_real_server_connections', { ...vs, real_server: rs }) ?? 0);
    let t = await scrape();
    await until('the held connection counted on both sides', async () => {
      t = await scrape();
      return sample(t, 'lbappliance_virtual_service_connections', vs) === 1 && openOn(t).reduce((x, y) => x + y, 0) === 1;
    });
    expect(sample(t, 'lbappliance_virtual_service_connections', vs)).toBe(1);
    expect(openOn(t).sort()).toEqual([0, 1]);
    a.releaseHolds();
    b.releaseHolds();
    expect((await held).status).toBe(200);
    await until('connection closed', async () => sample(await scrape(), 'lbappliance_virtual_service_connections', vs) === 0);
  });

  it('follow health, check latency, admin state and the VIP state an alert needs', async () => {
    let t = await scrape();
    for (const rs of ['a', 'b']) {
      expect(sample(t, 'lbappliance_health_transitions_total', { ...vs, real_server: rs, to: 'up' })).toBe(1);
      expect(sample(t, 'lbappliance_real_server_up', { ...vs, real_server: rs })).toBe(1);
      expect(sample(t, 'lbappliance_health_check_duration_seconds_count', { ...vs, real_server: rs })).toBeGreaterThanOrEqual(1);
      expect(sample(t, 'lbappliance_real_server_weight', { ...vs, real_server: rs })).toBe(100);
    }
    expect(sample(t, 'lbappliance_virtual_service_state', { ...vs, state: 'up' })).toBe(1);
    expect(sample(t, 'lbappliance_virtual_service_state', { ...vs, state: 'degraded' })).toBe(0);
    expect(sample(t, 'lbappliance_virtual_service_info', { ...vs, forwarding: 'proxy', protocol: 'http' })).toBe(1);

    await client.updateRealServer(ids.vs, ids.a, { adminState: 'drain' });
    t = await scrape();
    expect(['online', 'drain', 'halt'].map((state) => sample(t, 'lbappliance_real_server_admin_state', { ...vs, real_server: 'a', state }))).toEqual([0, 1, 0]);
    await client.updateRealServer(ids.vs, ids.a, { adminState: 'online' });

    await b.kill();
    await until('b counted down', async () => sample(await scrape(), 'lbappliance_health_transitions_total', { ...vs, real_server: 'b', to: 'down' }) === 1);
    t = await scrape();
    expect(sample(t, 'lbappliance_real_server_up', { ...vs, real_server: 'b' })).toBe(0);
    expect(sample(t, 'lbappliance_virtual_service_state', { ...vs, state: 'degraded' })).toBe(1);
    expect(sample(t, 'lbappliance_virtual_service_state', { ...vs, state: 'up' })).toBe(0);
    await b.revive();
    await until('b back up', async () => sample(await scrape(), 'lbappliance_health_transitions_total', { ...vs, real_server: 'b', to: 'up' }) === 2);
  });

  it('carry the config revision, apply duration, certificate expiry and HA role', async () => {
    const [t, o, config] = [await scrape(), await client.getOverview(), await client.getConfig()];
    expect(sample(t, 'lbappliance_config_revision')).toBe(o.revision);
    expect(sample(t, 'lbappliance_config_apply_duration_seconds')).toBeGreaterThan(0);
    expect(sample(t, 'lbappliance_config_apply_duration_seconds')).toBeLessThan(5);
    const changed = sample(t, 'lbappliance_config_last_change_timestamp_seconds') ?? 0;
    expect(Math.abs(changed - Date.now() / 1000)).toBeLessThan(120);
    const cert = Object.values(config.certificates).find((c) => c.label === 'expiring');
    expect(sample(t, 'lbappliance_certificate_expiry_timestamp_seconds', { certificate: 'expiring' })).toBe(Date.parse(cert?.notAfter ?? '') / 1000);
    expect(sample(t, 'lbappliance_ha_role', { role: 'standalone' })).toBe(1);
    expect(sample(t, 'lbappliance_ha_active')).toBe(1);
    expect(t).toMatch(/^# TYPE lbappliance_ha_peer_heartbeat_age_seconds gauge$/m); // no sample while standalone
  });
});

describe('examples/monitoring', () => {
  /** A Grafana expression as plain PromQL: its template variables replaced. */
  const promql = (expr: string) => expr.replace(/\$__rate_interval|\$__range|\$__interval/g, '5m').replace(/\$\{?(\w+)\}?/g, '.*');

  function check(where: string, expr: string, names: Set<string>): void {
    const text = promql(expr);
    const tree = parser.parse(text);
    const used: string[] = [];
    let error = false;
    tree.iterate({
      enter: (node) => {
        if (node.type.isError) error = true;
        if (node.name === 'Identifier') used.push(text.slice(node.from, node.to));
      },
    });
    expect(error, `${where}: not PromQL: ${expr}`).toBe(false);
    expect(used.length, `${where}: names no metric`).toBeGreaterThan(0);
    for (const name of used) expect(names.has(name), `${where}: ${name} is not served by /metrics`).toBe(true);
  }

  it('has a Grafana dashboard whose every panel queries metrics that exist', async () => {
    const names = metricNames(await scrape());
    const dashboard = JSON.parse(await readFile(join(ROOT, 'examples/monitoring/grafana-dashboard.json'), 'utf8')) as {
      uid: string;
      panels: { id: number; type: string; title: string; targets?: { expr: string }[] }[];
      templating: { list: { name: string; definition?: string }[] };
    };
    const queries = dashboard.panels.filter((p) => p.type !== 'row');
    expect(queries.length).toBeGreaterThanOrEqual(20);
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
    for (const p of queries) {
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      for (const target of p.targets ?? []) check(`panel "${p.title}"`, target.expr, names);
    }
    for (const v of dashboard.templating.list) if (v.definition) check(`variable ${v.name}`, v.definition.replace(/^label_values\((\w+),.*$/, '$1'), names);
    // The families the issue names are all on the dashboard.
    const all = queries.flatMap((p) => p.targets ?? []).map((t) => t.expr).join('\n');
    for (const family of [
      'lbappliance_virtual_service_requests_total',
      'lbappliance_virtual_service_bytes_total',
      'lbappliance_virtual_service_connections',
      'lbappliance_virtual_service_connections_total',
      'lbappliance_real_server_requests_total',
      'lbappliance_real_server_responses_total',
      'lbappliance_real_server_bytes_total',
      'lbappliance_real_server_connections',
      'lbappliance_health_transitions_total',
      'lbappliance_health_check_duration_seconds_bucket',
      'lbappliance_config_revision',
      'lbappliance_config_apply_duration_seconds',
      'lbappliance_ha_role',
      'lbappliance_ha_peer_heartbeat_age_seconds',
    ]) {
      expect(all, family).toMatch(new RegExp(`\\b${family}\\b`));
    }
  });

  it('has alert rules whose every expression parses and queries metrics that exist', async () => {
    const names = metricNames(await scrape());
    const doc = parseYaml(await readFile(join(ROOT, 'examples/monitoring/lbappliance-alerts.yml'), 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] };
    const rules = doc.groups.flatMap((g) => g.rules);
    expect(rules.length).toBeGreaterThanOrEqual(8);
    for (const rule of rules) check(`alert ${rule.alert}`, rule.expr, names);
  });
});
