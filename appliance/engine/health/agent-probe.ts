// One query of a real server's feedback agent (HAProxy's agent-check): connect to its agent
// port, read one line (at most AGENT_LINE_LIMIT bytes, up to a line end or the agent
// closing), and hand it back. A failed or silent query is reported as such and asks
// nothing: reachability is the health check's business, not the agent's.
import { connect } from 'node:net';

/** The longest reply read (HAProxy reads one buffer; a line is a few words). */
export const AGENT_LINE_LIMIT = 1024;

/** An agent's answer: the line it sent, or why there was none. */
export type AgentAnswer = { ok: true; line: string } | { ok: false; reason: string };

/** Queries the agent at address:port; never rejects. */
export function queryAgent(address: string, port: number, timeoutMs: number): Promise<AgentAnswer> {
  return new Promise((resolve) => {
    let seen: Buffer = Buffer.alloc(0);
    let done = false;
    const socket = connect({ host: address, port });
    const end = (answer: AgentAnswer) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => end(seen.length > 0 ? { ok: true, line: seen.toString('utf8').trim() } : { ok: false, reason: `no reply in ${timeoutMs} ms` }), timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      seen = Buffer.concat([seen, chunk]).subarray(0, AGENT_LINE_LIMIT);
      const nl = seen.indexOf(0x0a);
      if (nl >= 0) end({ ok: true, line: seen.subarray(0, nl).toString('utf8').trim() });
      else if (seen.length >= AGENT_LINE_LIMIT) end({ ok: true, line: seen.toString('utf8').trim() });
    });
    socket.once('end', () => end(seen.length > 0 ? { ok: true, line: seen.toString('utf8').trim() } : { ok: false, reason: 'closed without a reply' }));
    socket.once('error', (err: NodeJS.ErrnoException) => end({ ok: false, reason: err.code ?? err.message }));
  });
}
