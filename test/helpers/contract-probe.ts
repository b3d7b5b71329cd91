// Sends one raw HTTP request to a test appliance and judges the answer by the contract alone:
// no 500 (nor a 5xx the operation does not declare), a problem document for every error, a
// status the operation declares, every 2xx body valid against its schema. Raw means undici's
// dispatcher with the path sent byte for byte (no URL normalisation), or a bare TLS socket
// for what no HTTP client would send. A verdict names the operation and shows the request and
// the response, so a developer can replay it.
import { connect } from 'node:tls';
import { Agent, type Dispatcher } from 'undici';
import { ContractValidator } from '../../appliance/api/contract-validator.js';
import { errorCatalogue } from '../../appliance/errors.js';
import { operationTable, type OperationId } from '../../openapi/generated/operations.js';
import { specDocument } from '../../openapi/generated/spec.js';
import { resolve, type Schema } from './schema-arbitrary.js';

/** One operation of the contract, with what the generators and the oracle need. */
export interface OperationInfo {
  id: OperationId;
  method: string;
  path: string;
  auth: boolean;
  peerAuth: boolean;
  write: 'cluster' | 'node' | null;
  pathParams: { name: string; schema: Schema }[];
  queryParams: { name: string; schema: Schema }[];
  ifMatch: boolean;
  bodyContentTypes: string[];
  /** The request body schema (of application/json, else the first media type). */
  bodySchema: Schema | null;
  /** `x-lbappliance-patch-of`: the schema a merge patch body is a partial of. */
  patchOf: string | null;
  /** Every status the contract declares for it. */
  declared: Set<number>;
}

/** Every operation of the contract, from the generated table and the spec. */
export const operations: OperationInfo[] = (Object.keys(operationTable) as OperationId[]).map((id) => {
  const op = operationTable[id];
  const item = (specDocument.paths as Record<string, Record<string, Schema>>)[op.path] as Record<string, Schema>;
  const operation = item[op.method.toLowerCase()] as Schema;
  const params = [...((item.parameters as Schema[] | undefined) ?? []), ...((operation.parameters as Schema[] | undefined) ?? [])].map(resolve);
  const content = (operation.requestBody ? (resolve(operation.requestBody as Schema).content as Record<string, Schema>) : {}) ?? {};
  const media = content['application/json'] ?? Object.values(content)[0];
  return {
    id,
    method: op.method,
    path: op.path,
    auth: op.auth,
    peerAuth: op.peerAuth,
    write: op.write as OperationInfo['write'],
    pathParams: params.filter((p) => p.in === 'path').map((p) => ({ name: String(p.name), schema: p.schema as Schema })),
    queryParams: params.filter((p) => p.in === 'query').map((p) => ({ name: String(p.name), schema: p.schema as Schema })),
    ifMatch: params.some((p) => p.in === 'header' && String(p.name).toLowerCase() === 'if-match'),
    bodyContentTypes: [...op.bodyContentTypes],
    bodySchema: media ? (media.schema as Schema) : null,
    patchOf: typeof operation['x-lbappliance-patch-of'] === 'string' ? (operation['x-lbappliance-patch-of'] as string) : null,
    declared: new Set(Object.keys(operation.responses as Schema).map(Number)),
  };
});

/** The operation of a name. */
export function operation(id: OperationId): OperationInfo {
  return operations.find((o) => o.id === id) as OperationInfo;
}

const templates = operations.map((o) => ({ op: o, re: new RegExp(`^${o.path.split('/').map((s) => (/^\{.+\}$/.test(s) ? '[^/]+' : s.replace(/[.*+?^$()|[\]\\{}]/g, '\\$&'))).join('/')}$`) }));

/** What a raw method and path address: an operation, a known path with another method (405), or nothing (404). */
export function addressed(method: string, rawPath: string): OperationInfo | 405 | 404 {
  const path = rawPath.split('?')[0] ?? '';
  const onPath = templates.filter((t) => t.re.test(path));
  return onPath.find((t) => t.op.method === method)?.op ?? (onPath.length > 0 ? 405 : 404);
}

/** A request as the fuzzer sends it. */
export interface FuzzRequest {
  method: string;
  /** Sent exactly as is (already encoded, or deliberately not). */
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  /** Who the credentials are (admin, read-only, none, a wrong password, a garbage header, the peer token, ...). */
  who: string;
  /** How the generator made it (which part is hostile and how). */
  note: string;
  /** Source address of the connection (wrong passwords come from their own, so the failure brake stays out of the way). */
  from?: string;
}

/** An answer. */
export interface FuzzResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
}

const agents = new Map<string, Agent>();

function agentFor(from: string | undefined): Agent {
  const key = from ?? '';
  let agent = agents.get(key);
  if (!agent) {
    agent = new Agent({ connect: { rejectUnauthorized: false }, ...(from ? { localAddress: from } : {}), headersTimeout: 20_000, bodyTimeout: 20_000 });
    agents.set(key, agent);
  }
  return agent;
}

/** Closes the connections `send` opened. */
export async function closeAgents(): Promise<void> {
  await Promise.all([...agents.values()].map((a) => a.close()));
  agents.clear();
}

