// An error the CLI reports as one line and exit status 2 (usage) or 1 (failure).

/** A CLI error with its exit status. */
export class CliError extends Error {
  override readonly name = 'CliError';
  readonly exitCode: number;

  constructor(message: string, exitCode = 2) {
    super(message);
    this.exitCode = exitCode;
  }
}
