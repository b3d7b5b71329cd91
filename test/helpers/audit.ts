// Reading the audit log in tests: every entry page by page, and the check that each accepted
// configuration write's entry is exactly the diff from revision N-1 to revision N.
import jsonPatch from 'fast-json-patch';
import { expect } from 'vitest';
import type { ApplianceClient } from '../../openapi/sdk/index.js';

/** One audit entry as the API serves it. */
export type Entry = Awaited<ReturnType<ApplianceClient['listAuditEntries']>>['items'][number];

/** Every audit entry, oldest first, read page by page with `before`. */
export async function allEntries(client: ApplianceClient, limit = 1000): Promise<Entry[]> {
  const out: Entry[] = [];
  let before: number | undefined;
  for (;;) {
    const { items } = await client.listAuditEntries({ query: before === undefined ? { limit } : { limit, before } });
    out.push(...items);
    if (items.length < limit) break;
    before = (items[items.length - 1] as Entry).seq;
  }
  return out.reverse();
}

/**
 * Checks that every accepted configuration write's entry, applied as a JSON Patch to
 * revision N-1 as the API serves it, gives revision N, and is exactly the diff between the
 * two, for every revision above `from` (documents without secrets: nothing is redacted).
 */
export async function expectExactDiffs(client: ApplianceClient, from: number): Promise<number> {
  const entries = (await allEntries(client)).filter((e) => e.revision !== null && e.revision !== undefined && e.revision > from && e.changes);
  const current = (await client.listRevisions()).current;
  expect(entries.map((e) => e.revision)).toEqual(Array.from({ length: current - from }, (_, i) => from + 1 + i));
  const doc = async (n: number) => ({ ...(await client.getRevision(n)), revision: 0 });
  for (const entry of entries) {
    const n = entry.revision as number;
    const [before, after] = await Promise.all([doc(n - 1), doc(n)]);
    const applied = jsonPatch.applyPatch(structuredClone(before), entry.changes as jsonPatch.Operation[], true, false).newDocument;
    expect({ revision: n, doc: applied }).toEqual({ revision: n, doc: after });
    // Exactly that diff: no operation that merely restates a value another write set.
    expect({ revision: n, changes: entry.changes }).toEqual({ revision: n, changes: jsonPatch.compare(before, after) });
  }
  return entries.length;
}
