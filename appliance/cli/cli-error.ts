// An error the CLI reports as one line and a distinct exit status per kind, so a script can
// tell a wrong password from an appliance that is down (docs/cli.md lists them).

/** The CLI's stable error codes and their exit statuses. */
export const CLI_EXIT = {
  /** Anything else: the appliance failed, or an unexpected answer. */
  LB_CLI_FAILED: 1,
  /** Wrong command line (unknown option, missing argument, unreadable file). */
  LB_CLI_USAGE: 2,
  /** The appliance could not be reached (refused, timed out, no route). */
  LB_CLI_UNREACHABLE: 3,
  /** Wrong user name or password, or locked out after too many failures. */
  LB_CLI_UNAUTHORIZED: 4,
  /** The user may not do this (a read-only user writing). */
  LB_CLI_FORBIDDEN: 5,
  /** No such virtual service, real server or object. */
  LB_CLI_NOT_FOUND: 6,
  /** The appliance refused the change (validation, conflict, a secondary of an HA pair). */
  LB_CLI_REFUSED: 7,
  /** The appliance's certificate is not trusted (use --ca-file or --insecure). */
  LB_CLI_UNTRUSTED: 8,
} as const;

/** A stable CLI error code. */
export type CliErrorCode = keyof typeof CLI_EXIT;

/** A CLI error with its code and exit status. */
export class CliError extends Error {
  override readonly name = 'CliError';
  readonly code: CliErrorCode;
  readonly exitCode: number;

  /** A usage error (exit 2) unless a code or an exit status is given. */
  constructor(message: string, codeOrExit: CliErrorCode | number = 'LB_CLI_USAGE') {
    super(message);
    if (typeof codeOrExit === 'number') {
      this.exitCode = codeOrExit;
      this.code = (Object.entries(CLI_EXIT).find(([, v]) => v === codeOrExit)?.[0] as CliErrorCode | undefined) ?? 'LB_CLI_FAILED';
    } else {
      this.code = codeOrExit;
      this.exitCode = CLI_EXIT[codeOrExit];
    }
  }
}
