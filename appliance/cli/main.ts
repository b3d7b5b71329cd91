// The `lbappliance` command.
import { VERSION } from '../version.js';
import { CliError } from './cli-error.js';

const USAGE = `lbappliance ${VERSION}: a load-balancer appliance managed as code

Usage:
  lbappliance serve --data-dir DIR [--api-listen HOST:PORT] [--engine KIND] [--engine-workers N]
                    [--password-file FILE] [--tls-cert FILE --tls-key FILE] [--node-name NAME]
  lbappliance demo      (a local appliance, demo servers and TeraRecon's VIPs; Ctrl-C stops)
  lbappliance version

Operating an appliance (over its API):
  lbappliance status [--json] [--color auto|always|never]   the System Overview
  lbappliance drain|halt|online VIP RIP                     a real server's state (label or id)
  lbappliance backup [FILE] [--passphrase-file F]           the whole configuration (keys only encrypted, with F)
  lbappliance restore FILE [--passphrase-file F] [--cert-pem LABEL=PEMFILE ...]
                                                            replace it in one revision

Setting up a real server behind a layer 4 VIP (on the server; see realserver --help):
  lbappliance realserver [--mode direct-routing|nat|snat] --vip ADDR [--os windows] [--apply]
  lbappliance realserver --from-appliance [--server ADDR] [--apply]

Connection (flags, or the environment):
  --endpoint URL      LBAPPLIANCE_ENDPOINT   default https://127.0.0.1:9443
  --username NAME     LBAPPLIANCE_USERNAME   default loadbalancer
                      LBAPPLIANCE_PASSWORD   the password (environment only, never a flag)
  --ca-file FILE      LBAPPLIANCE_CA_FILE    trust this certificate (the appliance's tls/api.crt)
  --insecure          LBAPPLIANCE_INSECURE   do not verify the appliance's certificate

The administrator is "loadbalancer"; at first start its password comes from
LBAPPLIANCE_PASSWORD or --password-file, or is generated and printed once.
Exit status: 0 ok, 1 failed, 2 usage, 3 unreachable, 4 wrong password, 5 forbidden,
6 no such VIP or RIP, 7 refused by the appliance, 8 untrusted certificate.
`;

const commands: Record<string, (argv: string[]) => Promise<void>> = {
  serve: async (argv) => (await import('./serve.js')).serve(argv),
  demo: async (argv) => (await import('../demo/demo.js')).demo(argv),
  status: async (argv) => (await import('./status.js')).status(argv),
  drain: async (argv) => (await import('./admin-state.js')).setAdminState('drain', argv),
  halt: async (argv) => (await import('./admin-state.js')).setAdminState('halt', argv),
  online: async (argv) => (await import('./admin-state.js')).setAdminState('online', argv),
  backup: async (argv) => (await import('./backup.js')).backup(argv),
  restore: async (argv) => (await import('./backup.js')).restore(argv),
  realserver: async (argv) => (await import('./realserver.js')).realserver(argv),
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
