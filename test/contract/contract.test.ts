// The contract is the centre: it lints clean, the generated code matches it, the code
// type-checks against it (an operation added to the contract fails here until implemented),
// every schema compiles for validation, and every error code is documented.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ContractValidator } from '../../appliance/api/contract-validator.js';
import { errorCatalogue } from '../../appliance/errors.js';
import { operationTable } from '../../openapi/generated/operations.js';
import { ROOT } from '../helpers/paths.js';

const run = promisify(execFile);

describe('the contract', () => {
  it('lints clean with @redocly/cli (recommended-strict)', async () => {
    const { stdout, stderr } = await run(process.execPath, [join(ROOT, 'node_modules/@redocly/cli/bin/cli.js'), 'lint', 'openapi/appliance.yaml'], { cwd: ROOT });
    expect(`${stdout}${stderr}`).toMatch(/Your API description is valid/);
  }, 60_000);

  it('matches the generated code (run `npm run generate` after changing it)', async () => {
    const out = await mkdtemp(join(tmpdir(), 'lbgen-'));
    try {
      await run(process.execPath, [join(ROOT, 'scripts/generate.mjs'), '--out', out], { cwd: ROOT });
      for (const name of await readdir(out)) {
        const fresh = await readFile(join(out, name), 'utf8');
        const committed = await readFile(join(ROOT, 'openapi/generated', name), 'utf8');
        expect(committed === fresh, `openapi/generated/${name} is stale`).toBe(true);
      }
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 60_000);

  it('type-checks the whole project, tests included', async () => {
    const result = await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.test.json', '--noEmit'], { cwd: ROOT }).catch((e: { stdout: string }) => e);
    expect((result as { stdout: string }).stdout).toBe('');
  }, 180_000);

  it('compiles a validator for every parameter set, body and response of every operation', () => {
    expect(new ContractValidator().compileAll()).toBeGreaterThan(Object.keys(operationTable).length * 3);
  });

  it('documents every error code of the catalogue in docs/errors.md, and nothing else', async () => {
    const doc = await readFile(join(ROOT, 'docs/errors.md'), 'utf8');
    const documented = [...doc.matchAll(/^\| `(LB_[A-Z0-9_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]);
    expect(Object.fromEntries(documented)).toEqual(Object.fromEntries(Object.entries(errorCatalogue).map(([code, e]) => [code, e.status])));
  });

  it('declares every status an operation answers with, for every write', () => {
    for (const [id, op] of Object.entries(operationTable)) {
      if (op.write) expect(op.success.length, id).toBeGreaterThan(0);
    }
  });
});
