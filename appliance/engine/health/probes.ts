// One health check of one real server: a TCP connect, an HTTP(S) GET that must answer
// the expected status, a DICOM C-ECHO (./dicom-echo.ts) or an HL7 message over MLLP
// (./hl7-probe.ts). Each probe opens its own connection and closes it, so a check never
// shares a socket with client traffic. A probe never throws and never rejects: whatever
// goes wrong (even a setting the request cannot carry) is a failed check of that server,
// with the reason as its detail, never the appliance's end (issue 19).
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import type { CheckResult } from '../types.js';
import { checkTarget } from '../../config/check-target.js';
import { dicomEcho, type DicomEchoRun } from './dicom-echo.js';
import { hl7Probe } from './hl7-probe.js';

/** The settings of a `dicom` check (the contract's DicomCheck). */
export interface DicomSettings {
  callingAeTitle: string;
  calledAeTitle: string;
  tls: boolean;
}

/** The settings of an `hl7` check (the contract's Hl7Check). */
export interface Hl7Settings {
  message: string | null;
}

/** What a check whose stored revision predates a setting uses (the contract's defaults). */
export const DICOM_DEFAULTS: DicomSettings = { callingAeTitle: 'LBAPPLIANCE', calledAeTitle: 'ANY-SCP', tls: false };
/** The contract's defaults of Hl7Check. */
export const HL7_DEFAULTS: Hl7Settings = { message: null };

/** What to check on one real server. */
export interface ProbeSpec {
  type: 'connect' | 'http' | 'https' | 'dicom' | 'hl7';
  address: string;
  port: number;
  path: string;
  /** Host header; null sends the server's address. */
  host: string | null;
  expectStatus: number;
  timeoutMs: number;
  dicom: DicomSettings;
  hl7: Hl7Settings;
}

function result(started: number, ok: boolean, detail: string): CheckResult {
  return { at: new Date().toISOString(), ok, durationMs: Math.round((performance.now() - started) * 100) / 100, detail };
}

function hostHeader(spec: ProbeSpec): string {
  if (spec.host) return spec.host;
  return spec.address.includes(':') ? `[${spec.address}]:${spec.port}` : `${spec.address}:${spec.port}`;
}

/** Runs one probe; never rejects. */
export function runProbe(spec: ProbeSpec): Promise<CheckResult> {
  const started = performance.now();
  return new Promise<CheckResult>((resolve) => {
    let done = false;
    let cleanup: () => void = () => undefined;
    const finish = (ok: boolean, detail: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      try {
        cleanup();
      } catch {
        // the check is over either way
      }
      resolve(result(started, ok, detail));
    };
    let waitingFor: () => string = () => '';
    const timer = setTimeout(() => {
      const what = waitingFor();
      finish(false, `timeout after ${spec.timeoutMs} ms${what ? ` waiting for ${what}` : ''}`);
    }, spec.timeoutMs);
    try {
      if (spec.type === 'dicom') {
        const run: DicomEchoRun = dicomEcho({ address: spec.address, port: spec.port, ...spec.dicom }, (o) => finish(o.ok, o.detail));
        waitingFor = run.waitingFor;
        cleanup = run.cancel;
      } else if (spec.type === 'hl7') {
        const run = hl7Probe({ address: spec.address, port: spec.port, message: spec.hl7.message }, (o) => finish(o.ok, o.detail));
        waitingFor = run.waitingFor;
        cleanup = run.cancel;
      } else cleanup = send(spec, finish);
    } catch (err) {
      // A setting the request cannot carry (a path or Host node refuses): the server's check fails, saying why.
      finish(false, `check not sent: ${(err as Error).message}`);
    }
  });
}

/** Starts the probe's connection or request; returns how to abort it. */
function send(spec: ProbeSpec, finish: (ok: boolean, detail: string) => void): () => void {
  if (spec.type === 'connect') {
    const socket = connect({ host: spec.address, port: spec.port });
    socket.once('connect', () => finish(true, 'connected'));
    socket.once('error', (err: NodeJS.ErrnoException) => finish(false, err.code ?? err.message));
    return () => socket.destroy();
  }
  const request = spec.type === 'https' ? httpsRequest : httpRequest;
  const req = request({
    host: spec.address,
    port: spec.port,
    path: checkTarget(spec.path),
    method: 'GET',
    agent: false,
    headers: { host: hostHeader(spec), 'user-agent': 'lbappliance-health-check', connection: 'close' },
    rejectUnauthorized: false,
  });
  req.once('response', (res) => {
    res.resume();
    const code = res.statusCode ?? 0;
    finish(code === spec.expectStatus, `HTTP ${code}`);
  });
  req.once('error', (err: NodeJS.ErrnoException) => finish(false, err.code ?? err.message));
  req.end();
  return () => req.destroy();
}
