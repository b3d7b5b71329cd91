// Entry point of pulumi-resource-lbappliance. The engine runs it with its own address as the
// only argument and reads the port from the first stdout line. By hand:
//   pulumi-resource-lbappliance --write-plugin-folder DIR   writes a plugin folder for
//                                                          `pulumi plugin install ... --file DIR`
//   pulumi-resource-lbappliance --version
import { writePluginFolder } from './plugin-folder.js';
import { startPluginServer } from './server.js';
import { PLUGIN_VERSION } from './version.js';

async function main(argv: string[]): Promise<void> {
  if (argv[0] === '--version') {
    process.stdout.write(`${PLUGIN_VERSION}\n`);
    return;
  }
  if (argv[0] === '--write-plugin-folder') {
    if (!argv[1]) throw new Error('usage: pulumi-resource-lbappliance --write-plugin-folder DIR');
    const file = await writePluginFolder(argv[1]);
    process.stderr.write(`wrote ${file}\ninstall it with: pulumi plugin install resource lbappliance ${PLUGIN_VERSION} --file ${argv[1]}\n`);
    return;
  }
  const engineAddress = argv.find((a) => !a.startsWith('-'));
  const server = await startPluginServer(engineAddress);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void server.stop().finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // The engine may die without telling us (kill -9): then our parent changes, and we go too.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) stop();
  }, 1000).unref();
  process.stdout.write(`${server.port}\n`);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`pulumi-resource-lbappliance: ${(err as Error)?.message ?? String(err)}\n`);
  process.exit(1);
});
