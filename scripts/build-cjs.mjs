// Builds the CommonJS copy of the public bindings (lbappliance/sdk, lbappliance/cdktf,
// lbappliance/pulumi) into dist/cjs for projects that `require` them: the shapes
// `cdktf init --template typescript` and `pulumi new typescript` make are CommonJS.
// package.json's exports send `require` here and `import` to the ESM build in dist/.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.cjs.json'], { cwd: root, stdio: 'inherit' });
mkdirSync(`${root}dist/cjs`, { recursive: true });
// Without it node would read dist/cjs/**/*.js as ES modules (the package is "type": "module").
writeFileSync(`${root}dist/cjs/package.json`, '{ "type": "commonjs" }\n');
