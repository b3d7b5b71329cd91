// HTTP/1.1 over TLS by hand, for requests no client library sends: a method the parser does
// not know, a body announced but never sent, a header block too large to parse.
import { connect } from 'node:tls';

/** One response read off the wire. */
export interface RawResponse {
  status: number;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: string;
}

/** Options of a raw exchange. */
export interface RawOptions {
  /** Give up after this long without a whole response (ms, default 5000). */
  timeoutMs?: number;
}

/**
 * Writes `request` (head and whatever part of the body the test wants) to the API and reads
 * the first response, without closing the sending side: a server that waits for the rest of
 * an announced body never answers, and the exchange fails with a timeout.
 */
export function rawExchange(endpoint: string, request: string | Buffer, options: RawOptions = {}): Promise<RawResponse> {
  const url = new URL(endpoint);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: url.hostname, port: Number(url.port), rejectUnauthorized: false });
    let data = Buffer.alloc(0);
    let settled = false;
    const done = (err: Error | null, res?: RawResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(res as RawResponse);
    };
    const timer = setTimeout(() => done(new Error(`no whole response in ${options.timeoutMs ?? 5000} ms; got ${JSON.stringify(data.toString('latin1').slice(0, 200))}`)), options.timeoutMs ?? 5000);
    const parse = (ended: boolean) => {
      const end = data.indexOf('\r\n\r\n');
      if (end < 0) {
        if (ended) done(new Error(`connection closed before a response head; got ${JSON.stringify(data.toString('latin1').slice(0, 200))}`));
        return;
      }
      const [statusLine = '', ...lines] = data.subarray(0, end).toString('latin1').split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const body = data.subarray(end + 4);
      const length = headers['content-length'] === undefined ? undefined : Number(headers['content-length']);
      if (length !== undefined ? body.length >= length : ended) {
        done(null, { status: Number(statusLine.split(' ')[1]), headers, body: body.subarray(0, length ?? body.length).toString('utf8') });
      }
    };
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      parse(false);
    });
    socket.on('end', () => parse(true));
    socket.on('close', () => parse(true));
    // A server that answers and closes while the request is still being written resets it.
    socket.on('error', (err) => (data.indexOf('\r\n\r\n') >= 0 ? parse(true) : done(err)));
    socket.write(request);
  });
}
