// The programs the suites spawn, read from `.ci/programs` (the one list `.ci/run` installs
// from), and a readable failure when one is missing: the test that needs `iptables` says
// "iptables is not installed (Debian package iptables; .ci/run installs it)" instead of
// `spawn iptables ENOENT` somewhere in a helper.
import { accessSync, constants, readFileSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { ROOT } from './paths.js';

/** One line of `.ci/programs`. */
export interface ProgramEntry {
  program: string;
  /** The Debian package, or `-` for a program that is part of the machine. */
  package: string;
  why: string;
}

/** Every program of `.ci/programs`, in file order. */
export function programList(): ProgramEntry[] {
  const text = readFileSync(join(ROOT, '.ci', 'programs'), 'utf8');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    .map((l) => {
      const [program = '', pkg = '', ...why] = l.trim().split(/\s+/);
      return { program, package: pkg, why: why.join(' ') };
    });
}

/** The path of `program` on PATH (or the absolute path itself), or null. */
export function findProgram(program: string): string | null {
  const candidates = isAbsolute(program) ? [program] : (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, program));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // not here
    }
  }
  return null;
}

/** How to get `program`, in words. */
export function installHint(program: string): string {
  const base = program.split('/').pop() ?? program;
  const entry = programList().find((e) => e.program === base);
  if (!entry) return `${base} is not in .ci/programs: add it with its Debian package`;
  if (entry.package === '-') return `${base} is part of the machine (${entry.why}) and is missing here`;
  return `Debian package ${entry.package}: apt-get install ${entry.package}; .ci/run installs it`;
}

/** Throws a readable error unless `program` is installed; returns its path. */
export function needProgram(program: string): string {
  const path = findProgram(program);
  if (path) return path;
  throw new Error(`${program} is not installed (${installHint(program)})`);
}
