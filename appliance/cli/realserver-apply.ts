// `lbappliance realserver --apply`: makes a Linux real server match the plan, idempotently.
// Every step reads the current state first and changes only what differs, so a second run
// changes nothing and says so. Kernel settings are written under /proc/sys (the same files
// `sysctl -w` writes, in this process's own network namespace); the address and the route go
// through iproute2's `ip`.
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { CliError } from './cli-error.js';
import { type LinuxStep, shellOf } from './realserver-plan.js';

const run = promisify(execFile);

/** What one step found and did. */
export interface StepOutcome {
  step: LinuxStep;
  changed: boolean;
  /** One line for the operator: what was there and what is now. */
  note: string;
}

function procPath(key: string): string {
  return `/proc/sys/${key.replaceAll('.', '/')}`;
}

async function ip(args: string[]): Promise<string> {
  try {
    return (await run('ip', args)).stdout;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new CliError('--apply needs iproute2 (the `ip` command)', 'LB_CLI_FAILED');
    throw new CliError(`ip ${args.join(' ')} failed: ${(e.stderr ?? e.message).trim()}`, 'LB_CLI_FAILED');
  }
}

async function applySysctl(step: Extract<LinuxStep, { kind: 'sysctl' }>): Promise<StepOutcome> {
  const path = procPath(step.key);
  const current = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new CliError(`cannot read ${step.key} (${err.code ?? err.message}): is the interface name right?`, 'LB_CLI_FAILED');
  });
  const value = Number.parseInt(current.trim(), 10);
  if (step.accept.includes(value)) return { step, changed: false, note: `ok      ${step.key} = ${value}` };
  await writeFile(path, `${step.value}\n`).catch((err: NodeJS.ErrnoException) => {
    throw new CliError(`cannot set ${step.key} (${err.code ?? err.message}): run as root`, 'LB_CLI_FAILED');
  });
  return { step, changed: true, note: `set     ${step.key} = ${step.value} (was ${value})` };
}

async function applyAddress(step: Extract<LinuxStep, { kind: 'address' }>): Promise<StepOutcome> {
  const out = await ip(['-o', 'addr', 'show', 'dev', step.device]);
  const present = [...out.matchAll(/inet6? (\S+)\//g)].some((m) => m[1] === step.address);
  if (present) return { step, changed: false, note: `ok      ${step.address} on ${step.device}` };
  const prefix = step.address.includes(':') ? 128 : 32;
  await ip(['addr', 'add', `${step.address}/${prefix}`, 'dev', step.device]);
  return { step, changed: true, note: `added   ${step.address}/${prefix} on ${step.device}` };
}

async function applyRoute(step: Extract<LinuxStep, { kind: 'route' }>): Promise<StepOutcome> {
  const out = await ip(['-4', 'route', 'show', 'default']);
  const via = /default via (\S+)/.exec(out)?.[1];
  if (via === step.via) return { step, changed: false, note: `ok      default via ${via}` };
  await ip(['route', 'replace', 'default', 'via', step.via]);
  return { step, changed: true, note: `set     default via ${step.via}${via ? ` (was ${via})` : ''}` };
}

/** Applies the steps in order; stops at the first that fails (the CliError says which and why). */
export async function applySteps(steps: LinuxStep[]): Promise<StepOutcome[]> {
  const outcomes: StepOutcome[] = [];
  for (const step of steps) {
    switch (step.kind) {
      case 'sysctl':
        outcomes.push(await applySysctl(step));
        break;
      case 'address':
        outcomes.push(await applyAddress(step));
        break;
      case 'route':
        outcomes.push(await applyRoute(step));
        break;
      default:
        throw new CliError(`cannot apply ${shellOf(step)}`, 'LB_CLI_FAILED');
    }
  }
  return outcomes;
}

/** The interface of this host's IPv4 default route, or null. */
export async function defaultRouteInterface(): Promise<string | null> {
  const out = await run('ip', ['-4', 'route', 'show', 'default']).then((r) => r.stdout, () => '');
  return /\bdev (\S+)/.exec(out)?.[1] ?? null;
}
