// The malformed request shapes of the hostile suites (hostile.test.ts against a node HTTP
// server, hostile-fields.test.ts against a raw recorder), in one place so both send the same.

/** Malformed requests, by what is wrong with them. */
export const HOSTILE: Record<string, string> = {
  'Content-Length with Transfer-Encoding (CL.TE)': 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
  'Transfer-Encoding with Content-Length (TE.CL)': 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n',
  'two Content-Length values': 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde',
  'two equal Content-Length fields': 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 4\r\n\r\nabcd',
  'signed Content-Length': 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +4\r\n\r\nabcd',
  'obs-fold': 'GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n',
  'obs-fold hiding Transfer-Encoding': 'POST / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc',
  'space before the colon': 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n',
  'chunked twice': 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
  'chunked, identity': 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n',
  'xchunked': 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n',
  'Transfer-Encoding in HTTP/1.0': 'POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
  'bad chunk size': 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n',
  'chunk longer than its size': 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n',
  'chunk size with LF only': 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n',
  'bare LF line ends': 'GET / HTTP/1.1\nHost: a\n\n',
  'bare CR in a field': 'GET / HTTP/1.1\r\nHost: a\r\nX-A: b\rc\r\n\r\n',
  'NUL in a field': 'GET / HTTP/1.1\r\nHost: a\r\nX-A: b\0c\r\n\r\n',
  'two Host fields': 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n',
  'no Host in HTTP/1.1': 'GET / HTTP/1.1\r\n\r\n',
  'malformed request line': 'GET  / HTTP/1.1\r\nHost: a\r\n\r\n',
  'HTTP/2 preface on an HTTP/1.1 VIP': 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
};

// HAProxy's HTTP/1.1 parser normalises these shapes instead of refusing them, as RFC 9112
// allows (Transfer-Encoding overrides Content-Length and the connection closes after the
// response; identical Content-Length fields merge; obs-fold becomes a space; a bare LF ends a
// line; ...). On that engine the suite checks what matters for smuggling: at most the one
// request reaches the server, never a second one hidden in it; hostile-fields.test.ts checks
// that request at the server, byte for byte. README of the HAProxy engine.
/** The shapes the HAProxy engine normalises instead of refusing (its README). */
export const NORMALISED_BY_HAPROXY = new Set([
  'Content-Length with Transfer-Encoding (CL.TE)',
  'Transfer-Encoding with Content-Length (TE.CL)',
  'two equal Content-Length fields',
  'obs-fold',
  'obs-fold hiding Transfer-Encoding',
  'chunk size with LF only',
  'bare LF line ends',
  'malformed request line',
]);
