// The three address plans as data: every VIP of the guides' tables is there with the
// guide's ports, persistence and check; addresses follow DESIGN.md's loopback convention;
// the services derived from a plan are consistent. No sockets.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { agfa, backendErrorCatalogue, insignia, profileByName, profiles, relocateProfile, servicesOf, teraRecon, type BackendProfile } from '../../examples/backends/index.js';
import { ROOT } from '../helpers/paths.js';

const all = Object.values(profiles);

describe('profiles', () => {
  it('follow the loopback plans: TeraRecon 127.0.40.x, AGFA 127.0.50.x, Insignia 127.0.60.x', () => {
    const prefix: Record<string, string> = { terarecon: '127.0.40.', agfa: '127.0.50.', insignia: '127.0.60.' };
    for (const p of all) {
      const addresses = [...p.hosts.map((h) => h.address), ...p.vips.map((v) => v.ipAddress), ...p.vips.flatMap((v) => v.realServers.map((r) => r.address))];
      for (const a of addresses) expect(a.startsWith(prefix[p.example]!), `${p.example} ${a}`).toBe(true);
    }
    expect(teraRecon.vips.map((v) => v.ipAddress)).toEqual(['127.0.40.217', '127.0.40.217', '127.0.40.217']);
    expect(teraRecon.hosts.map((h) => [h.address, h.guideAddress])).toEqual([
      ['127.0.40.6', '10.10.40.6'],
      ['127.0.40.7', '10.10.40.7'],
    ]);
  });

  it('give every VIP address:port to one VIP only, and derive consistent services', () => {
    for (const p of all) {
      const keys = p.vips.flatMap((v) => v.ports.map((port) => `${v.ipAddress}:${port}`));
      expect(new Set(keys).size, p.example).toBe(keys.length);
      expect(() => servicesOf(p)).not.toThrow();
    }
    expect(servicesOf(teraRecon).map((s) => `${s.host.id} ${s.port} ${s.kind}`)).toEqual(['SERVER1 443 https', 'SERVER1 1200 tcp', 'SERVER2 443 https', 'SERVER2 1200 tcp']);
    expect(servicesOf(insignia).map((s) => `${s.host.id} ${s.port} ${s.kind} ${s.serves.join('+')}`)).toEqual([
      'SERVER1 104 dicom DICOM (load-balanced)+DICOM (failover)',
      'SERVER1 2575 hl7 HL7 (load-balanced)+HL7 (failover)',
      'SERVER2 104 dicom DICOM (load-balanced)+DICOM (failover)',
      'SERVER2 2575 hl7 HL7 (load-balanced)+HL7 (failover)',
    ]);
    expect(servicesOf(agfa)).toHaveLength(44);
  });

  it('refuse a plan whose health check points at no service of the right protocol, or one port with two kinds', () => {
    const broken: BackendProfile = { ...agfa, vips: agfa.vips.map((v) => (v.ref === 'VIP 21' ? { ...v, healthCheck: { type: 'https', port: 80, path: '/health' } } : v)) };
    expect(() => servicesOf(broken)).toThrow(expect.objectContaining({ code: 'BACKEND_PLAN_CONFLICT' }));
    const clash: BackendProfile = { ...teraRecon, vips: [...teraRecon.vips, { ...teraRecon.vips[2]!, ref: 'VIP 9', ports: [1201], realServers: teraRecon.vips[2]!.realServers.map((r) => ({ ...r, port: 443 })) }] };
    expect(() => servicesOf(clash)).toThrow(expect.objectContaining({ code: 'BACKEND_PLAN_CONFLICT' }));
  });

  it('carry the TeraRecon rows: redirect 301, h2 with re-encryption, AQI timeouts 92/93', () => {
    const [redirect, avs, aqi] = teraRecon.vips;
    expect(redirect).toMatchObject({ label: 'AVS-Redirect', ports: [80], protocol: 'http', forceHttps: 301, realServers: [] });
    expect(avs).toMatchObject({ label: 'AVS', ports: [443], protocol: 'http2', persistence: 'http-cookie', terminatesTls: true, healthCheck: { type: 'connect' } });
    expect(avs!.realServers.every((r) => r.reEncrypt && r.port === 443 && r.kind === 'https')).toBe(true);
    expect(aqi).toMatchObject({ label: 'AVS-AQI', ports: [1200], protocol: 'tcp', persistence: 'source-ip', timeouts: { client: 92, server: 93 } });
  });

  it('carry every row of the AGFA guide table: name, layer 7 protocol, port, persistence, health check', () => {
    const guide = readFileSync(`${ROOT}test/fixtures/agfa-guide-vip-table.txt`, 'utf8');
    const row = /VIP (\d+) \| (\S+) \|\s*Layer 7 Reverse Proxy \((HTTP|TCP)\) \|\s*(\d+) \|\s*(HTTP Cookie|Source IP|None) \|\s*(HTTP \(GET\)|HTTPS \(GET\)|Connect to Port|)\s*\|/g;
    const rows = [...guide.matchAll(row)].map((m) => ({ ref: `VIP ${m[1]}`, label: m[2], mode: `Layer 7 Reverse Proxy (${m[3]})`, ports: m[4], persistence: m[5], healthCheck: m[6] }));
    expect(rows).toHaveLength(21);
    expect(agfa.vips.map((v) => ({ ref: v.ref, label: v.label, ...v.guide }))).toEqual(rows);
    for (const v of agfa.vips) {
      expect(v.ports).toEqual([Number(v.guide.ports)]);
      expect(v.protocol).toBe(v.guide.mode.endsWith('(TCP)') ? 'tcp' : 'http');
      expect(v.persistence).toBe({ 'HTTP Cookie': 'http-cookie', 'Source IP': 'source-ip', None: 'none' }[v.guide.persistence]);
      const expectedCheck = { 'HTTP (GET)': 'http', 'HTTPS (GET)': 'https', 'Connect to Port': 'connect', '': 'connect' }[v.guide.healthCheck];
      expect(v.healthCheck.type, v.ref).toBe(expectedCheck);
      expect(v.realServers).toHaveLength(2);
    }
  });

  it('resolve the AGFA ambiguities: VIP 4 on 81 to HTTPS 443, VIPs 20/21 on their own address, health pages on 8099', () => {
    const vip = (n: number) => agfa.vips[n - 1]!;
    expect(vip(4)).toMatchObject({ ports: [81], healthCheck: { type: 'https', port: null } });
    expect(vip(4).realServers.map((r) => [r.port, r.kind, r.reEncrypt])).toEqual([
      [443, 'https', true],
      [443, 'https', true],
    ]);
    expect(vip(20).ipAddress).toBe(vip(21).ipAddress);
    expect(vip(20).ipAddress).not.toBe(vip(1).ipAddress);
    expect(vip(20).realServers.every((r) => r.kind === 'https' && !r.reEncrypt)).toBe(true); // TCP mode: TLS passes through
    expect(vip(21).healthCheck).toEqual({ type: 'https', port: 443, path: '/health/80', expectStatus: 200 });
    for (const [n, port] of [[2, 104], [3, 110], [7, 2762], [8, 4447]] as const) expect(vip(n).healthCheck).toEqual({ type: 'http', port: 8099, path: `/health/${port}`, expectStatus: 200 });
    expect(vip(15).note).toMatch(/no health check/);
  });

  it('put Insignia in load-balanced mode without backups and in failover mode with SERVER2 as the backup', () => {
    const lb = insignia.vips.filter((v) => v.mode === 'load-balanced');
    const fo = insignia.vips.filter((v) => v.mode === 'failover');
    expect(lb.map((v) => [v.label, v.ipAddress, v.ports[0]])).toEqual([
      ['Insignia-DICOM-LB', '127.0.60.100', 104],
      ['Insignia-HL7-LB', '127.0.60.100', 2575],
    ]);
    expect(fo.map((v) => [v.label, v.ipAddress, v.ports[0]])).toEqual([
      ['Insignia-DICOM-Failover', '127.0.60.101', 104],
      ['Insignia-HL7-Failover', '127.0.60.101', 2575],
    ]);
    // The guide names no check: each VIP's check speaks its protocol.
    expect(insignia.vips.map((v) => [v.label, v.healthCheck.type])).toEqual([
      ['Insignia-DICOM-LB', 'dicom'],
      ['Insignia-HL7-LB', 'hl7'],
      ['Insignia-DICOM-Failover', 'dicom'],
      ['Insignia-HL7-Failover', 'hl7'],
    ]);
    expect(lb.flatMap((v) => v.realServers.map((r) => r.backup))).toEqual([false, false, false, false]);
    expect(fo.flatMap((v) => v.realServers.map((r) => `${r.label}:${r.backup}`))).toEqual(['SERVER1:false', 'SERVER2:true', 'SERVER1:false', 'SERVER2:true']);
  });

  it('relocate every address, and name unknown profiles with a typed error', () => {
    const moved = relocateProfile(agfa, '127.0.50.', '127.0.95.');
    const addresses = [...moved.hosts.map((h) => h.address), ...moved.vips.map((v) => v.ipAddress), ...moved.vips.flatMap((v) => v.realServers.map((r) => r.address))];
    expect(addresses.every((a) => a.startsWith('127.0.95.'))).toBe(true);
    expect(agfa.hosts[0]!.address).toBe('127.0.50.11'); // the original is untouched
    expect(profileByName('agfa')).toBe(agfa);
    expect(() => profileByName('philips')).toThrow(expect.objectContaining({ code: 'BACKEND_UNKNOWN_PROFILE' }));
  });
});

describe('error catalogue', () => {
  it('documents every code in the README', () => {
    const readme = readFileSync(`${ROOT}examples/backends/README.md`, 'utf8');
    for (const code of Object.keys(backendErrorCatalogue)) expect(readme, code).toContain(`| \`${code}\` |`);
  });
});
