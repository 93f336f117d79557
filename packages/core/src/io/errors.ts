/**
 * The one error the weight readers and writers throw. Its message starts with the file (and, where one is
 * concerned, the tensor) so that a user with several checkpoints can tell which one is broken and how.
 * It is one line: names and text taken from a file have their control characters escaped, so that a
 * hostile file cannot break the line or forge terminal output.
 */
export class WeightFileError extends Error {
  override readonly name = 'WeightFileError';
  /** The file (path, URL or caller-given name) the problem was found in. */
  readonly source: string;
  /** The tensor concerned, when the problem is about one tensor. */
  readonly tensor: string | undefined;

  constructor(source: string, message: string, tensor?: string) {
    super(oneLine(`${source}: ${tensor === undefined ? '' : `tensor '${tensor}' `}${message}`));
    this.source = source;
    this.tensor = tensor;
  }

  /** An error whose message is a headline followed by one indented line per problem. */
  static list(source: string, headline: string, problems: readonly string[]): WeightFileError {
    const error = new WeightFileError(source, headline);
    error.message = [error.message, ...problems.map((p) => `  ${oneLine(p)}`)].join('\n');
    return error;
  }
}

/** Escapes control characters (newlines included) as `\xNN`. */
export function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
