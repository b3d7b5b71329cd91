// Diff for any definition: the checked inputs against the last state (so out-of-band
// changes found by a refresh show as changes to undo), attribute by attribute, into nested
// objects, with the kind of each change and whether it replaces the object.
//
// Rules, the same as the Terraform adapter's plan: an optional value the appliance chooses
// (no default) that the program leaves unset is not a change; write-only values (keys,
// passwords) are not compared, since the appliance cannot say what it holds; change
// `privateKeyVersion` to send a key again. An unknown input is a change.
import type { Attribute, Attributes, ObjectValue, PathStep, Value } from '../resources/types.js';
import { UNKNOWN } from '../resources/types.js';
import { valuesEqual } from '../resources/values.js';
import { isInput, propertyPath, propertyName, RESERVED } from './properties.js';

/** The kinds of pulumirpc.PropertyDiff (same numbers). */
export const DiffKind = { ADD: 0, ADD_REPLACE: 1, DELETE: 2, DELETE_REPLACE: 3, UPDATE: 4, UPDATE_REPLACE: 5 } as const;
/** One of {@link DiffKind}. */
export type DiffKindValue = (typeof DiffKind)[keyof typeof DiffKind];

/** A changed property: its path in Pulumi syntax and the kind of change. */
export interface PropertyChange {
  path: string;
  kind: DiffKindValue;
}

/** What Diff answers, before it becomes a DiffResponse. */
export interface DiffResult {
  changes: PropertyChange[];
  /** Top-level properties whose change replaces the object. */
  replaces: string[];
  /** Top-level properties whose changes were found. */
  diffs: string[];
  /** Output properties that keep their value through this change. */
  stables: string[];
}

function isObject(v: Value | undefined): v is ObjectValue {
  return v !== null && v !== undefined && v !== UNKNOWN && typeof v === 'object' && !Array.isArray(v);
}

function kindOf(oldV: Value, newV: Value, replace: boolean): DiffKindValue {
  if (oldV === null) return replace ? DiffKind.ADD_REPLACE : DiffKind.ADD;
  if (newV === null) return replace ? DiffKind.DELETE_REPLACE : DiffKind.DELETE;
  return replace ? DiffKind.UPDATE_REPLACE : DiffKind.UPDATE;
}

function ignored(path: string, ignore: readonly string[]): boolean {
  return ignore.some((p) => path === p || path.startsWith(`${p}.`) || path.startsWith(`${p}[`));
}

function diffAttribute(attr: Attribute, oldV: Value, newV: Value, path: PathStep[], replace: boolean, ignore: readonly string[], out: PropertyChange[]): void {
  if (attr.writeOnly || !isInput(attr)) return;
  if (newV === null && attr.computed) return;
  const text = propertyPath(path);
  if (ignored(text, ignore)) return;
  const replaces = replace || !!attr.replaceOnChange;
  if (attr.type.kind === 'object' && isObject(oldV) && isObject(newV)) {
    for (const [name, sub] of Object.entries(attr.type.attributes)) diffAttribute(sub, oldV[name] ?? null, newV[name] ?? null, [...path, name], replaces, ignore, out);
    return;
  }
  if (newV === UNKNOWN || !valuesEqual(oldV, newV)) out.push({ path: text, kind: kindOf(oldV, newV, replaces) });
}

/**
 * Compares checked inputs (`news`, defaults filled) with the last state (`olds`), both
 * definition values. `ignoreChanges` holds property paths the program asked to ignore.
 */
export function diffObject(attributes: Attributes, olds: ObjectValue, news: ObjectValue, ignoreChanges: readonly string[] = []): DiffResult {
  const changes: PropertyChange[] = [];
  for (const [name, attr] of Object.entries(attributes)) {
    if (RESERVED.has(name)) continue;
    diffAttribute(attr, olds[name] ?? null, news[name] ?? null, [name], false, ignoreChanges, changes);
  }
  const top = (p: string) => p.split(/[.[]/)[0]!;
  const replacing = new Set(changes.filter((c) => c.kind === DiffKind.ADD_REPLACE || c.kind === DiffKind.DELETE_REPLACE || c.kind === DiffKind.UPDATE_REPLACE).map((c) => top(c.path)));
  const diffs = [...new Set(changes.map((c) => top(c.path)))];
  const stables: string[] = [];
  if (replacing.size === 0) {
    for (const [name, attr] of Object.entries(attributes)) {
      if (RESERVED.has(name) || isInput(attr)) continue;
      if (!attr.volatile || changes.length === 0) stables.push(propertyName(name));
    }
  }
  return { changes, replaces: [...replacing], diffs, stables };
}
