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
import { BODY_LIMIT, bodyMatcher, describeMatch, type BodyMatchSettings } from './content-match.js';

/** The settings of a `tcp` check (the contract's TcpCheck). */
export interface TcpSettings {
  send: string | null;
  expect: string | null;
}

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
/** The contract's defaults of TcpCheck. */
export const TCP_DEFAULTS: TcpSettings = { send: null, expect: null };
/** The contract's defaults of BodyMatch. */
export const BODY_MATCH_DEFAULTS: BodyMatchSettings = { kind: 'none', value: '' };

/** What to check on one real server. */
export interface ProbeSpec {
  type: 'connect' | 'tcp' | 'http' | 'https' | 'dicom' | 'hl7';
  address: string;
  port: number;
  path: string;
  /** Host header; null sends the server's address. */
  host: string | null;
  expectStatus: number;
  timeoutMs: number;
  /** Statuses accepted besides none; empty accepts `expectStatus` only. */
  expectStatuses: number[];
  bodyMatch: BodyMatchSettings;
  tcp: TcpSettings;
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
  if (spec.type === 'connect' || spec.type === 'tcp') {
    const socket = connect({ host: spec.address, port: spec.port });
    const { send: out, expect } = spec.type === 'tcp' ? spec.tcp : TCP_DEFAULTS;
    socket.once('connect', () => {
      if (out !== null) socket.write(out, 'utf8');
      if (expect === null) return out === null ? finish(true, 'connected') : socket.end(() => finish(true, 'sent'));
    });
    if (expect !== null) {
      const needle = Buffer.from(expect, 'utf8');
      let seen: Buffer = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        seen = Buffer.concat([seen, chunk]).subarray(0, BODY_LIMIT);
        if (seen.includes(needle)) finish(true, `got ${JSON.stringify(expect.slice(0, 60))}`);
        else if (seen.length >= BODY_LIMIT) finish(false, `${JSON.stringify(expect.slice(0, 60))} not in the first ${BODY_LIMIT} bytes`);
      });
      socket.once('end', () => finish(false, `${JSON.stringify(expect.slice(0, 60))} not in the answer (${seen.length} bytes)`));
    }
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
  const accepted = spec.expectStatuses.length > 0 ? spec.expectStatuses : [spec.expectStatus];
  const matches = bodyMatcher(spec.bodyMatch);
  req.once('response', (res) => {
    const code = res.statusCode ?? 0;
    if (!accepted.includes(code) || !matches) {
      res.resume();
      return finish(accepted.includes(code), `HTTP ${code}`);
    }
    // The body is read up to BODY_LIMIT bytes (HAProxy's check buffer) and matched as it grows.
    let body: Buffer = Buffer.alloc(0);
    const verdict = () => (matches(body) ? finish(true, `HTTP ${code}, body matches ${describeMatch(spec.bodyMatch)}`) : finish(false, `HTTP ${code}, body does not match ${describeMatch(spec.bodyMatch)}`));
    res.on('data', (chunk: Buffer) => {
      body = Buffer.concat([body, chunk]).subarray(0, BODY_LIMIT);
      if (body.length >= BODY_LIMIT) verdict();
    });
    res.once('end', verdict);
    res.once('error', (err: NodeJS.ErrnoException) => finish(false, err.code ?? err.message));
  });
  req.once('error', (err: NodeJS.ErrnoException) => finish(false, err.code ?? err.message));
  req.end();
  return () => req.destroy();
}
