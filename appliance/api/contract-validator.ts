// Validators compiled from the contract (JSON Schema 2020-12, as OpenAPI 3.1 uses) with ajv:
// request parameters (coerced from strings), request bodies (defaults filled in, so stored
// objects are canonical) and responses (a response outside the contract is a bug: 500).
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { isHostName } from '../../openapi/sdk/rules.js';
import { ApplianceError, type FieldError } from '../errors.js';
import { specDocument } from '../../openapi/generated/spec.js';
import { operationTable, type OperationId } from '../../openapi/generated/operations.js';

// ajv-formats is CommonJS; its default export arrives wrapped under ESM.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (ajv: Ajv2020) => Ajv2020;

const CONTRACT_ID = 'lbappliance-contract';

type Schema = Record<string, unknown>;

function makeAjv(options: { useDefaults: boolean; coerceTypes: boolean }): Ajv2020 {
  const ajv = new Ajv2020({
    allErrors: true,
    strict: true,
    // Defaults inside unions (a certificate's `selfSigned` or null) cannot be applied; ajv
    // says so as a strict-mode warning. That one is expected; every other warning is an error.
    strictSchema: 'log',
    logger: {
      log: () => undefined,
      warn: (...args: unknown[]) => {
        if (!/default is ignored/.test(String(args[0]))) throw new Error(`contract schema: ${String(args[0])}`);
      },
      error: (...args: unknown[]) => {
        throw new Error(`contract schema: ${String(args[0])}`);
      },
    },
    strictTypes: false,
    strictRequired: false,
    allowUnionTypes: true,
    useDefaults: options.useDefaults,
    coerceTypes: options.coerceTypes,
    validateFormats: true,
  });
  addFormats(ajv);
  // One host-name rule for the appliance and the providers' plan-time checks (ajv-formats'
  // own would take `300.1.1.1` as a name).
  ajv.addFormat('hostname', isHostName);
  // The contract's own annotations on schemas (read by the generator, not by validation).
  ajv.addVocabulary(['x-lbappliance-canonical']);
  ajv.addSchema({ $id: CONTRACT_ID, $defs: rebase((specDocument.components as { schemas: Schema }).schemas) } as Schema);
  return ajv;
}

function resolveRef(node: unknown): Schema {
  let cur = node as Schema;
  while (cur && typeof cur.$ref === 'string') {
    cur = (cur.$ref as string)
      .slice(2)
      .split('/')
      .reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], specDocument) as Schema;
  }
  return cur;
}

/** Rewrites `#/components/schemas/X` refs to the `$defs` of the schema registered with ajv. */
function rebase(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(rebase);
  if (typeof schema !== 'object' || schema === null) return schema;
  return Object.fromEntries(
    Object.entries(schema).map(([k, v]) => [
      k,
      k === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/') ? `${CONTRACT_ID}#/$defs/${v.slice('#/components/schemas/'.length)}` : rebase(v),
    ]),
  );
}

