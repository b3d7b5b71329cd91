// UpgradeResourceState's raw state is JSON as terraform stored it. Numbers are parsed
// losslessly (lossless-json hands us their text) so that a value JavaScript cannot hold
// exactly survives the round trip as a decimal string instead of being rounded.
import { parse } from 'lossless-json';
import type { Attributes, ObjectValue } from '../resources/types.js';
import { objectFromWire } from './dynamic-value.js';

/** The state object in a raw JSON state, with every attribute of the current schema (unknown ones dropped). */
export function parseRawState(attributes: Attributes, json: Uint8Array): ObjectValue {
  const raw = parse(Buffer.from(json).toString('utf8'), null, (text: string) => text);
  return objectFromWire(attributes, raw);
}
