// One health check of one real server: a TCP connect, or an HTTP(S) GET that must answer
// the expected status. Each probe opens its own connection and closes it, so a check never
// shares a socket with client traffic. A probe never throws and never rejects: whatever
// goes wrong (even a setting the request cannot carry) is a failed check of that server,
// with the reason as its detail, never the appliance's end (issue 19).
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import type { CheckResult } from '../types.js';
import { checkTarget } from '../../config/check-target.js';

/** What to check on one real server. */
export interface ProbeSpec {
  type: 'connect' | 'http' | 'https';
  address: string;
  port: number;
  path: string;
  /** Host header; null sends the server's address. */
  host: string | null;
  expectStatus: number;
  timeoutMs: number;
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
    const timer = setTimeout(() => finish(false, `timeout after ${spec.timeoutMs} ms`), spec.timeoutMs);
    try {
      cleanup = send(spec, finish);
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
