// A Pulumi engine for tests, since no Pulumi CLI can be installed here: it runs a project's
// program the way pulumi-language-nodejs does (node @pulumi/pulumi/cmd/run with --monitor,
// --engine, --project, --stack, --root-directory, --pwd, --dry-run and the entry point;
// stack config in PULUMI_CONFIG and PULUMI_CONFIG_SECRET_KEYS), serves the program's
// ResourceMonitor and Engine calls, drives the real resource plugin for every resource
// (deployment.ts), and keeps the stack's state in a file between runs, secrets encrypted.
// `up`, `preview`, `refresh` and `destroy` answer the steps taken; README.md says what of
// the real engine this reproduces and what it does not.
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { ROOT } from '../../helpers/paths.js';
import { Deployment, type StackConfig, type Step } from './deployment.js';
import { MonitorServer, type LogEntry } from './monitor.js';
import type { ProviderCall } from './providers.js';
import { StackState } from './state.js';

export type { Step, StackConfig, ProviderCall, LogEntry };

/** The language host's entry: node runs this script with the program. */
export const RUN_SCRIPT = join(ROOT, 'node_modules', '@pulumi', 'pulumi', 'cmd', 'run');

/** Where the engine keeps its things and which stack it runs. */
export interface EngineOptions {
  /** The project directory (holding Pulumi.yaml). */
  projectDir: string;
  /** A directory for the state file. */
  stateDir: string;
  stack?: string;
  /** The passphrase the state's secrets are encrypted with. */
  passphrase?: string;
}

/** What an operation did (or, in a preview, would do). */
export interface OperationResult {
  steps: Step[];
  /** The steps that change something (no `same`). */
  changes: Step[];
}

interface ProjectFile {
  name: string;
  main?: string;
  runtime: string | { name: string; options?: { typescript?: boolean } };
}

// The working directory and entry point of a program (pkg/engine/project.go getPwdMain).
function pwdMain(root: string, main: string | undefined): { pwd: string; entry: string } {
  if (!main) return { pwd: root, entry: '.' };
  const full = isAbsolute(main) ? main : resolve(root, main);
  if (statSync(full).isDirectory()) return { pwd: full, entry: '.' };
  return { pwd: dirname(full), entry: basename(full) };
}

/** The test engine over one project and stack. */
export class TestPulumiEngine {
  readonly #monitor = new MonitorServer();
  readonly #options: Required<EngineOptions>;
  readonly #project: ProjectFile;
  readonly #state: StackState;
  /** The stack's config. */
  readonly config: StackConfig = {};
  /** Every provider call of every run, secrets redacted. */
  readonly calls: ProviderCall[] = [];
  readonly #lines: string[] = [];

  private constructor(options: Required<EngineOptions>, project: ProjectFile, state: StackState) {
    this.#options = options;
    this.#project = project;
    this.#state = state;
  }

  /** Opens the stack (its state file if any) and starts the services. */
  static async open(options: EngineOptions): Promise<TestPulumiEngine> {
    const full: Required<EngineOptions> = { stack: 'test', passphrase: 'test-engine-passphrase', ...options };
    const project = parse(await readFile(join(full.projectDir, 'Pulumi.yaml'), 'utf8')) as ProjectFile;
    await mkdir(full.stateDir, { recursive: true });
    const state = await StackState.open(join(full.stateDir, `${full.stack}.json`), full.passphrase);
    const engine = new TestPulumiEngine(full, project, state);
    await engine.#monitor.start();
    return engine;
  }

  /** The project's name. */
  get project(): string {
    return this.#project.name;
  }

  /** `pulumi config set [--secret] key value` (a key without a namespace is the project's; objects as JSON). */
  setConfig(key: string, value: unknown, options: { secret?: boolean } = {}): void {
    const full = key.includes(':') ? key : `${this.#project.name}:${key}`;
    this.config[full] = { value: typeof value === 'string' ? value : JSON.stringify(value), secret: !!options.secret };
  }

