// A check the API runs before a write's handler, given by the layers below it (the HA
// controller refuses writes on a secondary): the type lives here, under both, so that HA
// never imports the API.
import type { operationTable, OperationId } from '../openapi/generated/operations.js';
import type { Principal } from './users/user-store.js';

/** One operation of the contract, as the generated table describes it. */
export type Operation = (typeof operationTable)[OperationId];

/** Throws an ApplianceError to refuse the write; returns to let it through. */
export type WriteGuard = (operationId: OperationId, operation: Operation, principal: Principal | null) => void;
