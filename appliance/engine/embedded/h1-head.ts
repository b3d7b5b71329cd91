// Strict HTTP/1.1 message heads (RFC 9112) for the raw-socket proxy. Requests are held to
// the grammar: a request line, CRLF-terminated field lines, token names, no whitespace
// before the colon, no obs-fold, no control characters, one Content-Length at most, a
// Transfer-Encoding that is exactly `chunked`, never both, no framing name spelled with an
// underscore: the shapes behind request smuggling are refused before anything is forwarded. Responses from real servers are read
// with the same grammar, a little more leniently in the reason phrase.

/** Most header fields a request may carry (HAProxy's default is 101). */
export const MAX_HEADER_COUNT = 100;
/** Largest message head in bytes (HAProxy's default buffer is 16 KiB as well). */
export const MAX_HEAD_BYTES = 16 * 1024;

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Field values: visible ASCII, obs-text, SP and HTAB; no other control characters.
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) ([\x21-\x7e\x80-\xff]+) HTTP\/1\.([01])$/;
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: ([\t\x20-\x7e\x80-\xff]*))?$/;
const DIGITS = /^\d{1,15}$/;
// Fields that route or frame the message: a Connection token naming one is ignored, so a
// client cannot have the proxy strip its Host or its framing (`Connection: Host` would
// otherwise reach the server with no Host at all). nginx ignores the client's Connection
// tokens altogether; HAProxy removes nothing they name.
const END_TO_END = new Set(['host', 'content-length', 'transfer-encoding']);
// Framing names spelled with an underscore: servers that map field names to CGI-style
// variables (HTTP_TRANSFER_ENCODING) read them as the real ones, so a request carrying one
// could be framed differently by the server than by the proxy. Refused (nginx drops every
// field with an underscore; HAProxy forwards them as they came).
const UNDERSCORE_FRAMING = new Set(['content_length', 'transfer_encoding']);

/** Why a head was refused: the status to answer and a short reason. */
export class HeadError extends Error {
  constructor(
    readonly status: 400 | 431 | 501 | 502,
    message: string,
  ) {
    super(message);
  }
}

/** Header fields common to requests and responses, with the framing they declare. */
export interface Fields {
  /** Field names as received (case kept). */
  names: string[];
  /** Field names in lower case. */
  lower: string[];
  values: string[];
  /** -1 when absent. */
  contentLength: number;
  chunked: boolean;
  /** Transfer-Encoding present but not ending in chunked (responses only: read until close). */
  otherCoding: boolean;
  /** Lower-case tokens of the Connection field (never Host, Content-Length or Transfer-Encoding). */
  connection: Set<string>;
}

/** A parsed request head. */
export interface RequestHead extends Fields {
  method: string;
  target: string;
  /** 0 or 1 (HTTP/1.0 or HTTP/1.1). */
  minor: number;
  host: string | undefined;
  /** The client wants the connection closed after this exchange. */
  close: boolean;
  expectContinue: boolean;
  /** An Upgrade request (e.g. WebSocket). */
  upgrade: boolean;
}

/** A parsed response head. */
export interface ResponseHead extends Fields {
  status: number;
  reason: string;
  minor: number;
  close: boolean;
}

function parseFields(lines: string[], from: number, isRequest: boolean): Fields {
  const errStatus = isRequest ? 400 : 502;
  const count = lines.length - from;
  if (count > MAX_HEADER_COUNT) throw new HeadError(isRequest ? 431 : 502, 'too many header fields');
  const names: string[] = [];
  const lower: string[] = [];
  const values: string[] = [];
  let contentLength = -1;
  let te: string | null = null;
  const connection = new Set<string>();
  for (let i = from; i < lines.length; i++) {
    const line = lines[i] as string;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new HeadError(errStatus, line.length > 0 && (line[0] === ' ' || line[0] === '\t') ? 'obsolete line folding' : 'malformed header field');
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) throw new HeadError(errStatus, 'invalid header field name');
    let start = colon + 1;
    let end = line.length;
    while (start < end && (line.charCodeAt(start) === 0x20 || line.charCodeAt(start) === 0x09)) start++;
    while (end > start && (line.charCodeAt(end - 1) === 0x20 || line.charCodeAt(end - 1) === 0x09)) end--;
    const value = line.slice(start, end);
    if (!FIELD_VALUE.test(value)) throw new HeadError(errStatus, 'invalid header field value');
    const low = name.toLowerCase();
    if (low === 'content-length') {
      if (!DIGITS.test(value)) throw new HeadError(errStatus, 'invalid Content-Length');
      const n = Number(value);
      if (contentLength !== -1 && (isRequest || n !== contentLength)) throw new HeadError(errStatus, 'more than one Content-Length');
      contentLength = n;
    } else if (low === 'transfer-encoding') {
      te = te === null ? value : `${te}, ${value}`;
    } else if (low === 'connection') {
      for (const t of value.split(',')) {
        const token = t.trim().toLowerCase();
        if (token && !END_TO_END.has(token)) connection.add(token);
      }
    } else if (isRequest && UNDERSCORE_FRAMING.has(low)) throw new HeadError(400, 'framing field name with an underscore');
    names.push(name);
    lower.push(low);
    values.push(value);
  }
  let chunked = false;
  let otherCoding = false;
  if (te !== null) {
    const codings = te.split(',').map((c) => c.trim().toLowerCase()).filter((c) => c.length > 0);
    if (isRequest) {
      // Only plain `chunked` is accepted from clients: anything else is a smuggling vector or unsupported.
      if (codings.length !== 1 || codings[0] !== 'chunked') throw new HeadError(400, 'Transfer-Encoding other than chunked');
      if (contentLength !== -1) throw new HeadError(400, 'both Content-Length and Transfer-Encoding');
      chunked = true;
    } else if (codings[codings.length - 1] === 'chunked' && codings.indexOf('chunked') === codings.length - 1) {
      chunked = true;
      contentLength = -1; // RFC 9112 6.3: Transfer-Encoding overrides Content-Length
    } else {
      otherCoding = true;
      contentLength = -1;
    }
  }
  return { names, lower, values, contentLength, chunked, otherCoding, connection };
}

