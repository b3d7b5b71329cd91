// The README's SDK section, run as it is printed (only the endpoint, the password and the CA
// are this test appliance's): a user who copies it gets what its comments say.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';
import { ROOT } from '../helpers/paths.js';

let app: TestAppliance;

beforeAll(async () => {
  app = await startTestAppliance();
});
afterAll(async () => app?.dispose());

/** The first ```ts block after a heading. */
async function snippet(heading: string): Promise<string> {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf(`\n${heading}\n`));
  const m = /```ts\n([\s\S]*?)```/.exec(section);
  if (!m) throw new Error(`no ts block under ${heading}`);
  return m[1] as string;
}

describe('README', () => {
  it('the SDK section runs as printed and prints what its comments say', async () => {
    const code = (await snippet('## The SDK')).replace("'https://127.0.0.1:9443'", JSON.stringify(app.endpoint));
    expect(code).toContain('{ ifMatch: etag }');
    const source = `const password = process.env.PW; const caPem = process.env.CA_PEM;\n${code}`;
    const caPem = await readFile(join(app.dataDir, 'tls', 'api.crt'), 'utf8');
    // The package imports itself by name (lbappliance/sdk) from its own directory, as node allows.
    const { stdout, stderr, failed } = await new Promise<{ stdout: string; stderr: string; failed: boolean }>((resolve) =>
      execFile(process.execPath, ['--input-type=module', '-e', source], { cwd: ROOT, env: { ...process.env, PW: app.password, CA_PEM: caPem }, timeout: 60_000 }, (err, out, errOut) =>
        resolve({ stdout: out, stderr: errOut, failed: err !== null }),
      ),
    );
    expect(failed, stderr).toBe(false);
    const commented = [...code.matchAll(/console\.log\(.*\/\/ (.*)$/gm)].map((m) => m[1]);
    expect(stdout.trim().split('\n')).toEqual(commented);
    const avs = (await app.client().listVirtualServices({ query: { label: 'AVS' } })).items[0]!;
    const servers = (await app.client().listRealServers(avs.id)).items;
    expect(servers.map((s) => [s.label, s.weight])).toEqual([['SERVER1', 50]]);
  });
});
