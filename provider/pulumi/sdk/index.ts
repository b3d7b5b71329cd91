// lbappliance/pulumi: the Pulumi SDK of the lbappliance package. The resource classes and
// their types are generated from the package schema (./generated); the components that
// build on them are written by hand beside this file.
export * from './generated/index.js';
