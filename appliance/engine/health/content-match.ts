// What a check reads of an answer and how it matches it: at most BODY_LIMIT bytes (what
// HAProxy's check buffer holds, so both engines see the same bytes), matched as a substring
// or as a regular expression on V8's linear-time engine (openapi/sdk/rules.ts refuses a
// pattern that engine cannot run, before it is stored).
import { linearRegExp } from '../../../openapi/sdk/rules.js';

/** The most of an answer a check reads. */
export const BODY_LIMIT = 16384;

/** A body match as the contract's BodyMatch says it. */
export interface BodyMatchSettings {
  kind: 'none' | 'substring' | 'regex';
  value: string;
}

/** A compiled matcher of the bytes read so far; null when the body is not looked at. */
export function bodyMatcher(m: BodyMatchSettings): ((body: Buffer) => boolean) | null {
  if (m.kind === 'none') return null;
  if (m.kind === 'substring') {
    const needle = Buffer.from(m.value, 'utf8');
    return (body) => body.includes(needle);
  }
  const re = linearRegExp(m.value);
  return (body) => re.test(body.toString('utf8'));
}

/** How a match is named in a check's detail. */
export function describeMatch(m: BodyMatchSettings): string {
  const shown = m.value.length > 60 ? `${m.value.slice(0, 57)}...` : m.value;
  return m.kind === 'regex' ? `/${shown}/` : JSON.stringify(shown);
}
