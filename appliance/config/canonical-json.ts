// Deterministic JSON (sorted keys) and the ETags derived from it.
import { createHash } from 'node:crypto';

/** JSON text with object keys sorted, so equal values give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return v;
  });
}

/** A strong ETag of a value: the first 16 hex digits of the SHA-256 of its canonical JSON. */
export function etagOf(value: unknown): string {
  return `"${createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 16)}"`;
}

/**
 * Whether an If-Match header value is satisfied by an object's strong ETag (absent: yes), as
 * RFC 9110 13.1.1 has it: a list of entity tags, or `*` alone, with the strong comparison. A
 * weak tag (`W/"…"`) never matches, even when its opaque part is the current ETag: a weak
 * validator only claims semantic equivalence, too little to guard a write.
 */
export function ifMatchSatisfied(header: string | undefined, etag: string): boolean {
  if (header === undefined) return true;
  if (header.trim() === '*') return true;
  return header
    .split(',')
    .map((t) => t.trim())
    .some((t) => !t.startsWith('W/') && t === etag);
}
