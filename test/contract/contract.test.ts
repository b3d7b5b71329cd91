// The contract is the centre: it lints clean, the generated code matches it, the code
// type-checks against it (an operation added to the contract fails here until implemented),
// every schema compiles for validation, and every error code is documented.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
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

  it('documents 400, 413 and 415 on every operation that takes a body, and If-Match only where the read carries an ETag (issue 19)', async () => {
    type Op = { operationId: string; requestBody?: unknown; parameters?: { $ref?: string }[]; responses: Record<string, { headers?: Record<string, unknown> }> };
    const spec = parse(await readFile(join(ROOT, 'openapi/appliance.yaml'), 'utf8')) as { paths: Record<string, Record<string, Op>> };
    const missing: string[] = [];
    for (const item of Object.values(spec.paths)) {
      for (const [method, op] of Object.entries(item)) {
        if (!op.operationId) continue;
        if (op.requestBody) for (const status of ['400', '413', '415']) if (!op.responses[status]) missing.push(`${op.operationId} ${status}`);
        if ((op.parameters ?? []).some((p) => p.$ref === '#/components/parameters/IfMatch')) {
          if (!op.responses['412']) missing.push(`${op.operationId} 412`);
          // (rollbackToRevision matches the ETag of getConfig: its path has no GET.)
          if (item.get && !item.get.responses['200']?.headers?.ETag) missing.push(`${op.operationId}: GET of its path without ETag (${method})`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it('documents 400 on every operation but the reads: a body sent to one that takes none is refused (issue 19)', async () => {
    // (Fastify does not read the body of a GET, so a read never refuses one.)
    const spec = parse(await readFile(join(ROOT, 'openapi/appliance.yaml'), 'utf8')) as { paths: Record<string, Record<string, { operationId?: string; responses: Record<string, unknown> }>> };
    const missing: string[] = [];
    for (const item of Object.values(spec.paths)) {
      for (const [method, op] of Object.entries(item)) if (op.operationId && method !== 'get' && !op.responses['400']) missing.push(op.operationId);
    }
    expect(missing).toEqual([]);
  });

  it('declares every status an operation answers with, for every write', () => {
    for (const [id, op] of Object.entries(operationTable)) {
      if (op.write) expect(op.success.length, id).toBeGreaterThan(0);
    }
  });
});
