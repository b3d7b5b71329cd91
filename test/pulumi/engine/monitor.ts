// The two gRPC services a program's SDK talks to, on 127.0.0.1: pulumirpc.ResourceMonitor
// (SupportsFeature, RegisterResource, RegisterResourceOutputs, ReadResource, Invoke,
// SignalAndWaitForShutdown) and pulumirpc.Engine (Log, GetRootResource, SetRootResource).
// Requests are decoded into the deployment's goals here (output values, secrets, aliases,
// options); the deployment of the current run answers them. The plugins log to the same
// Engine service, so one log holds what the program and the plugins said.
import { Server, ServerCredentials, status, type ServiceError, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import type { Deployment, Goal } from './deployment.js';
import { emptyPb, engineGrpc, enginePb, fromStruct, providerPb, resourceGrpc, resourcePb, toStruct, type Bag } from './rpc.js';
import { bagFromProgram } from './values.js';

/** The features this engine tells the SDK it supports (the real engine says yes to all of them). */
export const FEATURES: Record<string, boolean> = {
  secrets: true,
  resourceReferences: true,
  outputValues: true,
  aliasSpecs: true,
  deletedWith: false,
  replaceWith: false,
  transforms: false,
  invokeTransforms: false,
  parameterization: false,
  resourceHooks: false,
  errorHooks: false,
};

/** One line the engine was told to log. */
export interface LogEntry {
  severity: 'debug' | 'info' | 'warning' | 'error';
  message: string;
  urn: string;
}

const SEVERITIES = ['debug', 'info', 'warning', 'error'] as const;

type Handler<Req, Res> = (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => void;

function unary<Req, Res>(fn: (req: Req) => Promise<Res> | Res): Handler<Req, Res> {
  return (call, callback) => {
    Promise.resolve()
      .then(() => fn(call.request))
      .then(
        (res) => callback(null, res),
        (err: unknown) => callback({ code: status.UNKNOWN, details: err instanceof Error ? err.message : String(err) } as ServiceError, null),
      );
  };
}

/** The monitor and engine services, answering for whichever deployment is current. */
export class MonitorServer {
  readonly #server = new Server();
  /** The deployment of the run in progress. */
  deployment: Deployment | undefined;
  /** Everything logged through Engine.Log. */
  readonly logs: LogEntry[] = [];
  /** Every feature the SDK asked about. */
  readonly featuresAsked: string[] = [];
  /** Every RegisterResource as decoded (for the tests: which inputs were unknown, which secret). */
  readonly goals: Goal[] = [];
  #root = '';
  address = '';

  /** Starts both services on a free loopback port. */
  async start(): Promise<void> {
    this.#server.addService(resourceGrpc.ResourceMonitorService, this.#monitor() as never);
    this.#server.addService(engineGrpc.EngineService, this.#engine() as never);
    const port = await new Promise<number>((resolve, reject) =>
      this.#server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    this.address = `127.0.0.1:${port}`;
  }

  /** Stops the services. */
  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.tryShutdown(() => resolve()));
  }

  #current(): Deployment {
    if (!this.deployment) throw new Error('no deployment is running');
    return this.deployment;
  }

  #goal(req: InstanceType<typeof resourcePb.RegisterResourceRequest>): Goal {
    const { bag } = bagFromProgram(fromStruct(req.getObject()));
    const parent = req.getParent();
    const d = this.#current();
    const aliasUrns = req.getAliasesList().map((a) => {
      if (a.hasUrn()) return a.getUrn();
      const spec = a.getSpec()!;
      const aliasParent = spec.getNoparent() ? '' : spec.getParenturn() || parent;
      return d.urnOf(spec.getType() || req.getType(), spec.getName() || req.getName(), aliasParent);
    });
    return {
      type: req.getType(),
      name: req.getName(),
      parent,
      custom: req.getCustom(),
      inputs: bag,
      provider: req.getProvider(),
      version: req.getVersion(),
      dependencies: req.getDependenciesList(),
      protect: req.hasProtect() ? !!req.getProtect() : false,
      deleteBeforeReplace: req.getDeletebeforereplacedefined() ? req.getDeletebeforereplace() : undefined,
      ignoreChanges: req.getIgnorechangesList(),
      aliasUrns: [...aliasUrns, ...req.getAliasurnsList()],
      importId: req.getImportid(),
    };
  }

  #monitor(): Record<string, Handler<never, unknown>> {
    return {
      supportsFeature: unary((req: InstanceType<typeof resourcePb.SupportsFeatureRequest>) => {
        this.featuresAsked.push(req.getId());
        const res = new resourcePb.SupportsFeatureResponse();
        res.setHassupport(FEATURES[req.getId()] ?? false);
        return res;
      }),
      registerResource: unary(async (req: InstanceType<typeof resourcePb.RegisterResourceRequest>) => {
        const goal = this.#goal(req);
        this.goals.push(goal);
        const answer = await this.#current().register(goal);
        const res = new resourcePb.RegisterResourceResponse();
        res.setUrn(answer.urn);
        res.setId(answer.id);
        res.setObject(toStruct(answer.outputs));
        res.setStablesList(answer.stables);
        res.setStable(answer.stables.length > 0);
        return res;
      }) as never,
      registerResourceOutputs: unary((req: InstanceType<typeof resourcePb.RegisterResourceOutputsRequest>) => {
        this.#current().registerOutputs(req.getUrn(), bagFromProgram(fromStruct(req.getOutputs())).bag);
        return new emptyPb.Empty();
      }) as never,
      readResource: unary(async (req: InstanceType<typeof resourcePb.ReadResourceRequest>) => {
        const goal = { type: req.getType(), name: req.getName(), parent: req.getParent(), custom: true, inputs: bagFromProgram(fromStruct(req.getProperties())).bag, provider: req.getProvider(), version: req.getVersion(), dependencies: req.getDependenciesList(), protect: false, deleteBeforeReplace: undefined, ignoreChanges: [], aliasUrns: [], importId: '' } satisfies Goal;
        const answer = await this.#current().read(goal, req.getId());
        const res = new resourcePb.ReadResourceResponse();
        res.setUrn(answer.urn);
        res.setProperties(toStruct(answer.outputs));
        return res;
      }) as never,
      invoke: unary(async (req: InstanceType<typeof resourcePb.ResourceInvokeRequest>) => {
        const res = new providerPb.InvokeResponse();
        const args: Bag = bagFromProgram(fromStruct(req.getArgs())).bag;
        const answer = await this.#current().invoke(req.getTok(), args, req.getProvider(), req.getVersion());
        res.setReturn(toStruct(answer.ret));
        for (const f of answer.failures) {
          const failure = new providerPb.CheckFailure();
          failure.setReason(f);
          res.addFailures(failure);
        }
        return res;
      }) as never,
      signalAndWaitForShutdown: unary(() => new emptyPb.Empty()) as never,
    };
  }

  #engine(): Record<string, Handler<never, unknown>> {
    return {
      log: unary((req: InstanceType<typeof enginePb.LogRequest>) => {
        this.logs.push({ severity: SEVERITIES[req.getSeverity()] ?? 'info', message: req.getMessage(), urn: req.getUrn() });
        if (process.env.LBAPPLIANCE_ENGINE_TRACE) process.stderr.write(`[log ${new Date().toISOString()}] ${req.getMessage().slice(0, 200)}\n`);
        return new emptyPb.Empty();
      }) as never,
      getRootResource: unary(() => {
        const res = new enginePb.GetRootResourceResponse();
        res.setUrn(this.#root);
        return res;
      }) as never,
      setRootResource: unary((req: InstanceType<typeof enginePb.SetRootResourceRequest>) => {
        this.#root = req.getUrn();
        if (this.deployment) this.deployment.rootUrn = this.#root;
        return new enginePb.SetRootResourceResponse();
      }) as never,
    };
  }
}