function pointerEscape(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

function fieldOf(e: ErrorObject): string {
  const p = e.params as Record<string, string>;
  if (e.keyword === 'required') return `${e.instancePath}/${pointerEscape(p.missingProperty ?? '')}`;
  if (e.keyword === 'additionalProperties') return `${e.instancePath}/${pointerEscape(p.additionalProperty ?? '')}`;
  if (e.keyword === 'unevaluatedProperties') return `${e.instancePath}/${pointerEscape(p.unevaluatedProperty ?? '')}`;
  if (e.keyword === 'propertyNames') return `${e.instancePath}/${pointerEscape(p.propertyName ?? '')}`;
  return e.instancePath;
}

function messageOf(e: ErrorObject, all: ErrorObject[]): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return 'is required';
    case 'additionalProperties':
    case 'unevaluatedProperties':
      return 'is not a known property';
    case 'enum':
      return `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'anyOf':
    case 'oneOf': {
      const formats = all.filter((x) => x.keyword === 'format' && x.instancePath === e.instancePath).map((x) => (x.params as { format: string }).format);
      if (formats.length > 0) return `must be ${[...new Set(formats)].map((f) => (f === 'ipv4' ? 'an IPv4 address' : f === 'ipv6' ? 'an IPv6 address' : `a ${f}`)).join(' or ')}`;
      return e.keyword === 'oneOf' ? 'does not match exactly one allowed form' : 'does not match any allowed form';
    }
    default:
      return e.message ?? 'is invalid';
  }
}

/**
 * Turns ajv errors into field errors, keeping the most telling one per field: a union's
 * summary replaces its branches' errors, and a `type: null` branch is never the message.
 */
export function describeErrors(errors: ErrorObject[], prefix = ''): FieldError[] {
  const unionPaths = new Set(errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf').map((e) => e.instancePath));
  const byField = new Map<string, string>();
  for (const e of errors) {
    if (e.keyword === 'if' || e.keyword === 'not') continue;
    const insideUnion = unionPaths.has(e.instancePath) && e.keyword !== 'anyOf' && e.keyword !== 'oneOf';
    if (insideUnion) {
      // A branch's own complaint is more precise than "matches no form" when it is not a type/format mismatch.
      const telling = !['type', 'format', 'const'].includes(e.keyword);
      if (telling) byField.set(prefix + fieldOf(e), messageOf(e, errors));
      continue;
    }
    const field = prefix + fieldOf(e);
    if (!byField.has(field)) byField.set(field, messageOf(e, errors));
  }
  return [...byField.entries()].map(([field, message]) => ({ field, message }));
}

/** A LB_VALIDATION error from ajv errors. */
export function validationError(errors: ErrorObject[], prefix = '', what = 'request body'): ApplianceError {
  const list = describeErrors(errors, prefix);
  const first = list[0] ?? { field: prefix, message: 'is invalid' };
  const detail = `${what}: ${list.map((e) => `${e.field || '(root)'} ${e.message}`).join('; ')}`;
  return new ApplianceError('LB_VALIDATION', detail, { field: first.field, errors: list });
}

interface ParamValidators {
  path: ValidateFunction | null;
  query: ValidateFunction | null;
  header: ValidateFunction | null;
}

/** Validators for every operation of the contract, each compiled on first use. */
export class ContractValidator {
  readonly #bodyAjv = makeAjv({ useDefaults: true, coerceTypes: false });
  readonly #paramAjv = makeAjv({ useDefaults: true, coerceTypes: true });
  readonly #responseAjv = makeAjv({ useDefaults: false, coerceTypes: false });
  readonly #cache = new Map<string, ValidateFunction | null>();

  #operation(id: OperationId): { params: Schema[]; operation: Schema } {
    const op = operationTable[id];
    const item = (specDocument.paths as Record<string, Record<string, Schema>>)[op.path] ?? {};
    const operation = item[op.method.toLowerCase()] ?? {};
    const params = [...((item.parameters as unknown as unknown[]) ?? []), ...((operation.parameters as unknown as unknown[]) ?? [])].map(resolveRef);
    return { params, operation };
  }

  #memo(key: string, build: () => ValidateFunction | null): ValidateFunction | null {
    if (!this.#cache.has(key)) this.#cache.set(key, build());
    return this.#cache.get(key) ?? null;
  }

  #paramValidator(id: OperationId, where: 'path' | 'query' | 'header'): ValidateFunction | null {
    return this.#memo(`${id} params ${where}`, () => {
      const list = this.#operation(id).params.filter((p) => p.in === where);
      if (list.length === 0) return null;
      const name = (p: Schema) => (where === 'header' ? String(p.name).toLowerCase() : String(p.name));
      return this.#paramAjv.compile({
        type: 'object',
        properties: Object.fromEntries(list.map((p) => [name(p), rebase(p.schema)])),
        required: list.filter((p) => p.required).map(name),
        additionalProperties: where === 'query' ? false : true,
      });
    });
  }

  /** Validates and coerces an operation's path, query and header parameters (in place). */
  params(id: OperationId, input: { path: Record<string, unknown>; query: Record<string, unknown>; header: Record<string, unknown> }): void {
    for (const where of ['path', 'query', 'header'] as const) {
      const fn = this.#paramValidator(id, where);
      if (fn && !fn(input[where])) {
        const list = describeErrors(fn.errors ?? []).map((e) => ({ field: e.field.replace(/^\//, ''), message: e.message }));
        const first = list[0] ?? { field: where, message: 'is invalid' };
        throw new ApplianceError('LB_VALIDATION', `${where} parameter ${first.field} ${first.message}`, { field: first.field, errors: list });
      }
    }
  }

  /** Validates a request body for an operation and media type, filling defaults in place. */
  body(id: OperationId, contentType: string, body: unknown): void {
    const fn = this.#memo(`${id} body ${contentType}`, () => {
      const body = this.#operation(id).operation.requestBody;
      const media = body ? (resolveRef(body).content as Record<string, Schema> | undefined)?.[contentType] : undefined;
      return media ? this.#bodyAjv.compile(rebase(media.schema) as Schema) : null;
    });
    if (fn && !fn(body)) throw validationError(fn.errors ?? []);
  }

  /** Validates (filling defaults) a value against a named component schema. */
  schema(name: string, value: unknown, prefix = ''): void {
    const fn = this.#memo(`schema ${name}`, () => this.#bodyAjv.compile({ $ref: `${CONTRACT_ID}#/$defs/${name}` }));
    if (fn && !fn(value)) throw validationError(fn.errors ?? [], prefix);
  }

  /** Compiles every validator now (tests use it to find a schema ajv cannot compile). */
  compileAll(): number {
    let count = 0;
    for (const id of Object.keys(operationTable) as OperationId[]) {
      const op = operationTable[id];
      for (const where of ['path', 'query', 'header'] as const) if (this.#paramValidator(id, where)) count++;
      for (const type of op.bodyContentTypes) {
        try {
          this.body(id, type, null);
        } catch {
          // null is not a valid body; compiling is what counts
        }
        count++;
      }
      const responses = (this.#operation(id).operation.responses ?? {}) as unknown as Record<string, unknown>;
      for (const [status, res] of Object.entries(responses)) {
        for (const type of Object.keys((resolveRef(res).content as Record<string, unknown>) ?? {})) {
          this.responseErrors(id, Number(status), type, null);
          count++;
        }
      }
    }
    for (const name of Object.keys((specDocument.components as { schemas: Schema }).schemas)) {
      try {
        this.schema(name, null);
      } catch {
        // null is not a valid value of most schemas; compiling is what counts
      }
      count++;
    }
    return count;
  }

  #responseSchema(id: OperationId, status: number): Schema | null {
    const responses = (this.#operation(id).operation.responses ?? {}) as unknown as Record<string, unknown>;
    const res = responses[String(status)];
    return res ? resolveRef(res) : null;
  }

  /** Errors of a response body against the contract, or null when it conforms. */
  responseErrors(id: OperationId, status: number, contentType: string, body: unknown): FieldError[] | null {
    const declared = this.#responseSchema(id, status);
    if (!declared) return [{ field: '', message: `status ${status} is not in the contract of ${id}` }];
    const content = declared.content as Record<string, Schema> | undefined;
    if (!content) return body === undefined || body === null || body === '' ? null : [{ field: '', message: `status ${status} of ${id} has no body` }];
    const media = content[contentType];
    if (!media) return [{ field: '', message: `status ${status} of ${id} is not ${contentType}` }];
    const fn = this.#memo(`${id} response ${status} ${contentType}`, () => this.#responseAjv.compile(rebase(media.schema) as Schema));
    return !fn || fn(body) ? null : describeErrors(fn.errors ?? []);
  }
}
