// Requests for one operation of the contract, generated from its own parameters and body
// schema with fast-check: path parameters that name an existing object, a well-formed absent
// one or hostile bytes; query strings; bodies that are valid (with hostile free text), broken
// in one place, carrying a hostile JSON fragment at any node, or not JSON at all; If-Match.
// A plan is pure data: ids of existing objects and the current ETag are markers the test
// resolves against the running appliance just before it sends the request.
import fc from 'fast-check';
import type { OperationInfo } from './contract-probe.js';
import { contentTypes, encodeSegment, garbageBodies, garbageIfMatch, hostileJson, hostileQueryValues, hostileSegments, hostileText, routableSegments, type IfMatchKind, type Noted } from './hostile-values.js';
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
export function validBodies(op: OperationInfo, fix?: BodyFix): fc.Arbitrary<unknown> {
  const schema = bodySchemaOf(op);
  if (!schema) return fc.constant(undefined);
  const base = valid(schema, { text: hostileText });
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

/** Bodies for an operation: valid, broken in one place, a hostile fragment anywhere, or garbage; with its own or a foreign media type. */
export function bodies(op: OperationInfo, fix?: BodyFix): fc.Arbitrary<PlannedBody> {
  const schema = bodySchemaOf(op) as Schema;
  const base = validBodies(op, fix);
  const own = fc.constantFrom(...op.bodyContentTypes);
  const validBody = base.map((v) => ({ text: JSON.stringify(v), note: 'a valid body' }));
  const broken = base.chain((v) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? breakages(schema, v as Record<string, unknown>).map((b) => ({ text: JSON.stringify(b.body), note: `broken in one place: ${b.how}` })) : fc.constant({ text: JSON.stringify(v), note: 'a valid body' }),
  );
  const fragment = base.chain((v) =>
    fc
      .oneof(
        { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...pointers(v)), hostileJson, fc.constant<string | undefined>(undefined)) },
        { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...pointers(v).filter((p) => isObjectAt(v, p)), ''), hostileJson, fc.constantFrom<string | undefined>('__proto__', 'constructor', 'bogus')) },
      )
      .map(([at, frag, key]) => ({
        text: placeFragment(v, at, frag.value, key),
        note: key === undefined ? `valid but ${at || 'the whole body'} is ${frag.note}` : `valid plus a property ${JSON.stringify(key)} at ${at || 'the root'} holding ${frag.note}`,
      })),
  );
  const structured = fc.oneof({ weight: 3, arbitrary: validBody }, { weight: 2, arbitrary: broken }, { weight: 4, arbitrary: fragment });
  return fc.oneof(
    { weight: 8, arbitrary: fc.tuple(structured, contentTypes(op.bodyContentTypes)).map(([b, type]) => ({ value: b.text, contentType: type, note: b.note })) },
    { weight: 2, arbitrary: fc.tuple(garbageBodies, own).map(([g, type]) => ({ value: g.value, contentType: type, note: `garbage: ${g.note}` })) },
  );
}

/** The request body limit the contract's PayloadTooLarge response states (1 MiB). */
export const BODY_LIMIT = 1024 * 1024;

/** A body over the API's limit (valid JSON, so only its size is wrong). */
export function oversizedBody(op: OperationInfo): PlannedBody {
  return { value: `{"label":"${'a'.repeat(BODY_LIMIT)}"}`, contentType: op.bodyContentTypes[0], note: `a body of ${BODY_LIMIT + 12} bytes (over the 1 MiB limit)` };
}

function segments(op: OperationInfo, existingWeight: number, routableOnly = false): fc.Arbitrary<Record<string, Segment>> {
  const hostile = routableOnly ? routableSegments : hostileSegments;
  const record: Record<string, fc.Arbitrary<Segment>> = {};
  for (const p of op.pathParams) {
    record[p.name] = fc.oneof(
      { weight: existingWeight, arbitrary: fc.constant<Segment>({ existing: true, note: `an existing ${p.name}` }) },
      { weight: 2, arbitrary: valid(p.schema).map<Segment>((v) => ({ existing: false, value: encodeSegment(String(v)), note: `a well-formed ${p.name} that may not exist` })) },
      { weight: 2, arbitrary: hostile.map<Segment>((s) => ({ existing: false, value: s.value, note: `${p.name} is ${s.note}` })) },
    );
  }
  return fc.record(record);
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

/** Requests an administrator might send to an operation, most of them hostile somewhere. */
export function plans(op: OperationInfo, fix?: BodyFix): fc.Arbitrary<RequestPlan> {
  return fc.record({
    segments: segments(op, 4),
    query: query(op),
    ifMatch: ifMatch(op),
    body: op.bodyContentTypes.length > 0 ? fc.oneof({ weight: 12, arbitrary: bodies(op, fix) }, { weight: 1, arbitrary: fc.constant(null) }) : fc.oneof({ weight: 8, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: garbageBodies.map((g) => ({ value: g.value, contentType: 'application/json', note: `a body where none is taken: ${g.note}` })) }),
  });
}

/** Requests whose content must not matter, because their credentials are refused first (no body: an oversized one). */
export function unauthenticatedPlans(op: OperationInfo): fc.Arbitrary<RequestPlan> {
  const body = op.bodyContentTypes.length > 0 ? fc.oneof(bodies(op), fc.constant(oversizedBody(op)), fc.constant(null)) : fc.oneof(fc.constant(null), garbageBodies.map((g) => ({ value: g.value, contentType: 'application/json', note: `garbage: ${g.note}` })));
  return fc.record({ segments: segments(op, 2, true), query: fc.constant({ value: '', note: 'no query' }), ifMatch: ifMatch(op), body });
}
