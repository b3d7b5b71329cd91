// One error catalogue per package, every code documented: the appliance's LB_* codes
// (appliance/errors.ts), the SDK's LB_SDK_* codes and the providers' LBP_* codes
// (provider/resources/error-codes.ts) are each listed in docs/errors.md, and every code the
// sources use is in its catalogue, so a new string literal cannot slip past the docs.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROVIDER_ERRORS } from '../../provider/resources/error-codes.js';
import { ROOT } from '../helpers/paths.js';

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name !== 'generated') out.push(...sources(path));
    } else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

function codesUsed(dir: string, prefix: RegExp): Set<string> {
  const out = new Set<string>();
  for (const file of sources(join(ROOT, dir))) for (const m of readFileSync(file, 'utf8').matchAll(prefix)) out.add(m[1] as string);
  return out;
}

const docs = readFileSync(join(ROOT, 'docs/errors.md'), 'utf8');
const documented = (code: string) => docs.includes(`| \`${code}\` |`);

describe('error catalogues', () => {
  it('every LBP_ code the providers use is in the catalogue, and every catalogue code is used and documented', () => {
    const used = codesUsed('provider', /'(LBP_[A-Z_]+)'/g);
    const catalogue = Object.keys(PROVIDER_ERRORS);
    expect([...used].filter((c) => !catalogue.includes(c)), 'used but not in provider/resources/error-codes.ts').toEqual([]);
    expect(catalogue.filter((c) => !used.has(c)), 'in the catalogue but never used').toEqual([]);
    expect(catalogue.filter((c) => !documented(c)), 'not in docs/errors.md').toEqual([]);
  });

  it('every LB_SDK_ code the SDK uses is documented', () => {
    const used = [...codesUsed('openapi/sdk', /'(LB_SDK_[A-Z_]+)'/g)];
    expect(used.length).toBeGreaterThan(3);
    expect(used.filter((c) => !documented(c))).toEqual([]);
  });

  it('the providers repeat no appliance rule under a code of their own', () => {
    // Plan-time checks of the appliance's rules carry LB_* codes (openapi/sdk/rules.ts).
    const used = codesUsed('provider', /'(LBP_[A-Z_]+)'/g);
    for (const gone of ['LBP_FORCE_HTTPS_PROTOCOL', 'LBP_CERTIFICATE_REQUIRED']) expect(used.has(gone), gone).toBe(false);
  });
});
