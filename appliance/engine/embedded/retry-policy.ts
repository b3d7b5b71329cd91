// When a request that could not reach its server goes to another one. Only when nothing
// of it can have been processed: the connect failed (the server is also reported down at
// once: the passive health check), or a pooled connection was found closed as it was
// reused and the request is one that may be replayed. Never once a response byte came back
// or body bytes beyond the buffered start were streamed.
import type { UpstreamServer } from './upstream-server.js';
import type { VipRuntime } from './vip-runtime.js';

/** Errors that mean the server was never reached. */
export const CONNECT_FAILURES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'LB_CONNECT_TIMEOUT', 'EADDRNOTAVAIL']);
const REPLAYABLE = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
/** Attempts per request. */
export const MAX_ATTEMPTS = 3;

/** What happened to one attempt. */
export interface FailedAttempt {
  code: string;
  /** Whether any response byte had arrived. */
  responded: boolean;
  /** Whether the connection had been established. */
  connected: boolean;
  /** Whether the connection came from the pool. */
  reused: boolean;
  /** Whether body bytes beyond the buffered start were sent. */
  streamed: boolean;
  /** Whether the whole request body is buffered (so it can be sent again). */
  bodyComplete: boolean;
  method: string;
  attempts: number;
}

/** Where to send the request next, or null to give up. Reports connect failures to the health checker. */
export function retryTarget(vip: VipRuntime, client: string, server: UpstreamServer, tried: Set<UpstreamServer>, f: FailedAttempt): { server: UpstreamServer; setCookie: boolean } | null {
  const connectFailed = !f.connected && CONNECT_FAILURES.has(f.code);
  if (connectFailed) vip.connectFailed(server, f.code);
  if (f.responded || f.streamed || f.attempts >= MAX_ATTEMPTS) return null;
  if (connectFailed) {
    tried.add(server);
    return vip.chooseAgain(client, tried);
  }
  if (f.connected && f.reused && f.bodyComplete && REPLAYABLE.has(f.method) && f.code !== 'LB_SERVER_TIMEOUT') {
    // The server closed a pooled connection as we reused it: the request never reached it.
    return { server, setCookie: false };
  }
  return null;
}
