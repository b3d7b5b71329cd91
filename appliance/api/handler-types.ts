// The types that bind handlers to the contract: one handler per operationId, taking that
// operation's parameters and body and answering one of its success responses. An operation
// added to the contract fails the type check until a handler implements it.
import type { operations } from '../../openapi/generated/types.js';
import type { OperationId, QueryOf, RequestBody, SuccessStatus } from '../../openapi/generated/operations.js';
import type { Principal } from './auth.js';

/** The path parameters of an operation. */
export type PathParamsOf<K extends OperationId> = operations[K] extends { parameters: { path?: infer P } } ? NonNullable<P> : Record<string, never>;

type Responses<K extends OperationId> = operations[K]['responses'];
type BodyOf<R> = R extends { content: infer C } ? C[keyof C] : undefined;

/** What a handler gets. */
export interface RequestContext<K extends OperationId> {
  operationId: K;
  params: PathParamsOf<K>;
  query: [QueryOf<K>] extends [never] ? Record<string, never> : QueryOf<K>;
  body: [RequestBody<K>] extends [never] ? undefined : RequestBody<K>;
  /** The If-Match header, when sent. */
  ifMatch: string | undefined;
  /** The authenticated caller (null only for unauthenticated operations). */
  principal: Principal | null;
  /** The client's address. */
  address: string;
  /** The request path. */
  path: string;
  /** What the audit log should record beyond the request itself. */
  audit: { revision?: number | null; changes?: unknown[] | null };
}

/** One of an operation's success responses. */
export type HandlerResult<K extends OperationId> = {
  [S in SuccessStatus<K>]: { status: S; body: BodyOf<Responses<K>[S]>; headers?: Record<string, string> };
}[SuccessStatus<K>];

/** The handler of one operation. */
export type Handler<K extends OperationId> = (ctx: RequestContext<K>) => Promise<HandlerResult<K>>;

/** A handler for every operation of the contract. */
export type Handlers = { [K in OperationId]: Handler<K> };
