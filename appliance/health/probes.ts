// One health check of one real server: a TCP connect, or an HTTP(S) GET that must answer
// the expected status. Each probe opens its own connection and closes it, so a check never
// shares a socket with client traffic.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import type { CheckResult } from '../engine/types.js';

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
  return new Promise((resolve) => {
    let done = false;
    const finish = (ok: boolean, detail: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(result(started, ok, detail));
    };
    let cleanup: () => void = () => undefined;
    const timer = setTimeout(() => {
      cleanup();
      finish(false, `timeout after ${spec.timeoutMs} ms`);
    }, spec.timeoutMs);
    if (spec.type === 'connect') {
      const socket = connect({ host: spec.address, port: spec.port });
      cleanup = () => socket.destroy();
      socket.once('connect', () => {
        socket.destroy();
        finish(true, 'connected');
      });
      socket.once('error', (err: NodeJS.ErrnoException) => finish(false, err.code ?? err.message));
      return;
    }
    const send = spec.type === 'https' ? httpsRequest : httpRequest;
    const req = send({
      host: spec.address,
      port: spec.port,
      path: spec.path,
      method: 'GET',
      agent: false,
      headers: { host: hostHeader(spec), 'user-agent': 'lbappliance-health-check', connection: 'close' },
      rejectUnauthorized: false,
    });
    cleanup = () => req.destroy();
    req.once('response', (res) => {
      res.resume();
      req.destroy();
      const code = res.statusCode ?? 0;
      finish(code === spec.expectStatus, `HTTP ${code}`);
    });
    req.once('error', (err: NodeJS.ErrnoException) => finish(false, err.code ?? err.message));
    req.end();
  });
}
