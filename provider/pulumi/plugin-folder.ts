// A plugin folder for `pulumi plugin install resource lbappliance VERSION --file DIR`. The
// install copies the folder into the plugin cache, so bin/pulumi-resource-lbappliance, which
// finds its code relative to itself, cannot be copied as it is: the folder gets a small
// launcher that runs this installation's plugin by absolute path.
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Writes DIR/pulumi-resource-lbappliance; returns its path. */
export async function writePluginFolder(dir: string): Promise<string> {
  const main = fileURLToPath(new URL('./main.js', import.meta.url));
  const file = join(resolve(dir), 'pulumi-resource-lbappliance');
  await mkdir(resolve(dir), { recursive: true });
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  await writeFile(file, `#!/bin/sh\n# Launches the lbappliance Pulumi provider plugin installed at ${main}.\nexec ${quote(process.execPath)} ${quote(main)} "$@"\n`);
  await chmod(file, 0o755);
  return file;
}
