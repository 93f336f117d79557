/**
 * The one error the weight readers and writers throw. Its message starts with the file (and, where one is
 * concerned, the tensor) so that a user with several checkpoints can tell which one is broken and how.
 */
export class WeightFileError extends Error {
  override readonly name = 'WeightFileError';
  /** The file (path, URL or caller-given name) the problem was found in. */
  readonly source: string;
  /** The tensor concerned, when the problem is about one tensor. */
  readonly tensor: string | undefined;

  constructor(source: string, message: string, tensor?: string) {
    super(`${source}: ${tensor === undefined ? '' : `tensor '${tensor}' `}${message}`);
    this.source = source;
    this.tensor = tensor;
  }
}
