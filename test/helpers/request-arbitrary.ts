// Requests for one operation of the contract, generated from its own parameters and body
// schema with fast-check: path parameters that name an existing object, a well-formed absent
// one or hostile bytes; query strings; bodies that are valid (with hostile free text), broken
// in one place, carrying a hostile JSON fragment at any node, or not JSON at all; If-Match.
// A plan is pure data: ids of existing objects and the current ETag are markers the test
// resolves against the running appliance just before it sends the request.
import fc from 'fast-check';
import type { OperationInfo } from './contract-probe.js';
import { deepNesting, foreignContentTypes, encodeSegment, garbageBodies, garbageIfMatch, hostileQueryValues, hostileSegments, hostileStrings, hostileText, prototypeKeys, routableSegments, routerBreakingSegments, wrongTypes, type IfMatchKind, type Noted } from './hostile-values.js';
import { breakages, valid, type Schema } from './schema-arbitrary.js';

/** A path segment: an existing object's id (resolved at send time) or a raw segment. */
export type Segment = { existing: true; note: string } | { existing: false; value: string; note: string };

/** A body and its media type (undefined: no Content-Type header). */
export interface PlannedBody {
  value: string | Buffer;
  contentType: string | undefined;
  note: string;
}

/** Everything about a request except the credentials. */
export interface RequestPlan {
  segments: Record<string, Segment>;
  query: Noted<string>;
  ifMatch: { kind: 'none' } | { kind: 'value'; value: string } | { kind: IfMatchKind };
  body: PlannedBody | null;
}

/** Adjusts a generated valid body so it is safe to send to the appliance under test (see the test for each). */
export type BodyFix = (body: unknown) => unknown;

/** The schema a valid body of an operation is drawn from (a merge patch: its resource with nothing required). */
export function bodySchemaOf(op: OperationInfo): Schema | null {
  if (op.patchOf) return { $ref: `#/components/schemas/${op.patchOf}`, required: [] };
  return op.bodySchema;
}

/** Valid bodies of an operation, free text made hostile. */
export function validBodies(op: OperationInfo, fix?: BodyFix, complete = false): fc.Arbitrary<unknown> {
  const schema = bodySchemaOf(op);
  if (!schema) return fc.constant(undefined);
  const base = valid(schema, { text: hostileText, complete });
  return fix ? base.map(fix) : base;
}

/** JSON Pointers of every node of a value (the root included), down to a depth. */
export function pointers(value: unknown, depth = 6, prefix = ''): string[] {
  const out = [prefix];
  if (depth === 0 || value === null || typeof value !== 'object') return out;
  for (const [k, v] of Object.entries(value)) out.push(...pointers(v, depth - 1, `${prefix}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`));
  return out;
}

function isObjectAt(value: unknown, pointer: string): boolean {
  let node = value;
  for (const seg of pointer === '' ? [] : pointer.slice(1).split('/')) node = (node as Record<string, unknown>)[seg.replace(/~1/g, '/').replace(/~0/g, '~')];
  return node !== null && typeof node === 'object' && !Array.isArray(node);
}

const SENTINEL = '\u0001fuzz-fragment\u0001';
const SENTINEL_KEY = '\u0001fuzz-key\u0001';

function swap(text: string, marker: string, raw: string): string {
  const quoted = JSON.stringify(marker);
  const at = text.indexOf(quoted);
  return at < 0 ? text : text.slice(0, at) + raw + text.slice(at + quoted.length);
}

/** JSON text of a value with the node at a pointer replaced by a raw fragment (or, with `key`, a property added there). */
export function placeFragment(value: unknown, pointer: string, fragment: string, key?: string): string {
  if (pointer === '' && key === undefined) return fragment;
  const copy = structuredClone(value) as Record<string, unknown>;
  const path = pointer === '' ? [] : pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  let node: Record<string, unknown> = copy;
  for (const seg of key === undefined ? path.slice(0, -1) : path) node = node[seg] as Record<string, unknown>;
  if (key === undefined) node[path[path.length - 1] as string] = SENTINEL;
  else if (node !== null && typeof node === 'object' && !Array.isArray(node)) node[SENTINEL_KEY] = SENTINEL;
  else return fragment;
  const text = JSON.stringify(copy);
  return swap(key === undefined ? text : swap(text, SENTINEL_KEY, JSON.stringify(key)), SENTINEL, fragment);
}

/** The kinds of body the fuzzer sends; each is tried on every operation that takes a body. */
export type BodyKind = 'valid' | 'complete' | 'broken' | 'wrong-type' | 'deep' | 'prototype' | 'strings' | 'garbage';

function fragments(base: fc.Arbitrary<unknown>, values: fc.Arbitrary<Noted<string>>, keys: (string | undefined)[]): fc.Arbitrary<{ text: string; note: string }> {
  return base.chain((v) => {
    const at = keys.every((k) => k === undefined) ? pointers(v) : [...pointers(v).filter((p) => isObjectAt(v, p)), ''];
    return fc.tuple(fc.constantFrom(...at), values, fc.constantFrom(...keys)).map(([where, frag, key]) => ({
      text: placeFragment(v, where, frag.value, key),
      note: key === undefined ? `valid but ${where || 'the whole body'} is ${frag.note}` : `valid plus a property ${JSON.stringify(key)} at ${where || 'the root'} holding ${frag.note}`,
    }));
  });
}

