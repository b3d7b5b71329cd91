// The `lbappliance` command.
import { VERSION } from '../version.js';
import { CliError } from './cli-error.js';

const USAGE = `lbappliance ${VERSION}: a load-balancer appliance managed as code

Usage:
  lbappliance serve --data-dir DIR [--api-listen HOST:PORT] [--engine KIND]
                    [--password-file FILE] [--tls-cert FILE --tls-key FILE] [--node-name NAME]
  lbappliance demo      (a local appliance, demo servers and TeraRecon's VIPs; Ctrl-C stops)
  lbappliance version

The administrator is "loadbalancer"; at first start its password comes from
LBAPPLIANCE_PASSWORD or --password-file, or is generated and printed once.
`;

const commands: Record<string, (argv: string[]) => Promise<void>> = {
  serve: async (argv) => (await import('./serve.js')).serve(argv),
  demo: async (argv) => (await import('../demo/demo.js')).demo(argv),
  version: async () => {
    process.stdout.write(`${VERSION}\n`);
  },
  help: async () => {
    process.stdout.write(USAGE);
  },
};

/** Runs the command line. */
export async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  const command = name === undefined || name === '--help' || name === '-h' ? commands.help : commands[name];
  if (!command) throw new CliError(`unknown command "${name}"\n\n${USAGE}`);
  await command(rest);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof CliError) {
    process.stderr.write(`lbappliance: ${err.message}\n`);
    process.exit(err.exitCode);
  }
  const e = err as { code?: string; message?: string };
  if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' || e.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    process.stderr.write(`lbappliance: ${e.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`lbappliance: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
