// Generated files are what the generators make from the current sources: the contract
// extract and protobuf descriptor, the providers schema JSON, the CDKTF bindings and the
// docs. A stale file fails here (run `npm run generate`). The schema JSON is also checked
// against what the real terraform prints for the provider.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/paths.js';
import { createWorkspace, expectCode, type TfWorkspace } from './helpers/terraform.js';

const run = promisify(execFile);
let out: string;
let tf: TfWorkspace;

beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'lbappliance-gen-'));
  tf = await createWorkspace(null);
});
afterAll(async () => {
  await rm(out, { recursive: true, force: true });
  await tf?.dispose();
});

async function files(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const result: string[] = [];
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) result.push(...(await files(p)));
    else result.push(p);
  }
  return result;
}

describe('generated files', () => {
  it('the contract extract and the protobuf descriptor are up to date', async () => {
    const dir = join(out, 'inputs');
    await run(process.execPath, [join(ROOT, 'scripts/generate-provider.mjs'), '--out', dir]);
    for (const rel of ['provider/resources/generated/contract.ts', 'provider/terraform/generated/proto-descriptor.ts']) {
      const fresh = await readFile(join(dir, rel.replace(/\//g, '__')), 'utf8');
      expect(fresh === (await readFile(join(ROOT, rel), 'utf8')), `${rel} is stale: run npm run generate`).toBe(true);
    }
  });

  it('the providers schema, the CDKTF bindings and docs/ are up to date, with no extra files', async () => {
    const dir = join(out, 'artifacts');
    await run(process.execPath, [join(ROOT, 'scripts/generate-provider-artifacts.mjs'), '--out', dir], { timeout: 120_000 });
    const fresh = (await files(dir)).map((f) => relative(dir, f)).sort();
    expect(fresh).toContain('docs/resources/virtual_service.md');
    for (const rel of fresh) {
      const same = (await readFile(join(dir, rel), 'utf8')) === (await readFile(join(ROOT, rel), 'utf8').catch(() => ''));
      expect(same, `${rel} is stale: run npm run generate`).toBe(true);
    }
    const committed = [...(await files(join(ROOT, 'docs'))), ...(await files(join(ROOT, 'provider/cdktf/generated')))]
      .map((f) => relative(ROOT, f))
      .filter((f) => f !== 'docs/terraform.md');
    expect(committed.filter((f) => !fresh.includes(f))).toEqual([]);
  });

  it('the providers schema is exactly what terraform prints for the provider', async () => {
    await tf.write('');
    const printed = await tf.run(['providers', 'schema', '-json']);
    expectCode(printed, 0, 'providers schema');
    const ours = JSON.parse(await readFile(join(ROOT, 'provider/terraform/generated/providers-schema.json'), 'utf8')) as unknown;
    expect(JSON.parse(printed.stdout)).toEqual(ours);
  });

  it('every attribute has a description', async () => {
    const schema = JSON.parse(await readFile(join(ROOT, 'provider/terraform/generated/providers-schema.json'), 'utf8')) as {
      provider_schemas: Record<string, { provider: Block; resource_schemas: Record<string, Block>; data_source_schemas: Record<string, Block> }>;
    };
    type Attr = { description?: string; nested_type?: { attributes: Record<string, Attr> } };
    type Block = { block: { description?: string; attributes: Record<string, Attr> } };
    const missing: string[] = [];
    const walk = (prefix: string, attrs: Record<string, Attr>) => {
      for (const [name, a] of Object.entries(attrs)) {
        if (!a.description?.trim()) missing.push(`${prefix}.${name}`);
        if (a.nested_type) walk(`${prefix}.${name}`, a.nested_type.attributes);
      }
    };
    const p = schema.provider_schemas['registry.terraform.io/lbappliance/lbappliance']!;
    walk('provider', p.provider.block.attributes);
    for (const [type, s] of [...Object.entries(p.resource_schemas), ...Object.entries(p.data_source_schemas)]) {
      if (!s.block.description?.trim()) missing.push(type);
      walk(type, s.block.attributes);
    }
    expect(missing).toEqual([]);
  });
});
