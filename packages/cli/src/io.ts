/** Where a command writes. `process.stdout` and `process.stderr` fit; tests pass in-memory sinks. */
export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  /** Print the stack trace of an error as well as its one-line message (`QSATTN_DEBUG=1`). */
  debug?: boolean;
}

/** Exit statuses: 0 success, 1 the check failed or an input could not be used, 2 the command line is wrong. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** A mistake in the command line (unknown command, option or choice): one line, exit status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** An input the command cannot use (a missing file, a file of the wrong kind): one line, exit status 1. */
export class InputError extends Error {
  override name = 'InputError';
}
