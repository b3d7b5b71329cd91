// Runs the real bin/pulumi-resource-lbappliance for a test, as the engine does: spawn it,
// read the port from the first stdout line, and talk pulumirpc.ResourceProvider to it with a
// client built from the stubs that ship in @pulumi/pulumi. Requests and answers are plain
// objects here (`{ urn, news: {...} }`), built into messages by small helpers, so tests read
// as the calls the engine makes.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { credentials, type ServiceError } from '@grpc/grpc-js';
import { emptyPb, providerGrpc, providerPb, structPb, type Struct } from '../../../provider/pulumi/proto.js';
import { SECRET_SIG, SIG_KEY, UNKNOWN_STRING } from '../../../provider/pulumi/property-values.js';
import { afterAll, beforeAll } from 'vitest';
import type { ApplianceClient } from '../../../openapi/sdk/index.js';
import { ROOT } from '../../helpers/paths.js';
import { startTestAppliance, type TestAppliance } from '../../helpers/appliance-process.js';

/** The plugin executable. */
export const PLUGIN_BIN = `${ROOT}bin/pulumi-resource-lbappliance`;

/** The unknown marker on the wire. */
export const UNKNOWN = UNKNOWN_STRING;

/** A property bag as JavaScript (special values as their wire objects). */
export type Bag = Record<string, unknown>;

/** Wraps a value as a secret, as the engine sends it. */
export function secret(value: unknown): Bag {
  return { [SIG_KEY]: SECRET_SIG, value };
}

/** Whether a wire value is a secret wrapper. */
export function isSecret(value: unknown): value is { value: unknown } {
  return typeof value === 'object' && value !== null && (value as Bag)[SIG_KEY] === SECRET_SIG;
}

/** A Struct from a bag. */
export function struct(bag: Bag): Struct {
  return structPb.Struct.fromJavaScript(bag as Parameters<typeof structPb.Struct.fromJavaScript>[0]);
}

/** A bag from a Struct (empty when absent). */
export function bag(s: Struct | undefined): Bag {
  return (s?.toJavaScript() ?? {}) as Bag;
}

/** The URN the engine would give a resource. */
export function urnOf(type: string, name: string): string {
  return `urn:pulumi:test::lbappliance-test::${type}::${name}`;
}

/** Resource type tokens. */
export const T = {
  vs: 'lbappliance:index:VirtualService',
  rs: 'lbappliance:index:RealServer',
  cert: 'lbappliance:index:Certificate',
  ha: 'lbappliance:index:HAPair',
  syslog: 'lbappliance:index:SyslogCollector',
  mail: 'lbappliance:index:AlertMail',
  dir: 'lbappliance:index:Directory',
  snmp: 'lbappliance:index:Snmp',
} as const;

type Client = InstanceType<typeof providerGrpc.ResourceProviderClient>;

/** What a test sees of a Diff. */
export interface DiffAnswer {
  changes: 'unknown' | 'none' | 'some';
  diffs: string[];
  replaces: string[];
  stables: string[];
  deleteBeforeReplace: boolean;
  /** Detailed diff: property path -> kind name (`UPDATE`, `ADD_REPLACE`, ...). */
  detailed: Record<string, string>;
}

/** A running plugin and a client for it. */
export interface Plugin {
  port: number;
  /** Milliseconds from spawn to the port line. */
  startupMs: number;
  /** Every stdout line (the first is the port). */
  stdout: string[];
  /** Every stderr line. */
  stderr: string[];
  process: ChildProcess;
  client: Client;
  /** Calls an RPC with a message; rejects with the gRPC error. */
  rpc<T>(method: string, request: unknown): Promise<T>;
  /** Every property bag answered so far (Check inputs, Create/Read/Update properties and inputs). */
  answers: Bag[];
  getPluginInfo(): Promise<string>;
  getSchema(): Promise<Record<string, unknown>>;
  checkConfig(news: Bag): Promise<{ inputs: Bag; failures: { property: string; reason: string }[] }>;
  diffConfig(olds: Bag, news: Bag): Promise<DiffAnswer>;
  configure(args: Bag, variables?: Record<string, string>): Promise<{ acceptSecrets: boolean; supportsPreview: boolean; acceptResources: boolean }>;
  /** Configure with the appliance's endpoint, its password as a secret, insecure TLS. */
  configureFor(app: TestAppliance): Promise<void>;
  check(type: string, news: Bag, olds?: Bag, name?: string): Promise<{ inputs: Bag; failures: { property: string; reason: string }[] }>;
  diff(type: string, id: string, olds: Bag, news: Bag, options?: { oldInputs?: Bag; ignoreChanges?: string[] }): Promise<DiffAnswer>;
  create(type: string, properties: Bag, options?: { preview?: boolean; name?: string }): Promise<{ id: string; properties: Bag }>;
  read(type: string, id: string, properties?: Bag, inputs?: Bag): Promise<{ id: string; properties: Bag; inputs: Bag | null }>;
  update(type: string, id: string, olds: Bag, news: Bag, options?: { preview?: boolean; oldInputs?: Bag }): Promise<{ properties: Bag }>;
  delete(type: string, id: string, properties: Bag): Promise<void>;
  /** Checks `news` and creates with the checked inputs, failing on any check failure. */
  checkAndCreate(type: string, news: Bag, name?: string): Promise<{ id: string; properties: Bag; inputs: Bag }>;
  stop(): Promise<void>;
}

