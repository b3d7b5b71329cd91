// The resource definitions shared by the Terraform and Pulumi adapters (see types.ts).
export * from './types.js';
export { resources, dataSources, PROVIDER_NAME } from './registry.js';
export { providerAttributes, providerEnvironment, resolveSettings, clientFor } from './provider-config.js';
export { validateConfig, validateAll, pathText } from './validate.js';
export { planObject, requiresReplace, inputsFor, stateOf } from './plan.js';
export { ResourceError, ResourceErrorCode, issuesFromError, pathFromPointer, unlessGone } from './errors.js';
export { isUnknown, isWhollyKnown, valuesEqual, camelCase, snakeCase } from './values.js';
export { virtualService } from './virtual-service.js';
export { realServer } from './real-server.js';
export { certificate } from './certificate.js';
export { haPair } from './ha-pair.js';
export { virtualServiceData } from './virtual-service-data.js';
export { certificateData } from './certificate-data.js';
export { overviewData } from './overview-data.js';
