// gRPC service definitions (path, request decoder, response encoder) from the precompiled
// protobuf descriptor (generated/proto-descriptor.ts), served by grpc-unary-server.ts and
// shaped as @grpc/grpc-js definitions, so the tests call the plugin with grpc-js' client: protobufjs' light build, without its .proto parser, so
// start-up pays neither parsing nor @grpc/proto-loader.
import type { ServiceDefinition } from '@grpc/grpc-js';
import protobuf from 'protobufjs/light.js';
import { protoDescriptor } from './generated/proto-descriptor.js';

const root = protobuf.Root.fromJSON(protoDescriptor as protobuf.INamespace);

/** How decoded requests look: snake_case fields, zero values filled, enums by name, 64-bit ints as numbers. */
const TO_OBJECT: protobuf.IConversionOptions = { longs: Number, enums: String, defaults: true, oneofs: true };

/** The definition of a service in the descriptor, e.g. `tfplugin6.Provider`. */
export function serviceDefinition(fullName: string): ServiceDefinition {
  const service = root.lookupService(fullName);
  const def: Record<string, unknown> = {};
  for (const method of service.methodsArray) {
    method.resolve();
    const req = method.resolvedRequestType!;
    const res = method.resolvedResponseType!;
    def[method.name] = {
      path: `/${fullName}/${method.name}`,
      requestStream: false,
      responseStream: false,
      requestSerialize: (o: Record<string, unknown>) => Buffer.from(req.encode(req.fromObject(o)).finish()),
      requestDeserialize: (b: Buffer) => req.toObject(req.decode(b), TO_OBJECT),
      responseSerialize: (o: Record<string, unknown>) => Buffer.from(res.encode(res.fromObject(o)).finish()),
      responseDeserialize: (b: Buffer) => res.toObject(res.decode(b), TO_OBJECT),
    };
  }
  return def as ServiceDefinition;
}
