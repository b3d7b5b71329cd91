// lbappliance/sdk: the typed client of the appliance API.
export { ApplianceClient, DEFAULT_USERNAME, type ApplianceClientOptions, type RawResponse } from './client.js';
export * from './errors.js';
export { asReadBack, contractSchema, fillContractDefaults, withContractDefaults, type ContractSchema, type ContractSchemaName } from './contract-defaults.js';
export { directoryProblems, type DirectoryFacts, isHostName, isLayer4, LAYER4_FORWARDING, realServerProblems, virtualServiceProblems, type RealServerFacts, type RuleProblem, type VirtualServiceFacts } from './rules.js';
export type * from './types.js';
export { operationTable, type OperationId, type CallOptions, type MergePatchOf, type SuccessBody, type RequestBody } from '../generated/operations.js';
export type { components, operations, paths } from '../generated/types.js';
