// The request target a health check sends: the VIP's `healthCheck.path`, made a valid
// RFC 3986 path (and query) whatever the stored value holds. The contract admits only such
// paths, but a revision written before it did (or by hand) may hold any string, and a probe
// must send something rather than throw (issue 19: "/ǅ" took the process down). Both
// engines send this same target, so the embedded and the HAProxy checks agree.

/** Characters a path or query may carry as they are (RFC 3986 pchar, `/` and `?`). */
const PLAIN = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/?]$/;

/** Percent-encodes one code point as UTF-8 (a lone surrogate becomes U+FFFD). */
function encode(ch: string): string {
  let out = '';
  for (const byte of Buffer.from(ch, 'utf8')) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
}

/** The request target of a check path: kept as it is when valid, else each other character percent-encoded. */
export function checkTarget(path: string): string {
  let out = '';
  const chars = [...path];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] as string;
    if (ch === '%' && /^[0-9A-Fa-f]$/.test(chars[i + 1] ?? '') && /^[0-9A-Fa-f]$/.test(chars[i + 2] ?? '')) out += ch;
    else out += PLAIN.test(ch) ? ch : encode(ch);
  }
  return out.startsWith('/') ? out : `/${out}`;
}
