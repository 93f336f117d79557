/** What went wrong, so that callers (the CLI) can react without parsing messages. */
export type DatasetErrorCode =
  | 'missing-folder'
  | 'empty-folder'
  | 'unreadable-image'
  | 'corrupt-image'
  | 'image-too-large'
  | 'image-too-small'
  | 'size-mismatch'
  | 'bad-option'
  | 'bad-state'
  | 'write-failed';

/**
 * The one error this package throws. Its message is one line that starts with the file or folder concerned
 * (or the option) and ends with what to do about it.
 */
export class DatasetError extends Error {
  override readonly name = 'DatasetError';
  readonly code: DatasetErrorCode;
  /** The file or folder concerned, or the option's name for 'bad-option'. */
  readonly subject: string;

  /** What is wrong, without the advice on what to do (so that a caller can give its own). */
  readonly problem: string;

  /** `fix`, when given, follows the problem after a semicolon. */
  constructor(code: DatasetErrorCode, subject: string, problem: string, fix?: string) {
    super(`${subject}: ${problem}${fix === undefined ? '' : `; ${fix}`}`);
    this.code = code;
    this.subject = subject;
    this.problem = problem;
  }
}

/** The codes of an image that cannot be used: gone, unreadable, corrupt or too large (what `skipBadImages` skips). */
export const BAD_IMAGE_CODES: readonly DatasetErrorCode[] = ['unreadable-image', 'corrupt-image', 'image-too-large'];

export function isBadImageError(error: unknown): error is DatasetError {
  return error instanceof DatasetError && BAD_IMAGE_CODES.includes(error.code);
}
