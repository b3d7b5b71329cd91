// The pulumirpc services this engine serves (ResourceMonitor, Engine) and calls
// (ResourceProvider), from the protocol stubs @pulumi/pulumi ships (grpc-tools output of
// Pulumi's .proto files: the package carries the compiled definitions, not the .proto text).
// Loaded next to the SDK's own copy so every message class is the one the stubs check with
// `instanceof` (see provider/pulumi/proto.ts).
import { createRequire } from 'node:module';
import type * as AliasPbModule from '@pulumi/pulumi/proto/alias_pb.js';
import type * as EngineGrpcModule from '@pulumi/pulumi/proto/engine_grpc_pb.js';
import type * as EnginePbModule from '@pulumi/pulumi/proto/engine_pb.js';
import type * as ResourceGrpcModule from '@pulumi/pulumi/proto/resource_grpc_pb.js';
import type * as ResourcePbModule from '@pulumi/pulumi/proto/resource_pb.js';
import { emptyPb, providerGrpc, providerPb, structPb, type Struct } from '../../../provider/pulumi/proto.js';

const fromHere = createRequire(import.meta.url);
const pulumiProto = createRequire(fromHere.resolve('@pulumi/pulumi/proto/provider_pb.js'));

/** pulumirpc.ResourceMonitor messages (RegisterResourceRequest, SupportsFeatureResponse, ...). */
export const resourcePb = pulumiProto('./resource_pb.js') as typeof ResourcePbModule;
/** The ResourceMonitor service definition. */
export const resourceGrpc = pulumiProto('./resource_grpc_pb.js') as typeof ResourceGrpcModule;
/** pulumirpc.Engine messages (LogRequest, SetRootResourceRequest, ...). */
export const enginePb = pulumiProto('./engine_pb.js') as typeof EnginePbModule;
/** The Engine service definition. */
export const engineGrpc = pulumiProto('./engine_grpc_pb.js') as typeof EngineGrpcModule;
/** Alias and Alias.Spec. */
export const aliasPb = pulumiProto('./alias_pb.js') as typeof AliasPbModule;

export { emptyPb, providerGrpc, providerPb, structPb, type Struct };

/** A property bag as JavaScript: special values as their wire objects. */
export type Bag = Record<string, unknown>;

/** A Struct from a bag. */
export function toStruct(bag: Bag): Struct {
  return structPb.Struct.fromJavaScript(bag as Parameters<typeof structPb.Struct.fromJavaScript>[0]);
}

/** A bag from a Struct (absent: empty). */
export function fromStruct(s: Struct | undefined): Bag {
  return (s?.toJavaScript() ?? {}) as Bag;
}
