// Where `script` checks may find their programs, and the one test that a configured path
// names a program there. The directory is the appliance's (`serve --check-scripts-dir`),
// set once at start; the API can only name programs an administrator of the machine put
// there, never a file elsewhere. The same test runs when a VIP is written (a 422 naming
// the field) and before every run (a link changed since fails that check, nothing runs).
import { constants, accessSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';

/** The default directory of check programs (`serve --check-scripts-dir` changes it). */
export const DEFAULT_CHECK_SCRIPTS_DIR = '/etc/lbappliance/check-scripts';

let scriptsDir = process.env.LBAPPLIANCE_CHECK_SCRIPTS_DIR || DEFAULT_CHECK_SCRIPTS_DIR;

/** Sets the directory of check programs (the composition root, once at start). */
export function setCheckScriptsDir(dir: string): void {
  scriptsDir = dir;
}

/** The directory of check programs. */
export function checkScriptsDir(): string {
  return scriptsDir;
}

/** A program a `script` check may run, or why not. */
export type ScriptResolution = { ok: true; file: string } | { ok: false; reason: string };

/** Whether `inner` is `outer` or lies below it (both real paths). */
function inside(outer: string, inner: string): boolean {
  const rel = relative(outer, inner);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}

/**
 * The real path of the program `path` names (relative to `dir`, or absolute inside it):
 * refused when it has a `..` segment, lies outside `dir` (through a symbolic link too), is
 * not a regular file or is not executable.
 */
export function resolveCheckScript(path: string, dir: string = scriptsDir): ScriptResolution {
  if (path.split('/').includes('..')) return { ok: false, reason: `${path} has a .. segment; name a program inside the check scripts directory ${dir}` };
  let realDir: string;
  try {
    realDir = realpathSync(dir);
  } catch {
    return { ok: false, reason: `the check scripts directory ${dir} does not exist on this appliance` };
  }
  const named = isAbsolute(path) ? path : join(dir, path);
  if (!inside(dir, named) && !inside(realDir, named)) return { ok: false, reason: `${path} is outside the check scripts directory ${dir}` };
  let real: string;
  try {
    real = realpathSync(named);
  } catch {
    return { ok: false, reason: `${path} does not exist in the check scripts directory ${dir}` };
  }
  if (!inside(realDir, real)) return { ok: false, reason: `${path} leads outside the check scripts directory ${dir} (a symbolic link to ${real})` };
  try {
    if (!statSync(real).isFile()) return { ok: false, reason: `${path} is not a regular file` };
    accessSync(real, constants.X_OK);
  } catch {
    return { ok: false, reason: `${path} is not executable` };
  }
  return { ok: true, file: real };
}
