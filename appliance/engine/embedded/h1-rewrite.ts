// The heads the HTTP/1.1 proxy writes: the request as the real server sees it (hop-by-hop
// fields and the fields Connection names removed, the persistence cookie taken out,
// X-Forwarded-For / -Proto added, framing stated once) and the response as the client
// sees it (the same per-hop rules, the persistence cookie set, framing the client can read).
import { HOP_BY_HOP, responseHasNoBody, type RequestHead, type ResponseHead } from './h1-head.js';
import { ForwardedFields } from './header-rules.js';

/** How a request is rewritten for the server. */
export interface RequestRewrite {
  /** The persistence cookie to take out, or null. */
  cookieName: string | null;
  forwardedFor: boolean;
  client: string;
  tls: boolean;
  /** Host for an HTTP/1.0 request that named none. */
  vipAddress: string;
}

/** The request head sent to the real server. */
export function upstreamRequestHead(head: RequestHead, o: RequestRewrite): string {
  let out = `${head.method} ${head.target} HTTP/1.1\r\n`;
  const fields = new ForwardedFields(o);
  for (let i = 0; i < head.lower.length; i++) {
    const name = head.lower[i] as string;
    // Expect is answered by the appliance itself (it sends the 100 Continue).
    if (HOP_BY_HOP.has(name) || head.connection.has(name) || name === 'expect') continue;
    const value = fields.value(name, head.values[i] as string);
    if (value !== null) out += `${head.names[i]}: ${value}\r\n`;
  }
  if (head.host === undefined) out += `Host: ${o.vipAddress.includes(':') ? `[${o.vipAddress}]` : o.vipAddress}\r\n`;
  if (head.chunked) out += 'Transfer-Encoding: chunked\r\n';
  else if (head.contentLength >= 0) out += `Content-Length: ${head.contentLength}\r\n`;
  if (head.upgrade) out += `Connection: Upgrade\r\nUpgrade: ${head.values[head.lower.indexOf('upgrade')]}\r\n`;
  out += fields.added(o.client, o.tls ? 'https' : 'http', { xff: 'X-Forwarded-For', proto: 'X-Forwarded-Proto' });
  return `${out}\r\n`;
}

/** A response head for the client, and how its body must be sent. */
export interface ClientResponse {
  head: string;
  /** The server's chunks must be decoded (an HTTP/1.0 client). */
  dechunk: boolean;
  /** The connection closes after this response. */
  close: boolean;
}

function keptFields(res: ResponseHead, hsts: string | null = null): string {
  let out = '';
  for (let i = 0; i < res.lower.length; i++) {
    const name = res.lower[i] as string;
    if (HOP_BY_HOP.has(name) || res.connection.has(name)) continue;
    // The VIP's HSTS policy replaces the server's own field.
    if (hsts !== null && name === 'strict-transport-security') continue;
    out += `${res.names[i]}: ${res.values[i]}\r\n`;
  }
  return out;
}

/** The head of a 101 response: the connection becomes a tunnel. */
export function upgradeResponseHead(res: ResponseHead): string {
  const at = res.lower.indexOf('upgrade');
  return `HTTP/1.1 101 ${res.reason}\r\n${keptFields(res)}Connection: Upgrade\r\nUpgrade: ${at >= 0 ? res.values[at] : 'websocket'}\r\n\r\n`;
}

/** The response head sent to the client; `close` asks for the connection to close after it. */
export function clientResponseHead(res: ResponseHead, req: RequestHead, close: boolean, setCookie: string | null, hsts: string | null = null): ClientResponse {
  let out = `HTTP/1.1 ${res.status} ${res.reason}\r\n${keptFields(res, hsts)}`;
  if (hsts !== null) out += `Strict-Transport-Security: ${hsts}\r\n`;
  let dechunk = false;
  if (responseHasNoBody(req.method, res.status)) {
    if (res.contentLength >= 0) out += `Content-Length: ${res.contentLength}\r\n`;
  } else if (res.chunked) {
    if (req.minor === 1) out += 'Transfer-Encoding: chunked\r\n';
    else {
      // An HTTP/1.0 client reads the payload until the connection closes.
      dechunk = true;
      close = true;
    }
  } else if (res.contentLength >= 0) out += `Content-Length: ${res.contentLength}\r\n`;
  else close = true;
  if (setCookie !== null) out += `Set-Cookie: ${setCookie}\r\n`;
  if (close) out += 'Connection: close\r\n';
  else if (req.minor === 0) out += 'Connection: keep-alive\r\n';
  return { head: `${out}\r\n`, dechunk, close };
}
