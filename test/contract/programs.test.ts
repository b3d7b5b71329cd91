// A fresh machine passes `npm test`: every program the suites, the benches and the appliance
// spawn is named in `.ci/programs` with its Debian package (which `.ci/run` installs) and in
// the README, and is installed here. The sources are scanned for the programs they spawn,
// so a new `spawn('conntrackd', ...)` without a line in `.ci/programs` fails this test
// rather than the suite on the next fresh machine.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/paths.js';
import { findProgram, installHint, needProgram, programList } from '../helpers/programs.js';

const SCANNED = ['appliance', 'examples', 'test', 'scripts', 'bin'];

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'generated' || name === 'results' || name === 'artifacts') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...files(path));
    else if (/\.(ts|mjs|js)$/.test(name) || dir.endsWith('/bin')) out.push(path);
  }
  return out;
}

// The shapes in which this repository starts a program: a spawn-like call whose first
// argument is the program, the command array of a namespace wrapper, the bench's
// startProgram/version helpers, and absolute paths of system binaries.
const SHAPES: RegExp[] = [
  /\b(?:spawn|spawnSync|execFile|execFileSync|run|runTool|needProgram)\(\s*'([A-Za-z0-9_.\/-]+)'/g,
  /\bstartProgram\([^,]+,\s*'[^']*',\s*'([A-Za-z0-9_.\/-]+)'/g,
  /\b(?:wrap:|spawnIn\([^,]+,)\s*\[\s*'([A-Za-z0-9_.\/-]+)'/g,
  /\bversion\(\s*'([A-Za-z0-9_.\/-]+)'/g,
  /'\/usr\/s?bin\/([A-Za-z0-9_.-]+)'/g,
];

/** Programs the sources spawn, with one place each is spawned from. */
function spawnedPrograms(): Map<string, string> {
  const found = new Map<string, string>();
  for (const top of SCANNED) {
    for (const file of files(join(ROOT, top))) {
      if (file.endsWith('programs.test.ts')) continue; // its own examples are not spawns
      const text = readFileSync(file, 'utf8');
      for (const shape of SHAPES) {
        for (const m of text.matchAll(shape)) {
          const program = (m[1] as string).split('/').pop() as string;
          if (!found.has(program)) found.set(program, relative(ROOT, file));
        }
      }
    }
  }
  return found;
}

describe('the programs the suites need', () => {
  it('lists every program the sources spawn in .ci/programs', () => {
    const listed = new Set(programList().map((e) => e.program));
    const unlisted = [...spawnedPrograms()].filter(([p]) => !listed.has(p)).map(([p, file]) => `${p} (spawned in ${file})`);
    expect(unlisted, 'add each to .ci/programs with its Debian package').toEqual([]);
  });

  it('finds the known spawns (the scan itself works)', () => {
    const spawned = spawnedPrograms();
    for (const p of ['iptables', 'ip', 'openssl', 'storescu', 'haproxy', 'arping', 'chromium']) expect(spawned.has(p), p).toBe(true);
  });

  it('has every listed program installed', () => {
    const missing = programList()
      .filter((e) => findProgram(e.program) === null)
      .map((e) => `${e.program}: ${installHint(e.program)}`);
    expect(missing, 'run .ci/run (it installs the Debian packages) or install these').toEqual([]);
  });

  it('names every Debian package in the README', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const packages = [...new Set(programList().map((e) => e.package).filter((p) => p !== '-'))];
    expect(packages.filter((p) => !new RegExp(`\`${p.replace(/[.+]/g, '\\$&')}\``).test(readme))).toEqual([]);
  });

  it('says which package to install when a program is missing', () => {
    expect(() => needProgram('lbappliance-no-such-program')).toThrow(/lbappliance-no-such-program is not installed \(.*not in \.ci\/programs/);
    const iptables = programList().find((e) => e.program === 'iptables');
    expect(iptables?.package).toBe('iptables');
    expect(installHint('iptables')).toBe('Debian package iptables: apt-get install iptables; .ci/run installs it');
  });
});
