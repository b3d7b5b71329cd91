// Property values as the engine handles them between the program and the plugin: output
// values from the SDK turned into plain, secret or unknown values; secrets stripped where
// the engine strips them (CheckConfig, Configure's `variables`) and marked again after;
// resource references turned into ids for a plugin that does not accept them; unknowns
// found; `ignoreChanges` paths reset to their old values; and, for the state file, every
// secret encrypted (AES-256-GCM under a key from the stack passphrase), as the CLI's
// passphrase secrets manager keeps a checkpoint.
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { OUTPUT_SIG, RESOURCE_SIG, SECRET_SIG, SIG_KEY, UNKNOWN_STRING } from '../../../provider/pulumi/property-values.js';
import type { Bag } from './rpc.js';

export { OUTPUT_SIG, RESOURCE_SIG, SECRET_SIG, SIG_KEY, UNKNOWN_STRING };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Whether a value is a secret wrapper. */
export function isSecret(v: unknown): v is { value: unknown } {
  return isObj(v) && v[SIG_KEY] === SECRET_SIG;
}

/** Wraps a value as a secret (once). */
export function secret(v: unknown): Obj {
  return isSecret(v) ? v : { [SIG_KEY]: SECRET_SIG, value: v };
}

/** Whether a value holds a secret anywhere inside. */
export function containsSecrets(v: unknown): boolean {
  if (isSecret(v)) return true;
  if (Array.isArray(v)) return v.some(containsSecrets);
  if (isObj(v)) return Object.values(v).some(containsSecrets);
  return false;
}

/** Whether a value holds an unknown anywhere inside. */
export function containsUnknowns(v: unknown): boolean {
  if (v === UNKNOWN_STRING) return true;
  if (isObj(v) && v[SIG_KEY] === OUTPUT_SIG) return !('value' in v) || containsUnknowns(v.value);
  if (Array.isArray(v)) return v.some(containsUnknowns);
  if (isObj(v)) return Object.values(v).some(containsUnknowns);
  return false;
}

/**
 * A value from the program as the engine keeps it: output values become their value (the
 * unknown string when they have none), wrapped as a secret when marked secret. Their
 * dependencies are returned apart (the engine's property dependencies).
 */
export function fromProgram(v: unknown, deps: Set<string> = new Set()): unknown {
  if (Array.isArray(v)) return v.map((x) => fromProgram(x, deps));
  if (!isObj(v)) return v;
  if (v[SIG_KEY] === OUTPUT_SIG) {
    for (const d of (v.dependencies as string[] | undefined) ?? []) deps.add(d);
    const inner = 'value' in v ? fromProgram(v.value, deps) : UNKNOWN_STRING;
    return v.secret === true ? secret(inner) : inner;
  }
  if (v[SIG_KEY] === SECRET_SIG) return secret(fromProgram(v.value, deps));
  if (v[SIG_KEY] === RESOURCE_SIG) return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fromProgram(x, deps)]));
}

/** A bag from the program (see fromProgram). */
export function bagFromProgram(bag: Bag): { bag: Bag; deps: Set<string> } {
  const deps = new Set<string>();
  return { bag: fromProgram(bag, deps) as Bag, deps };
}

/** Resource references replaced by the custom resource's id (or the component's URN), for a plugin that does not accept references. */
export function withoutReferences(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutReferences);
  if (!isObj(v)) return v;
  if (v[SIG_KEY] === RESOURCE_SIG) return typeof v.id === 'string' ? (v.id === '' ? UNKNOWN_STRING : v.id) : v.urn;
  if (v[SIG_KEY] === SECRET_SIG) return secret(withoutReferences(v.value));
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, withoutReferences(x)]));
}

/** Every secret wrapper removed (the engine sends CheckConfig and Configure's variables so). */
export function stripSecrets(v: unknown): unknown {
  if (isSecret(v)) return stripSecrets(v.value);
  if (Array.isArray(v)) return v.map(stripSecrets);
  if (isObj(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, stripSecrets(x)]));
  return v;
}

/** Marks secret again every top-level property of `outs` whose input held a secret (the engine's annotateSecrets). */
export function annotateSecrets(outs: Bag, ins: Bag): Bag {
  const result: Bag = { ...outs };
  for (const [k, v] of Object.entries(ins)) if (k in result && containsSecrets(v) && !containsSecrets(result[k])) result[k] = secret(result[k]);
  return result;
}

/** Deep equality of two property values. */
export function sameValue(a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(a, b);
}

/** The new inputs with every `ignoreChanges` path (`a`, `a.b`, `a[0]`) set back to its old value (processIgnoreChanges). */
export function applyIgnoreChanges(news: Bag, olds: Bag, paths: string[]): Bag {
  const result = structuredClone(news);
  for (const path of paths) {
    const keys = path.split(/\.|\[(\d+)\]/).filter((k) => k !== undefined && k !== '');
    let from: unknown = olds;
    let to: unknown = result;
    for (let i = 0; i < keys.length - 1; i++) {
      from = isObj(from) || Array.isArray(from) ? (from as Obj)[keys[i]!] : undefined;
      to = isObj(to) || Array.isArray(to) ? (to as Obj)[keys[i]!] : undefined;
    }
    const last = keys[keys.length - 1]!;
    if (!(isObj(to) || Array.isArray(to))) continue;
    const oldParent = from as Obj | undefined;
    if (oldParent && (isObj(oldParent) || Array.isArray(oldParent)) && last in oldParent) (to as Obj)[last] = structuredClone(oldParent[last]);
    else delete (to as Obj)[last];
  }
  return result;
}

/** Encrypts and decrypts the secrets of a state with a key derived from a passphrase. */
export class SecretsManager {
  readonly #key: Buffer;
  /** The salt, kept with the state (as the CLI keeps `encryptionsalt` in the stack file). */
  readonly salt: string;

  constructor(passphrase: string, salt = randomBytes(16).toString('base64')) {
    this.salt = salt;
    this.#key = scryptSync(passphrase, Buffer.from(salt, 'base64'), 32);
  }

  /** The value with every secret's content replaced by its ciphertext. */
  encrypt(v: unknown): unknown {
    if (isSecret(v)) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
      const body = Buffer.concat([cipher.update(JSON.stringify(v.value), 'utf8'), cipher.final()]);
      return { [SIG_KEY]: SECRET_SIG, ciphertext: `v1:${iv.toString('base64')}:${Buffer.concat([body, cipher.getAuthTag()]).toString('base64')}` };
    }
    if (Array.isArray(v)) return v.map((x) => this.encrypt(x));
    if (isObj(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, this.encrypt(x)]));
    return v;
  }

  /** The inverse of encrypt. */
  decrypt(v: unknown): unknown {
    if (isObj(v) && v[SIG_KEY] === SECRET_SIG && typeof v.ciphertext === 'string') {
      const [, iv, data] = v.ciphertext.split(':');
      const raw = Buffer.from(data!, 'base64');
      const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(iv!, 'base64'));
      decipher.setAuthTag(raw.subarray(raw.length - 16));
      const text = Buffer.concat([decipher.update(raw.subarray(0, raw.length - 16)), decipher.final()]).toString('utf8');
      return secret(JSON.parse(text));
    }
    if (Array.isArray(v)) return v.map((x) => this.decrypt(x));
    if (isObj(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, this.decrypt(x)]));
    return v;
  }
}
