// The HAProxy engine's plan (change-plan.ts) counts bind-line changes VIP by VIP, skipping a
// VIP that is the same snapshot with the same ownership and bindability: the counts must be
// those of comparing every bind line of both revisions, and a one-change revision of a
// thousand VIPs must stay a runtime-API change.
import { describe, expect, it } from 'vitest';
import { planChanges } from '../../appliance/engine/haproxy/change-plan.js';
import type { RenderSettings } from '../../appliance/engine/haproxy/config-render.js';
import type { ConfigSnapshot, VirtualServiceSnapshot } from '../../appliance/engine/types.js';

function vip(i: number, over: Partial<Record<string, unknown>> = {}): VirtualServiceSnapshot {
  return Object.freeze({
    id: `vs-${i}`, label: `V${i}`, enabled: true, ipAddress: `127.0.1.${i % 250}`, ports: [8000 + i], protocol: 'http', certificate: null, forceHttps: false,
    persistence: { mode: 'none' }, healthCheck: { type: 'none' },
    realServers: [Object.freeze({ id: `rs-${i}`, label: `R${i}`, address: '127.0.2.1', port: 9000, weight: 100, adminState: 'online', backup: false, reEncrypt: false, maxConnections: null })],
    ...over,
  }) as unknown as VirtualServiceSnapshot;
}

function settings(over: Partial<RenderSettings> = {}): RenderSettings {
  return { adminSocket: '/x', luaFile: '/x', errorFiles: new Map(), certDir: '/c', active: true, hardStopAfter: 1, peers: { localName: 'a', localAddress: '127.0.0.1', port: 1, remote: null }, unbindable: new Map(), ...over } as RenderSettings;
}

const snap = (revision: number, vips: VirtualServiceSnapshot[]): ConfigSnapshot => ({ revision, virtualServices: vips });
const thousand = Array.from({ length: 1000 }, (_, i) => vip(i));
const base = snap(1, thousand);

describe('the HAProxy change plan', () => {
  it('makes one server weight of a thousand VIPs a runtime step, no listener changed', () => {
    const changed = vip(500, { realServers: [{ ...thousand[500]!.realServers[0]!, weight: 7 }] });
    const plan = planChanges(base, snap(2, thousand.map((v) => (v.id === 'vs-500' ? changed : v))), settings(), settings());
    expect(plan.reloadReasons).toEqual([]);
    expect(plan.listenersChanged).toBe(0);
    expect(plan.steps.map((s) => s.command)).toEqual([expect.stringMatching(/^set server \S+ weight 7$/), expect.stringMatching(/^set server \S+ state ready$/)]);
  });

  it('counts a port added to one VIP, a VIP removed and a VIP added', () => {
    const next = snap(2, [...thousand.slice(1).map((v) => (v.id === 'vs-7' ? vip(7, { ports: [8007, 9007] }) : v)), vip(2000)]);
    const plan = planChanges(base, next, settings(), settings());
    // +1 (vs-7's new port), -1 (vs-0 removed), +1 (vs-2000 added).
    expect(plan.listenersChanged).toBe(3);
    expect(plan.reloadReasons).toEqual(expect.arrayContaining(['3 listener(s) change', 'VIP V0 removed', 'VIP V2000 added']));
  });

  it('counts every bind line when the node gives the VIPs up or takes them, and none for a disabled VIP', () => {
    expect(planChanges(base, base, settings(), settings({ active: false })).listenersChanged).toBe(1000);
    expect(planChanges(base, base, settings({ active: false }), settings()).listenersChanged).toBe(1000);
    const disabled = snap(2, thousand.map((v) => (v.id === 'vs-3' ? vip(3, { enabled: false }) : v)));
    expect(planChanges(base, disabled, settings(), settings()).listenersChanged).toBe(1);
  });

  it('counts a VIP that becomes bindable or stops being so, though its snapshot is the same', () => {
    const unbindable = settings({ unbindable: new Map([['vs-9', 'address not on this host']]) });
    expect(planChanges(base, base, unbindable, settings()).listenersChanged).toBe(1);
    expect(planChanges(base, base, settings(), unbindable).listenersChanged).toBe(1);
    expect(planChanges(base, base, unbindable, unbindable).listenersChanged).toBe(0);
  });
});
