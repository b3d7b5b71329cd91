// The package version, which is the plugin's version: read from the package.json of the
// lbappliance package this file belongs to, found by walking up (the same code runs from
// dist/, from the sources under vitest, and from the code generator's build).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageJson(): { version: string; pulumi?: { version?: string } } {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version: string };
      if (pkg.name === 'lbappliance') return pkg;
    } catch {
      // no package.json here: keep walking up
    }
    const up = dirname(dir);
    if (up === dir) throw new Error('package.json of lbappliance not found above provider/pulumi');
    dir = up;
  }
}

/** The plugin's version (package.json `version`; its `pulumi.version` block must agree). */
export const PLUGIN_VERSION: string = findPackageJson().version;
