// A VIP the appliance stores but cannot listen on (an address this host does not have:
// EADDRNOTAVAIL, accepted by design) is a warning on the resource after Create and Update
// (issue 16), sent through the engine's Log service as a real `pulumi up` receives it, so a
// pipeline can fail on it; a VIP that listens gets none. The plugin runs with the address
// of a small engine that records every Log call. Addresses 127.0.205.4x and 2001:db8::205
// belong to this file.
import { Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyPb, engineGrpc, enginePb } from '../../provider/pulumi/proto.js';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';
import { startPlugin, T, urnOf, type Plugin } from './helpers/plugin.js';

interface Logged {
  severity: number;
  message: string;
  urn: string;
}

let app: TestAppliance;
let plugin: Plugin;
let engine: Server;
const logged: Logged[] = [];

/** The engine's Log service; every other engine call is unimplemented (the plugin makes none). */
async function startEngine(): Promise<{ server: Server; address: string }> {
  const server = new Server();
  server.addService(engineGrpc.EngineService, {
    log: (call: ServerUnaryCall<InstanceType<typeof enginePb.LogRequest>, unknown>, done: sendUnaryData<unknown>) => {
      logged.push({ severity: call.request.getSeverity(), message: call.request.getMessage(), urn: call.request.getUrn() });
      done(null, new emptyPb.Empty());
    },
  } as never);
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  return { server, address: `127.0.0.1:${port}` };
}

/** The warnings logged for a resource, polled (the plugin sends them without waiting). */
async function warningsFor(urn: string, atLeast: number): Promise<Logged[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const found = logged.filter((l) => l.urn === urn && l.severity === enginePb.LogSeverity.WARNING);
    if (found.length >= atLeast || Date.now() > deadline) return found;
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  const started = await startEngine();
  engine = started.server;
  [app, plugin] = await Promise.all([startTestAppliance({ engine: 'embedded' }), startPlugin({ args: [started.address] })]);
  await plugin.configureFor(app);
});
afterAll(async () => {
  await plugin?.stop();
  await app?.dispose();
  engine?.forceShutdown();
});

describe('a VirtualService that cannot listen', () => {
  it('is created, with a warning on the resource that names the reason and the code', async () => {
    const created = await plugin.checkAndCreate(T.vs, { label: 'pu-away', ipAddress: '2001:db8::205', ports: [8080], protocol: 'http' });
    expect(created.id).toMatch(/^vs-[0-9a-f]{12}$/);
    // The helper names the resource `r` for Create and Update alike.
    const urn = urnOf(T.vs, 'r');
    const [warning] = await warningsFor(urn, 1);
    expect(warning?.message).toMatch(/^lbappliance: Virtual service pu-away is not listening: .*2001:db8::205 port 8080: .*EADDRNOTAVAIL.*\{"code":"LBP_VIP_NOT_LISTENING"\}$/);

    // An update that leaves it unbindable warns again; one that moves it where it can listen does not.
    const moved = await plugin.check(T.vs, { ...created.inputs, ports: [8081] }, created.inputs);
    await plugin.update(T.vs, created.id, created.properties, moved.inputs, { oldInputs: created.inputs });
    expect(await warningsFor(urn, 2)).toHaveLength(2);
    const here = await plugin.check(T.vs, { ...created.inputs, ipAddress: '127.0.205.41', ports: [8081] }, moved.inputs);
    const updated = await plugin.update(T.vs, created.id, { ...created.properties, ports: [8081] }, here.inputs, { oldInputs: moved.inputs });
    expect(updated.properties).toMatchObject({ ipAddress: '127.0.205.41' });
    await new Promise((r) => setTimeout(r, 500));
    expect(logged.filter((l) => l.urn === urn && l.severity === enginePb.LogSeverity.WARNING)).toHaveLength(2);
  });

  it('gives no warning for a VIP that listens', async () => {
    await plugin.checkAndCreate(T.vs, { label: 'pu-here', ipAddress: '127.0.205.42', ports: [8080], protocol: 'http' }, 'here');
    await new Promise((r) => setTimeout(r, 500));
    expect(logged.filter((l) => l.urn === urnOf(T.vs, 'here') && l.severity === enginePb.LogSeverity.WARNING)).toEqual([]);
  });
});