function splitHead(text: string, isRequest: boolean): string[] {
  const lines = text.split('\r\n');
  for (const line of lines) {
    // A bare CR or LF inside a line is a framing trick; so is any NUL.
    if (line.includes('\n') || line.includes('\r') || line.includes('\0')) throw new HeadError(isRequest ? 400 : 502, 'bare CR or LF in the message head');
  }
  return lines;
}

/** Parses a request head (without its final CRLFCRLF). */
export function parseRequestHead(text: string): RequestHead {
  const lines = splitHead(text, true);
  const m = REQUEST_LINE.exec(lines[0] as string);
  if (!m) throw new HeadError(400, 'malformed request line');
  const fields = parseFields(lines, 1, true);
  const minor = Number(m[3]);
  if (minor === 0 && fields.chunked) throw new HeadError(400, 'Transfer-Encoding in an HTTP/1.0 request');
  let host: string | undefined;
  let hosts = 0;
  let expectContinue = false;
  for (let i = 0; i < fields.lower.length; i++) {
    const name = fields.lower[i];
    if (name === 'host') {
      hosts++;
      host = fields.values[i];
    } else if (name === 'expect' && (fields.values[i] as string).toLowerCase() === '100-continue') expectContinue = true;
  }
  if (hosts > 1 || (minor === 1 && hosts === 0)) throw new HeadError(400, hosts > 1 ? 'more than one Host' : 'missing Host');
  const method = m[1] as string;
  const close = minor === 0 ? !fields.connection.has('keep-alive') : fields.connection.has('close');
  const upgrade = minor === 1 && fields.connection.has('upgrade') && fields.lower.includes('upgrade');
  // Built field by field: an object spread here costs more than the whole parse.
  return {
    names: fields.names,
    lower: fields.lower,
    values: fields.values,
    contentLength: fields.contentLength,
    chunked: fields.chunked,
    otherCoding: fields.otherCoding,
    connection: fields.connection,
    method,
    target: m[2] as string,
    minor,
    host,
    close,
    expectContinue,
    upgrade,
  };
}

/** Parses a response head (without its final CRLFCRLF). */
export function parseResponseHead(text: string): ResponseHead {
  const lines = splitHead(text, false);
  const m = STATUS_LINE.exec(lines[0] as string);
  if (!m) throw new HeadError(502, 'malformed status line');
  const fields = parseFields(lines, 1, false);
  const minor = Number(m[1]);
  const close = minor === 0 ? !fields.connection.has('keep-alive') : fields.connection.has('close');
  return {
    names: fields.names,
    lower: fields.lower,
    values: fields.values,
    contentLength: fields.contentLength,
    chunked: fields.chunked,
    otherCoding: fields.otherCoding,
    connection: fields.connection,
    status: Number(m[2]),
    reason: m[3] ?? '',
    minor,
    close,
  };
}

/** Whether a response to `method` with `status` has no body (RFC 9112 6.3). */
export function responseHasNoBody(method: string, status: number): boolean {
  return method === 'HEAD' || status < 200 || status === 204 || status === 304;
}

/** The hop-by-hop fields (RFC 9110 7.6.1) that never cross the proxy, and framing the proxy sets itself. */
export const HOP_BY_HOP = new Set(['connection', 'proxy-connection', 'keep-alive', 'te', 'transfer-encoding', 'upgrade', 'content-length', 'http2-settings']);
