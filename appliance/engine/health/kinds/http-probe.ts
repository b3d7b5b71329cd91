// The `http` and `https` check kinds: one GET (the server's certificate is not verified),
// passing on an accepted status and, with a body match, on the first BODY_LIMIT bytes.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { checkTarget } from '../../../config/check-target.js';
import { BODY_LIMIT, bodyMatcher, describeMatch } from '../content-match.js';
import type { ProbeSpec } from '../probe-spec.js';
import type { CheckKind, ProbeFinish } from './check-kind.js';

function hostHeader(spec: ProbeSpec): string {
  if (spec.host) return spec.host;
  return spec.address.includes(':') ? `[${spec.address}]:${spec.port}` : `${spec.address}:${spec.port}`;
}

function start(spec: ProbeSpec, finish: ProbeFinish): { cancel: () => void } {
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
  return { cancel: () => req.destroy() };
}

/** `http`: a plain GET. */
export const httpKind: CheckKind = { start };
/** `https`: a GET over TLS. */
export const httpsKind: CheckKind = { start };
