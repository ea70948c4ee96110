// Errors the CLI reports as one line (`pagewalk: <message>`), as opposed to
// internal bugs. `exitCode` 2 marks misuse (unknown command or option).

export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2);
  }
}
