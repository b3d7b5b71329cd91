// What a provider process loads before it answers its first call: terraform starts several
// plugin processes per command (schema, validate, plan), and most of them never talk to the
// appliance, so the HTTP transport (undici) and anything only the appliance or Pulumi needs
// must stay out of the modules the entry point imports statically. This follows the static
// imports (`import ... from`, `export ... from`, not `import type` nor `import()`) of the
// TypeScript sources from the plugin's entry point and the provider service it loads.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/paths.js';

/** Static, value-carrying import specifiers of a TypeScript source. */
function staticImports(source: string): string[] {
  const out: string[] = [];
  const re = /^\s*(import|export)\s+(type\s+)?([^'";]*?)\s*from\s*'([^']+)'|^\s*import\s+'([^']+)'/gm;
  for (const m of source.matchAll(re)) {
    if (m[5]) {
      out.push(m[5]);
      continue;
    }
    if (m[2]) continue; // import type / export type
    const clause = m[3] ?? '';
    // `import { type A, type B } from`: types only, erased by the compiler.
    const braces = /^\{([^}]*)\}$/.exec(clause.trim());
    if (braces && braces[1]!.split(',').every((n) => n.trim() === '' || n.trim().startsWith('type '))) continue;
    out.push(m[4]!);
  }
  return out;
}

/** Every package (bare specifier) the static import graph from `entries` reaches, with one path to it. */
function packagesReached(entries: string[]): Map<string, string[]> {
  const packages = new Map<string, string[]>();
  const seen = new Set<string>();
  const walk = (file: string, trail: string[]) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const spec of staticImports(readFileSync(file, 'utf8'))) {
      if (spec.startsWith('.')) {
        const ts = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
        if (existsSync(ts)) walk(ts, [...trail, ts.slice(ROOT.length)]);
      } else if (!spec.startsWith('node:')) {
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
        if (!packages.has(name)) packages.set(name, [...trail, spec]);
      }
    }
  };
  for (const e of entries) walk(resolve(ROOT, e), [e]);
  return packages;
}

describe('provider start-up imports', () => {
  it('the Terraform plugin loads only protobuf and msgpack before its first answer (its gRPC is node:http2; the HTTP client waits for ConfigureProvider)', () => {
    const reached = packagesReached(['provider/terraform/main.ts', 'provider/terraform/provider-service.ts']);
    const names = [...reached.keys()].sort();
    for (const heavy of ['undici', '@grpc/grpc-js', '@pulumi/pulumi', 'ajv', 'ajv-formats', 'fastify', 'yaml', 'lossless-json']) {
      expect(reached.has(heavy), `${heavy} is imported at start-up through ${reached.get(heavy)?.join(' -> ')}`).toBe(false);
    }
    expect(names).toEqual(['@msgpack/msgpack', 'protobufjs']);
  });

  it('finds a static import (the check itself can fail)', () => {
    expect(packagesReached(['openapi/sdk/client.ts']).has('undici')).toBe(true);
    expect(staticImports("import type { A } from 'x';\nimport { type B } from 'y';\nimport { C, type D } from 'z';\nexport { E } from 'w';\n")).toEqual(['z', 'w']);
  });
});
