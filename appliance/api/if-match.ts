// If-Match as RFC 9110 (13.1.1) has it: a list of entity tags, or `*`, matched with the strong
// comparison. A weak tag (`W/"…"`) never matches, even when its opaque part is the current
// ETag: a weak validator only claims semantic equivalence, too little to guard a write.
// (The config package's ifMatchSatisfied strips `W/`; the API uses this one.)

/** Whether an If-Match header value is satisfied by an object's strong ETag (absent: yes). */
export function ifMatchStrong(header: string | undefined, etag: string): boolean {
  if (header === undefined) return true;
  if (header.trim() === '*') return true;
  return header
    .split(',')
    .map((t) => t.trim())
    .some((t) => !t.startsWith('W/') && t === etag);
}
