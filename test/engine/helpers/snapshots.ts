// Config snapshots for tests that drive an engine directly through its interface (as the
// config store and the HA layer do): one HTTP VIP on one port, source-IP persistence and no
// health check unless the test says otherwise, its real servers named after their backends.
import type { ConfigSnapshot, VirtualServiceSnapshot } from '../../../appliance/engine/types.js';
import type { HttpBackend } from './backends.js';

/** A VIP of the snapshot, with `extra` overriding any default. */
export function vipSnapshot(id: string, ipAddress: string, port: number, servers: HttpBackend[], extra: Partial<VirtualServiceSnapshot> = {}): VirtualServiceSnapshot {
  return {
    id,
    label: id,
    ipAddress,
    ports: [port],
    protocol: 'http',
    forwarding: 'proxy',
    certificateId: null,
    algorithm: 'roundrobin',
    persistence: { mode: 'source-ip', cookieName: 'SERVERID', timeout: 1800, sourceIpFallback: false, ipv4PrefixLength: 32, ipv6PrefixLength: 128 },
    healthCheck: { type: 'none', port: null, path: '/', host: null, expectStatus: 200, interval: 1, timeout: 1, rise: 1, fall: 1, expectStatuses: [], bodyMatch: { kind: 'none', value: '' }, tcp: { send: null, expect: null }, dicom: { callingAeTitle: 'LBAPPLIANCE', calledAeTitle: 'ANY-SCP', tls: false }, hl7: { message: null }, script: { path: null, args: [] }, agent: { port: null, interval: 5 } },
    forceHttps: false,
    redirectCode: 301,
    forwardedFor: true,
    transparent: false,
    sendProxy: 'off',
    acceptProxy: false,
    timeouts: { client: 600, server: 600, connect: 4, httpRequest: 10 },
    fallback: { mode: 'none', address: null, port: null },
    limits: { maxConnections: null, whenFull: 'queue', queueTimeout: 30 },
    tls: { minVersion: 'TLSv1.2', ciphers: null, cipherSuites: null, hstsMaxAge: null, hstsIncludeSubDomains: false, sniCertificates: [] },
    enabled: true,
    certificate: null,
    sniCertificates: [],
    realServers: servers.map((s) => ({ id: `rs-${s.name}`, label: s.name, address: s.host, port: s.port, weight: 100, reEncrypt: false, backup: false, adminState: 'online' as const, maxConnections: null })),
    ...extra,
  };
}

/** A whole snapshot (a deep copy, so an engine never shares objects with the test). */
export function configSnapshot(revision: number, ...virtualServices: VirtualServiceSnapshot[]): ConfigSnapshot {
  return structuredClone({ revision, virtualServices });
}
