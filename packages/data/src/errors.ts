/** What went wrong, so that callers (the CLI) can react without parsing messages. */
export type DatasetErrorCode =
  | 'missing-folder'
  | 'empty-folder'
  | 'unreadable-image'
  | 'corrupt-image'
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

  constructor(code: DatasetErrorCode, subject: string, message: string) {
    super(`${subject}: ${message}`);
    this.code = code;
    this.subject = subject;
  }
}
