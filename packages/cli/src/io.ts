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

/** Escapes control characters (newlines included), so that text from a file or an argument cannot break the line. */
export function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** A mistake in the command line (unknown command, option or choice): one line, exit status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
  constructor(message: string, options?: ErrorOptions) {
    super(oneLine(message), options);
  }
}

/** An input the command cannot use (a missing file, a file of the wrong kind): one line, exit status 1. */
export class InputError extends Error {
  override name = 'InputError';
  constructor(message: string, options?: ErrorOptions) {
    super(oneLine(message), options);
  }
}