/** Sends a request through undici's dispatcher (the path untouched). */
export async function send(endpoint: string, req: FuzzRequest): Promise<FuzzResponse> {
  const res = await agentFor(req.from).request({
    origin: endpoint,
    path: req.path,
    method: req.method as Dispatcher.HttpMethod,
    headers: req.headers,
    body: req.body,
  });
  const text = await res.body.text();
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : String(v);
  return { status: res.statusCode, headers, text };
}

/** A raw exchange on a TLS socket: what came back (possibly nothing) within `waitMs`. */
export async function sendRaw(endpoint: string, bytes: Buffer | string, waitMs: number, from?: string): Promise<FuzzResponse | null> {
  const url = new URL(endpoint);
  return new Promise((done) => {
    let got = Buffer.alloc(0);
    const socket = connect({ host: url.hostname, port: Number(url.port), rejectUnauthorized: false, ...(from ? { localAddress: from } : {}) }, () => socket.write(bytes));
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      done(parseResponse(got));
    };
    const timer = setTimeout(finish, waitMs);
    socket.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      const r = parseResponse(got);
      if (r && Buffer.byteLength(r.text) >= Number(r.headers['content-length'] ?? Infinity)) finish();
    });
    socket.on('error', finish);
    socket.on('close', finish);
  });
}

function parseResponse(raw: Buffer): FuzzResponse | null {
  const text = raw.toString('utf8');
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const [statusLine = '', ...lines] = text.slice(0, end).split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? NaN);
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  return { status, headers, text: text.slice(end + 4) };
}

const validator = new ContractValidator();

function mediaOf(headers: Record<string, string>): string {
  return (headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** What the contract says of any answer: a list of broken promises (empty when it keeps them all). */
export function contractViolations(target: OperationInfo | 405 | 404, res: FuzzResponse): string[] {
  const out: string[] = [];
  const op = typeof target === 'number' ? null : target;
  if (res.status >= 500 && (res.status === 500 || !op?.declared.has(res.status))) out.push(`answered ${res.status}: no request may get a 500, nor a 5xx its operation does not declare`);
  if (op && !op.declared.has(res.status)) out.push(`status ${res.status} is not in the contract of ${op.id} (declared: ${[...op.declared].join(', ')})`);
  if (!op && res.status !== target) out.push(`${target === 405 ? 'a method the path does not take' : 'a path outside the contract'} must get ${target}, got ${res.status}`);
  if (res.status >= 400) {
    if (mediaOf(res.headers) !== 'application/problem+json') out.push(`error ${res.status} is ${res.headers['content-type'] ?? 'without content-type'}, not application/problem+json`);
    let problem: Record<string, unknown> | null = null;
    try {
      problem = JSON.parse(res.text) as Record<string, unknown>;
    } catch {
      out.push(`error ${res.status} body is not JSON`);
    }
    if (problem) {
      try {
        validator.schema('Problem', structuredClone(problem));
      } catch (err) {
        out.push(`error ${res.status} body is not a Problem: ${(err as Error).message}`);
      }
      if (problem.status !== res.status) out.push(`problem status ${String(problem.status)} differs from the HTTP status ${res.status}`);
      const entry = (errorCatalogue as Record<string, { status: number }>)[String(problem.code)];
      if (!entry) out.push(`problem code ${String(problem.code)} is not in the error catalogue`);
      else if (entry.status !== res.status) out.push(`problem code ${String(problem.code)} is catalogued with ${entry.status}, answered with ${res.status}`);
    }
  }
  if (op && res.status >= 200 && res.status < 300) {
    const success = operationTable[op.id].success.find((s) => s.status === res.status);
    const declaredType = success?.contentType ?? null;
    if (declaredType && mediaOf(res.headers) !== declaredType) out.push(`${res.status} is ${res.headers['content-type'] ?? 'without content-type'}, the contract says ${declaredType}`);
    let body: unknown = res.text;
    if (declaredType === 'application/json') {
      try {
        body = JSON.parse(res.text);
      } catch {
        out.push(`${res.status} body is not JSON`);
      }
    }
    const errors = validator.responseErrors(op.id, res.status, declaredType ?? 'application/json', declaredType ? body : res.text === '' ? undefined : res.text);
    if (errors) out.push(`${res.status} body does not match its schema: ${errors.map((e) => `${e.field || '(root)'} ${e.message}`).join('; ')}`);
  }
  return out;
}

function clip(text: string, max = 400): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max / 2)} ...(${text.length} chars)... ${text.slice(-max / 4)}`;
}

/** A request and its answer, for a failure message (long parts clipped, lengths kept). */
export function exchange(label: string, req: FuzzRequest, res: FuzzResponse | null): string {
  const body = req.body === undefined ? '(no body)' : Buffer.isBuffer(req.body) ? `(${req.body.length} bytes, hex) ${clip(req.body.toString('hex'), 400)}` : JSON.stringify(clip(req.body, 3000));
  const headers = Object.entries(req.headers)
    .map(([k, v]) => `    ${k}: ${k === 'authorization' ? `${clip(v, 60)}` : clip(v, 200)}`)
    .join('\n');
  return [
    `operation: ${label}`,
    `request (${req.note}; as ${req.who}${req.from ? ` from ${req.from}` : ''}):`,
    `    ${req.method} ${clip(req.path, 300)}`,
    headers,
    `    body: ${body}`,
    res ? `response: ${res.status} ${res.headers['content-type'] ?? ''}\n    ${clip(res.text, 600)}` : 'response: none',
  ].join('\n');
}