/** Bodies of one kind for an operation, in its own media type (garbage: also in foreign ones). */
export function bodies(op: OperationInfo, kind: BodyKind, fix?: BodyFix): fc.Arbitrary<PlannedBody> {
  const schema = bodySchemaOf(op) as Schema;
  const some = validBodies(op, fix);
  const complete = validBodies(op, fix, true);
  const own = fc.constantFrom(...op.bodyContentTypes);
  let structured: fc.Arbitrary<{ text: string; note: string }>;
  switch (kind) {
    case 'valid':
      structured = some.map((v) => ({ text: JSON.stringify(v), note: 'a valid body' }));
      break;
    case 'complete':
      structured = complete.map((v) => ({ text: JSON.stringify(v), note: 'a valid body with every optional property' }));
      break;
    case 'broken':
      structured = complete.chain((v) =>
        v !== null && typeof v === 'object' && !Array.isArray(v)
          ? breakages(schema, v as Record<string, unknown>).map((b) => ({ text: JSON.stringify(b.body), note: `broken in one place: ${b.how}` }))
          : fc.constant({ text: JSON.stringify(v), note: 'a valid body' }),
      );
      break;
    case 'wrong-type':
      structured = fragments(complete, wrongTypes, [undefined]);
      break;
    case 'deep':
      structured = fragments(complete, deepNesting, [undefined, undefined, 'bogus']);
      break;
    case 'prototype':
      structured = fragments(complete, prototypeKeys, [undefined, '__proto__', 'constructor']);
      break;
    case 'strings':
      structured = fragments(complete, hostileStrings, [undefined]);
      break;
    case 'garbage':
      return fc.oneof(
        fc.tuple(garbageBodies, own).map(([g, type]) => ({ value: g.value, contentType: type, note: `garbage: ${g.note}` })),
        fc.tuple(complete, foreignContentTypes).map(([v, type]) => ({ value: JSON.stringify(v), contentType: type, note: 'a valid body in a foreign media type' })),
      );
  }
  return fc.tuple(structured, own).map(([b, type]) => ({ value: b.text, contentType: type, note: b.note }));
}

/** The request body limit the contract's PayloadTooLarge response states (1 MiB). */
export const BODY_LIMIT = 1024 * 1024;

/** A body over the API's limit (valid JSON, so only its size is wrong). */
export function oversizedBody(op: OperationInfo): PlannedBody {
  return { value: `{"label":"${'a'.repeat(BODY_LIMIT)}"}`, contentType: op.bodyContentTypes[0], note: `a body of ${BODY_LIMIT + 12} bytes (over the 1 MiB limit)` };
}

function segments(op: OperationInfo, existingWeight: number, routableOnly = false, existingOnly = false): fc.Arbitrary<Record<string, Segment>> {
  const hostile = routableOnly ? routableSegments : hostileSegments;
  const record: Record<string, fc.Arbitrary<Segment>> = {};
  for (const p of op.pathParams) {
    if (existingOnly) {
      record[p.name] = fc.constant<Segment>({ existing: true, note: `an existing ${p.name}` });
      continue;
    }
    record[p.name] = fc.oneof(
      { weight: existingWeight, arbitrary: fc.constant<Segment>({ existing: true, note: `an existing ${p.name}` }) },
      { weight: 2, arbitrary: valid(p.schema).map<Segment>((v) => ({ existing: false, value: encodeSegment(String(v)), note: `a well-formed ${p.name} that may not exist` })) },
      { weight: 2, arbitrary: hostile.map<Segment>((s) => ({ existing: false, value: s.value, note: `${p.name} is ${s.note}` })) },
    );
  }
  return fc.record(record);
}

/** Every path parameter existing but one, which is well-formed (null) or hostile. */
function oneHostile(op: OperationInfo, hostile: fc.Arbitrary<Noted<string> | null>): fc.Arbitrary<Record<string, Segment>> {
  return fc.tuple(fc.constantFrom(...op.pathParams), hostile).chain(([victim, h]) => {
    const record: Record<string, fc.Arbitrary<Segment>> = {};
    for (const p of op.pathParams) {
      if (p !== victim) record[p.name] = fc.constant<Segment>({ existing: true, note: `an existing ${p.name}` });
      else if (h) record[p.name] = fc.constant<Segment>({ existing: false, value: h.value, note: `${p.name} is ${h.note}` });
      else record[p.name] = valid(p.schema).map<Segment>((v) => ({ existing: false, value: encodeSegment(String(v)), note: `a well-formed ${p.name} that may not exist` }));
    }
    return fc.record(record);
  });
}

