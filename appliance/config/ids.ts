// Object ids: a kind prefix and 12 random hex digits (48 bits), as the contract's patterns say.
import { randomBytes } from 'node:crypto';

/** The id prefixes of the configuration object kinds. */
export type IdKind = 'vs' | 'rs' | 'cert' | 'syslog';

/** A new id of the kind that is not among `taken`. */
export function newId(kind: IdKind, taken: Record<string, unknown>): string {
  for (;;) {
    const id = `${kind}-${randomBytes(6).toString('hex')}`;
    if (!(id in taken)) return id;
  }
}
