// The `connect` and `tcp` check kinds: a TCP connection to the server, and for `tcp` a
// string sent and/or a string expected in the answer (read at most BODY_LIMIT bytes).
import { connect } from 'node:net';
import { BODY_LIMIT } from '../content-match.js';
import { TCP_DEFAULTS, type ProbeSpec } from '../probe-spec.js';
import type { CheckKind, ProbeFinish } from './check-kind.js';

function start(spec: ProbeSpec, finish: ProbeFinish): { cancel: () => void } {
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
  return { cancel: () => socket.destroy() };
}

/** `connect`: the server accepts a TCP connection. */
export const connectKind: CheckKind = { start };
/** `tcp`: send/expect over a TCP connection. */
export const tcpKind: CheckKind = { start };
