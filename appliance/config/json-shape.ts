// Limits on the shape of JSON a client sends, checked once where a body enters the appliance
// (the API's body parser) and again by the code that walks client values recursively (merge
// patch): a body nested thousands of levels deep would overflow the stack of every recursive
// walk (merge patch, canonical JSON, the contract validator, structuredClone), and a string
// holding a lone UTF-16 surrogate (`"\ud800"` is legal JSON) is not a Unicode string, so the
// certificate encoder, the engines and the peer cannot carry it.
import { ApplianceError } from '../errors.js';

/** The deepest nesting of objects and arrays a request body may have (the contract's documents need 8). */
export const MAX_JSON_DEPTH = 64;

// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g');

/** Whether a string is well-formed UTF-16 (every surrogate paired). */
export function isWellFormedString(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}

function pointerToken(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/**
 * Throws LB_VALIDATION (400) naming the field when a JSON value nests objects and arrays
 * deeper than MAX_JSON_DEPTH or holds a string (or property name) that is not well-formed
 * UTF-16. Iterative, so it cannot overflow the stack itself. `prefix` is the JSON Pointer of
 * `value` in the request body.
 */
export function checkJsonShape(value: unknown, prefix = ''): void {
  const stack: { value: unknown; pointer: string; depth: number }[] = [{ value, pointer: prefix, depth: 0 }];
  while (stack.length > 0) {
    const item = stack.pop() as { value: unknown; pointer: string; depth: number };
    const v = item.value;
    if (typeof v === 'string') {
      if (!isWellFormedString(v)) throw new ApplianceError('LB_VALIDATION', 'a string holds a lone UTF-16 surrogate (\\ud800-\\udfff without its pair) and is not valid Unicode', { field: item.pointer });
      continue;
    }
    if (typeof v !== 'object' || v === null) continue;
    if (item.depth >= MAX_JSON_DEPTH) {
      throw new ApplianceError('LB_VALIDATION', `the document nests objects and arrays deeper than ${MAX_JSON_DEPTH} levels`, { field: item.pointer });
    }
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], pointer: `${item.pointer}/${i}`, depth: item.depth + 1 });
      continue;
    }
    const entries = Object.entries(v as Record<string, unknown>);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, child] = entries[i] as [string, unknown];
      if (!isWellFormedString(key)) {
        throw new ApplianceError('LB_VALIDATION', 'a property name holds a lone UTF-16 surrogate and is not valid Unicode', { field: `${item.pointer}/${pointerToken(key.replace(LONE_SURROGATES, '\uFFFD'))}` });
      }
      stack.push({ value: child, pointer: `${item.pointer}/${pointerToken(key)}`, depth: item.depth + 1 });
    }
  }
}