const KIND_NAMES = ['ADD', 'ADD_REPLACE', 'DELETE', 'DELETE_REPLACE', 'UPDATE', 'UPDATE_REPLACE'];
const CHANGES = ['unknown', 'none', 'some'] as const;

function diffAnswer(res: InstanceType<typeof providerPb.DiffResponse>): DiffAnswer {
  const detailed: Record<string, string> = {};
  res.getDetaileddiffMap().forEach((v, k) => {
    detailed[k] = KIND_NAMES[v.getKind()] ?? '?';
  });
  return {
    changes: CHANGES[res.getChanges()] ?? 'unknown',
    diffs: res.getDiffsList(),
    replaces: res.getReplacesList(),
    stables: res.getStablesList(),
    deleteBeforeReplace: res.getDeletebeforereplace(),
    detailed,
  };
}

/** Starts the plugin (no engine address: it logs to stderr at `logLevel`). */
export async function startPlugin(options: { env?: Record<string, string>; logLevel?: string; args?: string[] } = {}): Promise<Plugin> {
  const started = performance.now();
  const env: NodeJS.ProcessEnv = { ...process.env, LBAPPLIANCE_PULUMI_LOG: options.logLevel ?? 'debug', ...options.env };
  for (const k of Object.keys(env)) if (k.startsWith('LBAPPLIANCE_') && k !== 'LBAPPLIANCE_PULUMI_LOG' && !(options.env && k in options.env)) delete env[k];
  if (!options.env?.PULUMI_CONFIG) delete env.PULUMI_CONFIG;
  const child = spawn(process.execPath, [PLUGIN_BIN, ...(options.args ?? [])], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout: string[] = [];
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (l) => stderr.push(l));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`plugin printed no port in 20 s:\n${stderr.join('\n')}`)), 20_000);
    createInterface({ input: child.stdout! }).on('line', (l) => {
      stdout.push(l);
      if (stdout.length === 1) {
        clearTimeout(timer);
        resolve(Number(l));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`plugin exited with ${code} before printing its port:\n${stderr.join('\n')}`));
    });
  });
  const startupMs = Math.round(performance.now() - started);
  const client = new providerGrpc.ResourceProviderClient(`127.0.0.1:${port}`, credentials.createInsecure());
  const answers: Bag[] = [];
  const seen = <R extends object>(result: R): R => {
    for (const v of Object.values(result)) if (v && typeof v === 'object' && !Array.isArray(v)) answers.push(v as Bag);
    return result;
  };

  const rpc = <R>(method: string, request: unknown): Promise<R> =>
    new Promise((resolve, reject) => {
      const fn = (client as unknown as Record<string, (req: unknown, cb: (err: ServiceError | null, res: R) => void) => void>)[method]!;
      fn.call(client, request, (err, res) => {
        if (err) return reject(err);
        resolve(res);
      });
    });

  const checkRequest = (type: string, news: Bag, olds: Bag | undefined, name: string) => {
    const req = new providerPb.CheckRequest();
    req.setUrn(urnOf(type, name));
    req.setType(type);
    req.setName(name);
    req.setNews(struct(news));
    if (olds) req.setOlds(struct(olds));
    return req;
  };
  const failuresOf = (res: InstanceType<typeof providerPb.CheckResponse>) => res.getFailuresList().map((f) => ({ property: f.getProperty(), reason: f.getReason() }));

  const self: Plugin = {
    port,
    startupMs,
    stdout,
    stderr,
    process: child,
    client,
    rpc,
    answers,
    async getPluginInfo() {
      const res = await rpc<{ getVersion(): string }>('getPluginInfo', new emptyPb.Empty());
      return res.getVersion();
    },
    async getSchema() {
      const res = await rpc<InstanceType<typeof providerPb.GetSchemaResponse>>('getSchema', new providerPb.GetSchemaRequest());
      return JSON.parse(res.getSchema()) as Record<string, unknown>;
    },
    async checkConfig(news) {
      const res = await rpc<InstanceType<typeof providerPb.CheckResponse>>('checkConfig', checkRequest('pulumi:providers:lbappliance', news, undefined, 'default'));
      return seen({ inputs: bag(res.getInputs()), failures: failuresOf(res) });
    },
    async diffConfig(olds, news) {
      const req = new providerPb.DiffRequest();
      req.setUrn(urnOf('pulumi:providers:lbappliance', 'default'));
      req.setOlds(struct(olds));
      req.setNews(struct(news));
      return diffAnswer(await rpc('diffConfig', req));
    },
    async configure(args, variables = {}) {
      const req = new providerPb.ConfigureRequest();
      req.setArgs(struct(args));
      req.setAcceptsecrets(true);
      req.setAcceptresources(true);
      for (const [k, v] of Object.entries(variables)) req.getVariablesMap().set(k, v);
      const res = await rpc<InstanceType<typeof providerPb.ConfigureResponse>>('configure', req);
      return { acceptSecrets: res.getAcceptsecrets(), supportsPreview: res.getSupportspreview(), acceptResources: res.getAcceptresources() };
    },
    async configureFor(app) {
      await self.configure({ endpoint: app.endpoint, password: secret(app.password), insecure: true });
    },
    async check(type, news, olds, name = 'r') {
      const res = await rpc<InstanceType<typeof providerPb.CheckResponse>>('check', checkRequest(type, news, olds, name));
      return seen({ inputs: bag(res.getInputs()), failures: failuresOf(res) });
    },
    async diff(type, id, olds, news, options = {}) {
      const req = new providerPb.DiffRequest();
      req.setId(id);
      req.setUrn(urnOf(type, 'r'));
      req.setType(type);
      req.setOlds(struct(olds));
      req.setNews(struct(news));
      if (options.oldInputs) req.setOldInputs(struct(options.oldInputs));
      if (options.ignoreChanges) req.setIgnorechangesList(options.ignoreChanges);
      return diffAnswer(await rpc('diff', req));
    },
    async create(type, properties, options = {}) {
      const req = new providerPb.CreateRequest();
      req.setUrn(urnOf(type, options.name ?? 'r'));
      req.setType(type);
      req.setName(options.name ?? 'r');
      req.setProperties(struct(properties));
      req.setPreview(!!options.preview);
      req.setTimeout(60);
      const res = await rpc<InstanceType<typeof providerPb.CreateResponse>>('create', req);
      return seen({ id: res.getId(), properties: bag(res.getProperties()) });
    },
    async read(type, id, properties, inputs) {
      const req = new providerPb.ReadRequest();
      req.setId(id);
      req.setUrn(urnOf(type, 'r'));
      req.setType(type);
      if (properties) req.setProperties(struct(properties));
      if (inputs) req.setInputs(struct(inputs));
      const res = await rpc<InstanceType<typeof providerPb.ReadResponse>>('read', req);
      return seen({ id: res.getId(), properties: bag(res.getProperties()), inputs: res.hasInputs() ? bag(res.getInputs()) : null });
    },
    async update(type, id, olds, news, options = {}) {
      const req = new providerPb.UpdateRequest();
      req.setId(id);
      req.setUrn(urnOf(type, 'r'));
      req.setType(type);
      req.setOlds(struct(olds));
      req.setNews(struct(news));
      if (options.oldInputs) req.setOldInputs(struct(options.oldInputs));
      req.setPreview(!!options.preview);
      req.setTimeout(60);
      const res = await rpc<InstanceType<typeof providerPb.UpdateResponse>>('update', req);
      return seen({ properties: bag(res.getProperties()) });
    },
    async delete(type, id, properties) {
      const req = new providerPb.DeleteRequest();
      req.setId(id);
      req.setUrn(urnOf(type, 'r'));
      req.setType(type);
      req.setProperties(struct(properties));
      req.setTimeout(60);
      await rpc('delete', req);
    },
    async checkAndCreate(type, news, name = 'r') {
      const checked = await self.check(type, news, undefined, name);
      if (checked.failures.length > 0) throw new Error(`check failed: ${JSON.stringify(checked.failures)}`);
      const created = await self.create(type, checked.inputs, { name });
      return { ...created, inputs: checked.inputs };
    },
    async stop() {
      client.close();
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
  return self;
}

/** Every string in a bag outside secret wrappers: what would reach the state in plain text. */
export function plainStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (isSecret(value)) return [];
  if (Array.isArray(value)) return value.flatMap(plainStrings);
  if (value && typeof value === 'object') return Object.values(value).flatMap(plainStrings);
  return [];
}

/** The gRPC status name and message of a failed call. */
export async function rpcError(p: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as ServiceError;
    return { code: e.code, details: e.details };
  }
  throw new Error('the call succeeded; a failure was expected');
}

/** What a file's tests run against: an appliance, an SDK client of it, and a plugin configured for it. */
export interface PluginOnAppliance {
  app: TestAppliance;
  client: ApplianceClient;
  plugin: Plugin;
}

/**
 * Starts an appliance and a plugin configured for it before the file's tests, hands them to
 * `use`, and stops both after the tests.
 */
export function pluginOnAppliance(use: (started: PluginOnAppliance) => void): void {
  let started: Partial<PluginOnAppliance> = {};
  beforeAll(async () => {
    const [app, plugin] = await Promise.all([startTestAppliance(), startPlugin()]);
    started = { app, plugin, client: app.client() };
    await plugin.configureFor(app);
    use(started as PluginOnAppliance);
  });
  afterAll(async () => {
    await started.plugin?.stop();
    await started.app?.dispose();
  });
}
