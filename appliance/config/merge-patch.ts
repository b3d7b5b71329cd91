// RFC 7396 JSON merge patch. The algorithm is the RFC's own ten lines; a dependency would
// be larger than the code it replaces. The walk is recursive, so a patch is first checked
// (iteratively) to nest no deeper than MAX_JSON_DEPTH: a client's patch cannot overflow the stack.
import { checkJsonShape } from './json-shape.js';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function merge(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const result: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = merge(result[key], value);
  }
  return result;
}

/**
 * Applies an RFC 7396 merge patch to a target, returning a new value (inputs unchanged).
 * Throws LB_VALIDATION naming the field when the patch nests too deep or holds a string that
 * is not valid Unicode.
 */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  checkJsonShape(patch);
  return merge(target, patch);
}