  /**
   * Every log line a user sees: the engine's steps, Engine.Log from the program and the
   * plugins, the program's and plugins' output. Like the CLI without `--debug`, the SDK's
   * own debug messages are left out (they print whole RegisterResource answers, secrets
   * included); the plugin's debug messages (`lbappliance: ...`) are kept.
   */
  get logs(): string[] {
    const shown = this.#monitor.logs.filter((l) => l.severity !== 'debug' || l.message.startsWith('lbappliance: '));
    return [...this.#lines, ...shown.map((l) => `${l.severity}: ${l.urn ? `${l.urn}: ` : ''}${l.message}`)];
  }

  /** Structured Engine.Log entries. */
  get logEntries(): readonly LogEntry[] {
    return this.#monitor.logs;
  }

  /** Every RegisterResource the program sent, decoded. */
  get goals() {
    return this.#monitor.goals;
  }

  /** The features the SDK asked the monitor about. */
  get featuresAsked(): readonly string[] {
    return this.#monitor.featuresAsked;
  }

  /** The state file as written (what `pulumi stack export` shows). */
  stateDump(): string {
    return this.#state.dump();
  }

  /** The resources in the state. */
  get resources() {
    return this.#state.resources;
  }

  #deployment(dryRun: boolean): Deployment {
    const d = new Deployment(this.#state, {
      project: this.#project.name,
      stack: this.#options.stack,
      dryRun,
      config: this.config,
      engineAddress: this.#monitor.address,
      calls: this.calls,
      log: (line) => {
        this.#lines.push(line);
        if (process.env.LBAPPLIANCE_ENGINE_TRACE) process.stderr.write(`[engine ${new Date().toISOString()}] ${line}\n`);
      },
    });
    this.#monitor.deployment = d;
    return d;
  }

  async #finishRun(d: Deployment): Promise<OperationResult> {
    this.#monitor.deployment = undefined;
    this.#lines.push(...(await d.close()).map((l) => `plugin: ${l}`));
    return { steps: d.steps, changes: d.steps.filter((s) => s.op !== 'same') };
  }

  /** `pulumi up` (or `pulumi preview` when dryRun). */
  async #update(dryRun: boolean): Promise<OperationResult> {
    const d = this.#deployment(dryRun);
    try {
      const run = await this.#runProgram(dryRun);
      if (run.code !== 0) {
        const errors = this.#monitor.logs.filter((l) => l.severity === 'error').map((l) => l.message);
        throw new Error(`the program failed (exit ${run.code}):\n${[...errors, run.output].join('\n')}`);
      }
      await d.finish();
    } catch (err) {
      await d.saveAfterFailure();
      await this.#finishRun(d);
      throw err;
    }
    return this.#finishRun(d);
  }

  /** `pulumi up --yes --skip-preview`. */
  up(): Promise<OperationResult> {
    return this.#update(false);
  }

  /** `pulumi preview`: nothing written, the state unchanged. */
  preview(): Promise<OperationResult> {
    return this.#update(true);
  }

  /** `pulumi refresh --yes` (or `--preview-only` when dryRun): the program does not run. */
  async refresh(options: { dryRun?: boolean } = {}): Promise<OperationResult> {
    const d = this.#deployment(!!options.dryRun);
    try {
      await d.refresh();
    } catch (err) {
      await this.#finishRun(d);
      throw err;
    }
    return this.#finishRun(d);
  }

  /** `pulumi destroy --yes`: the program does not run. */
  async destroy(): Promise<OperationResult> {
    const d = this.#deployment(false);
    try {
      await d.destroy();
    } catch (err) {
      await this.#finishRun(d);
      throw err;
    }
    return this.#finishRun(d);
  }

  /** Stops the services (the state stays in its file). */
  async stop(): Promise<void> {
    await this.#monitor.stop();
  }

  // Runs the program as pulumi-language-nodejs does (constructArguments, constructConfig).
  #runProgram(dryRun: boolean): Promise<{ code: number; output: string }> {
    const root = this.#options.projectDir;
    const { pwd, entry } = pwdMain(root, this.#project.main);
    const args = [RUN_SCRIPT, '--monitor', this.#monitor.address, '--engine', this.#monitor.address, '--project', this.#project.name, '--root-directory', root, '--stack', this.#options.stack, '--pwd', pwd];
    if (dryRun) args.push('--dry-run');
    args.push('--parallel', '16', entry);
    const config: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const [key, { value, secret }] of Object.entries(this.config)) {
      const [ns, name] = key.split(':');
      config[`${ns}:config:${name}`] = value;
      if (secret) secretKeys.push(key);
    }
    const runtime = this.#project.runtime;
    const typescript = typeof runtime === 'string' ? true : runtime.options?.typescript ?? true;
    const env: NodeJS.ProcessEnv = { ...process.env, PULUMI_CONFIG: JSON.stringify(config), PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(secretKeys) };
    for (const k of Object.keys(env)) if (k.startsWith('PULUMI_NODEJS_') || (k.startsWith('LBAPPLIANCE_') && k !== 'LBAPPLIANCE_PULUMI_LOG')) delete env[k];
    if (typescript) env.PULUMI_NODEJS_TYPESCRIPT = 'true';
    if (!existsSync(pwd)) throw new Error(`the program's directory ${pwd} does not exist`);
    return new Promise((resolvePromise, reject) => {
      const child = spawn(process.execPath, args, { cwd: pwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      const take = (chunk: Buffer) => {
        output += chunk.toString('utf8');
        if (process.env.LBAPPLIANCE_ENGINE_TRACE) process.stderr.write(`[program ${new Date().toISOString()}] ${chunk.toString('utf8')}`);
      };
      child.stdout.on('data', take);
      child.stderr.on('data', take);
      child.once('error', reject);
      // A program that never ends (a registration never answered) fails the run, not the suite.
      const timer = setTimeout(() => {
        output += '\n(the test engine stopped the program after 5 minutes)';
        child.kill('SIGKILL');
      }, 300_000);
      child.once('close', (code) => {
        clearTimeout(timer);
        if (output.trim()) this.#lines.push(...output.trimEnd().split('\n').map((l) => `program: ${l}`));
        resolvePromise({ code: code ?? 1, output });
      });
    });
  }
}
