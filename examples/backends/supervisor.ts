// Starts every backend of a profile, and gives tests and the examples handles on each
// service: stop one (the server "crashes" and refuses connections), start it again, stop a
// whole host, look at what a DICOM or HL7 server received, stop everything.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DicomServer } from './dicom/storescp-server.js';
import { BackendError } from './errors.js';
import { Hl7Server } from './hl7/mllp-server.js';
import { makeServerCertificate, type ServerCertificate } from './http/certificate.js';
import { ViewerServer } from './http/viewer-server.js';
import { servicesOf } from './profiles/services.js';
import type { BackendProfile, HostPlan, ServicePlan } from './profiles/types.js';
import { hostPort, type BackendService } from './service.js';
import { TcpEchoServer } from './tcp/echo-server.js';

/** Options of startBackends. */
export interface StartBackendsOptions {
  /** Where DICOM servers write and certificates are saved (default: a new temporary directory). */
  runDir?: string;
  /** Remove the run directory on stop (default: true when it was created here). */
  removeRunDir?: boolean;
}

/** One running service and the plan it came from. */
export interface RunningService {
  plan: ServicePlan;
  service: BackendService;
}

/** The services of one host, stopped and started together. */
export interface RunningHost {
  plan: HostPlan;
  services: RunningService[];
  /** Its certificate, when it serves HTTPS (also saved as <runDir>/<id>/tls/cert.pem and key.pem). */
  certificate?: ServerCertificate;
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** A profile's running backends. */
export interface RunningBackends {
  profile: BackendProfile;
  runDir: string;
  services: RunningService[];
  hosts: RunningHost[];
  /** Every host certificate, concatenated: a CA bundle that trusts all the HTTPS backends. */
  caPem: string;
  /** The service on an address and port (throws BACKEND_NO_SUCH_SERVICE). */
  service(address: string, port: number): BackendService;
  /** The DICOM server on an address and port. */
  dicom(address: string, port: number): DicomServer;
  /** The HL7 server on an address and port. */
  hl7(address: string, port: number): Hl7Server;
  /** The HTTP, HTTPS or health endpoint on an address and port. */
  viewer(address: string, port: number): ViewerServer;
  /** The TCP echo service on an address and port. */
  tcp(address: string, port: number): TcpEchoServer;
  /** A host by id (SERVER1, CORE1, ...). */
  host(id: string): RunningHost;
  /** A table of what listens where. */
  table(): string;
  /** Stops every service (storescp processes included) and, if so set, removes the run directory. */
  stop(): Promise<void>;
}

function build(plan: ServicePlan, runDir: string, certificate: ServerCertificate | undefined, stateOf: (port: number) => boolean | undefined): BackendService {
  const id = { host: plan.host.id, name: plan.host.name, address: plan.host.address, port: plan.port };
  switch (plan.kind) {
    case 'dicom':
      return new DicomServer({ ...id, aeTitle: plan.host.aeTitle, workDir: join(runDir, plan.host.id, `dicom-${plan.port}`) });
    case 'hl7':
      return new Hl7Server(id);
    case 'tcp':
      return new TcpEchoServer(id);
    case 'http':
    case 'health':
      return new ViewerServer({ ...id, role: plan.kind === 'health' ? 'health' : 'viewer', serviceState: stateOf });
    case 'https':
      return new ViewerServer({ ...id, tls: certificate, serviceState: stateOf });
  }
}

/** Formats rows as a left-aligned text table. */
export function formatTable(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ')).join('\n');
}

/** Starts every backend of a profile on its loopback addresses (all or nothing). */
export async function startBackends(profile: BackendProfile, options: StartBackendsOptions = {}): Promise<RunningBackends> {
  const plans = servicesOf(profile);
  const ownDir = options.runDir === undefined;
  const runDir = options.runDir ?? (await mkdtemp(join(tmpdir(), `lbappliance-backends-${profile.example}-`)));
  const removeRunDir = options.removeRunDir ?? ownDir;
  const byKey = new Map<string, RunningService>();
  const hosts: RunningHost[] = [];
  const certificates: string[] = [];
  for (const host of profile.hosts) {
    const mine = plans.filter((p) => p.host.id === host.id);
    let certificate: ServerCertificate | undefined;
    if (mine.some((p) => p.kind === 'https')) {
      certificate = await makeServerCertificate(host.name, host.address);
      const dir = join(runDir, host.id, 'tls');
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'cert.pem'), certificate.certPem);
      await writeFile(join(dir, 'key.pem'), certificate.keyPem, { mode: 0o600 });
      certificates.push(certificate.certPem);
    }
    const stateOf = (port: number) => byKey.get(`${host.address}:${port}`)?.service.running;
    const services = mine.map((plan) => ({ plan, service: build(plan, runDir, certificate, stateOf) }));
    for (const s of services) byKey.set(`${host.address}:${s.plan.port}`, s);
    hosts.push({
      plan: host,
      services,
      certificate,
      stop: async () => {
        await Promise.all(services.map((s) => s.service.stop()));
      },
      start: async () => {
        await Promise.all(services.map((s) => s.service.start()));
      },
    });
  }
  const services = [...byKey.values()];
  const stopAll = () => Promise.all(services.map((s) => s.service.stop()));
  const started = await Promise.allSettled(services.map((s) => s.service.start()));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await stopAll();
    if (removeRunDir) await rm(runDir, { recursive: true, force: true });
    throw failed.reason;
  }

  const find = (address: string, port: number): BackendService => {
    const s = byKey.get(`${address}:${port}`);
    if (!s) throw new BackendError('BACKEND_NO_SUCH_SERVICE', `no ${profile.example} backend on ${hostPort(address, port)}`, { address, port });
    return s.service;
  };
  const typed = <T extends BackendService>(address: string, port: number, cls: abstract new (...a: never[]) => T): T => {
    const s = find(address, port);
    if (!(s instanceof cls)) throw new BackendError('BACKEND_NO_SUCH_SERVICE', `${hostPort(address, port)} is ${s.kind}, not a ${cls.name}`, { address, port });
    return s;
  };
  return {
    profile,
    runDir,
    services,
    hosts,
    caPem: certificates.join(''),
    service: find,
    dicom: (a, p) => typed(a, p, DicomServer),
    hl7: (a, p) => typed(a, p, Hl7Server),
    viewer: (a, p) => typed(a, p, ViewerServer),
    tcp: (a, p) => typed(a, p, TcpEchoServer),
    host(id) {
      const h = hosts.find((x) => x.plan.id === id);
      if (!h) throw new BackendError('BACKEND_NO_SUCH_SERVICE', `no ${profile.example} host ${id}`, { host: id });
      return h;
    },
    table() {
      const rows = [['SERVER', 'NAME', 'LISTENS ON', 'KIND', 'STATE', 'SERVES']];
      for (const { plan, service } of services) {
        rows.push([plan.host.id, plan.host.name, hostPort(plan.host.address, plan.port), plan.kind, service.running ? 'up' : 'stopped', plan.serves.join(', ')]);
      }
      return formatTable(rows);
    },
    async stop() {
      await stopAll();
      if (removeRunDir) await rm(runDir, { recursive: true, force: true });
    },
  };
}