function query(op: OperationInfo): fc.Arbitrary<Noted<string>> {
  const parts = op.queryParams.map((p) =>
    fc.option(
      fc.oneof(
        valid(p.schema).map((v) => ({ value: `${p.name}=${encodeSegment(String(v))}`, note: `${p.name} valid` })),
        hostileQueryValues.map((h) => ({ value: `${p.name}=${h.value}`, note: `${p.name} ${h.note}` })),
      ),
      { freq: 2 },
    ),
  );
  const extra = fc.oneof(
    { weight: 6, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.constantFrom<Noted<string>>({ value: 'colour=red', note: 'an unknown parameter' }, { value: 'limit=1&limit=2', note: 'a repeated parameter' }, { value: '__proto__[x]=1', note: 'a __proto__ parameter' }) },
  );
  return fc.tuple(fc.tuple(...parts), extra).map(([given, more]) => {
    const all = [...given, more].filter((x): x is Noted<string> => x !== null);
    return { value: all.length ? `?${all.map((a) => a.value).join('&')}` : '', note: all.length ? all.map((a) => a.note).join(', ') : 'no query' };
  });
}

function ifMatch(op: OperationInfo): fc.Arbitrary<RequestPlan['ifMatch']> {
  if (!op.ifMatch) return fc.constant({ kind: 'none' as const });
  return fc.oneof(
    { weight: 6, arbitrary: fc.constant({ kind: 'none' as const }) },
    { weight: 1, arbitrary: fc.constantFrom<IfMatchKind>('weak-of-current', 'stale').map((kind) => ({ kind })) },
    { weight: 1, arbitrary: garbageIfMatch.map((value) => ({ kind: 'value' as const, value })) },
  );
}

/** One stratum of requests: what is hostile in them, and how many of them to send. */
export interface Stratum {
  name: string;
  runs: number;
  plans: fc.Arbitrary<RequestPlan>;
}

const cleanQuery = fc.constant<Noted<string>>({ value: '', note: 'no query' });
const noIfMatch = fc.constant<RequestPlan['ifMatch']>({ kind: 'none' });

/**
 * Requests an administrator might send to an operation, in strata: one per kind of body
 * (on an existing object, so the body is what is judged), then hostile path parameters,
 * query strings and If-Match. Stratifying makes every kind of hostility reach every
 * operation within a small, fixed number of runs.
 */
export function strata(op: OperationInfo, fix?: BodyFix, scale = 1): Stratum[] {
  const onExisting = segments(op, 1, false, true);
  const validBody = op.bodyContentTypes.length > 0 ? bodies(op, 'valid', fix) : fc.constant(null);
  const out: Stratum[] = [];
  const add = (name: string, runs: number, plan: { segments?: fc.Arbitrary<Record<string, Segment>>; query?: fc.Arbitrary<Noted<string>>; ifMatch?: fc.Arbitrary<RequestPlan['ifMatch']>; body?: fc.Arbitrary<PlannedBody | null> }) =>
    out.push({ name, runs: Math.max(1, Math.round(runs * scale)), plans: fc.record({ segments: plan.segments ?? onExisting, query: plan.query ?? cleanQuery, ifMatch: plan.ifMatch ?? noIfMatch, body: plan.body ?? validBody }) });
  if (op.bodyContentTypes.length > 0) {
    const runs: Record<BodyKind, number> = { valid: 4, complete: 4, broken: 4, 'wrong-type': 4, deep: 3, prototype: 3, strings: 4, garbage: 3 };
    for (const kind of Object.keys(runs) as BodyKind[]) add(`body: ${kind}`, runs[kind], { body: bodies(op, kind, fix) });
  } else {
    add('no body', 3, { body: fc.constant(null) });
    add('a body where none is taken', 3, { body: garbageBodies.map((g) => ({ value: g.value, contentType: 'application/json', note: `a body where none is taken: ${g.note}` })) });
  }
  if (op.pathParams.length > 0) {
    add('path: a well-formed id that may not exist', 2, { segments: oneHostile(op, fc.constant(null)) });
    add('path: an id the router chokes on', 3, { segments: oneHostile(op, routerBreakingSegments) });
    add('path: a hostile id', 4, { segments: oneHostile(op, routableSegments) });
  }
  if (op.queryParams.length > 0) add('query', 4, { query: query(op) });
  if (op.ifMatch) add('If-Match', 3, { ifMatch: ifMatch(op).filter((m) => m.kind !== 'none') });
  return out;
}

/** Requests whose content must not matter, because their credentials are refused first (no body: an oversized one). */
export function unauthenticatedPlans(op: OperationInfo): fc.Arbitrary<RequestPlan> {
  const kinds: BodyKind[] = ['valid', 'broken', 'deep', 'prototype', 'strings', 'garbage'];
  const body = op.bodyContentTypes.length > 0 ? fc.oneof(...kinds.map((k) => bodies(op, k)), fc.constant(oversizedBody(op)), fc.constant(null)) : fc.oneof(fc.constant(null), garbageBodies.map((g) => ({ value: g.value, contentType: 'application/json', note: `garbage: ${g.note}` })));
  return fc.record({ segments: segments(op, 2, true), query: fc.constant({ value: '', note: 'no query' }), ifMatch: ifMatch(op), body });
}
