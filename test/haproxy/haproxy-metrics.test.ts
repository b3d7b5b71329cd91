// The HAProxy engine's counters from `show stat` (haproxy-metrics.ts, runtime-api.ts parseCsv):
// a read skips the sources that did not move while their VIP snapshot is the one they were
// reported under; a renamed VIP's new series still gets the whole total at once, and a new
// HAProxy worker starting from zero never makes a counter go back.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { HaproxyMetrics } from '../../appliance/engine/haproxy/haproxy-metrics.js';
import { parseCsv } from '../../appliance/engine/haproxy/runtime-api.js';
import type { VipStat } from '../../appliance/engine/haproxy/stats-reader.js';
import type { ConfigSnapshot, VirtualServiceSnapshot } from '../../appliance/engine/types.js';

function vip(label: string): VirtualServiceSnapshot {
  return Object.freeze({ id: 'vs-1', label, realServers: [{ id: 'rs-1', label: 'pacs' }] }) as unknown as VirtualServiceSnapshot;
}

function stat(accepted: number): Map<string, VipStat> {
  return new Map([['vs-1', { listening: true, connections: 0, responses: { '1xx': 0, '2xx': accepted, '3xx': 0, '4xx': 0, '5xx': 0, other: 0 }, bytesIn: 0, bytesOut: 0, accepted, refused: 0, queued: 0, servers: new Map() }]]);
}

async function connections(registry: Registry, label: string): Promise<number | undefined> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === 'lbappliance_virtual_service_connections_total');
  return m?.values.find((v) => v.labels.virtual_service === label)?.value;
}

describe('the HAProxy engine counters', () => {
  it('follow reads, a rename and a new worker', async () => {
    const registry = new Registry();
    const metrics = new HaproxyMetrics(registry, async () => undefined);
    const a = vip('DICOM');
    const snap = (v: VirtualServiceSnapshot): ConfigSnapshot => ({ revision: 1, virtualServices: [v] });
    metrics.update(snap(a), stat(5));
    expect(await connections(registry, 'DICOM')).toBe(5);
    metrics.update(snap(a), stat(5));
    expect(await connections(registry, 'DICOM')).toBe(5);
    // Renamed, no new traffic: the new series gets the total at once.
    const b = vip('DICOM-LB');
    metrics.update(snap(b), stat(5));
    expect(await connections(registry, 'DICOM-LB')).toBe(5);
    metrics.update(snap(b), stat(8));
    expect(await connections(registry, 'DICOM-LB')).toBe(8);
    // A new HAProxy worker counts from zero again: the total keeps rising.
    metrics.update(snap(b), stat(2));
    expect(await connections(registry, 'DICOM-LB')).toBe(10);
    metrics.update(snap(b), stat(2));
    expect(await connections(registry, 'DICOM-LB')).toBe(10);
  });
});

describe('show stat', () => {
  it('is read into rows without the empty cells, every other cell under its column', () => {
    const text = '# pxname,svname,qcur,scur,status,check_status\nbe_x,BACKEND,0,3,UP,\nbe_x,rs_a,,1,DOWN,L4CON\n\n';
    expect(parseCsv(text)).toEqual([
      { pxname: 'be_x', svname: 'BACKEND', qcur: '0', scur: '3', status: 'UP' },
      { pxname: 'be_x', svname: 'rs_a', scur: '1', status: 'DOWN', check_status: 'L4CON' },
    ]);
    expect(parseCsv('no header\n')).toEqual([]);
  });
});
