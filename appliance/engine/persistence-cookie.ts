// The value of an http-cookie persistence cookie, the same on every engine: a client that
// holds a cookie keeps its server when the engine changes (a reload, an HA takeover, the
// other engine on the peer).
import { createHash } from 'node:crypto';

/** The cookie value naming a server: stable for the server, opaque to clients. */
export function cookieValueOf(vsId: string, rsId: string): string {
  return createHash('sha256').update(`${vsId}/${rsId}`).digest('hex').slice(0, 16);
}
