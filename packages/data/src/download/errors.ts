/** What went wrong in a download or an extraction, so that callers can react without parsing messages. */
export type DownloadErrorCode =
  | 'bad-option'
  | 'network'
  | 'http'
  | 'size-mismatch'
  | 'checksum-mismatch'
  | 'disk-full'
  | 'write-failed'
  | 'aborted'
  | 'bad-archive'
  | 'unsafe-archive'
  | 'archive-too-large'
  | 'not-a-dataset'
  | 'exists';

/**
 * The one error the download and extraction code throws. Its message is one line that starts with the address,
 * file or folder concerned and ends with what to do about it.
 */
export class DownloadError extends Error {
  override readonly name = 'DownloadError';
  readonly code: DownloadErrorCode;
  /** The address, file or folder concerned. */
  readonly subject: string;
  /** The HTTP status, for 'http'. */
  readonly status?: number;

  constructor(code: DownloadErrorCode, subject: string, message: string, options?: { status?: number; cause?: unknown }) {
    super(`${subject}: ${message}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.subject = subject;
    if (options?.status !== undefined) this.status = options.status;
  }
}

/** The `code` of a Node system error (ENOSPC, ECONNRESET, …) or an undici error (UND_ERR_SOCKET, …), if any. */
export function errorCode(err: unknown): string | undefined {
  let e: unknown = err;
  // undici wraps the socket's error in `cause`; look a few levels down.
  for (let depth = 0; depth < 4 && e instanceof Error; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

const DISK_FULL = new Set(['ENOSPC', 'EDQUOT']);

/** A write failure as a DownloadError: disk full gets its own code and advice. */
export function writeError(path: string, err: unknown): DownloadError {
  const code = errorCode(err);
  if (code !== undefined && DISK_FULL.has(code)) {
    return new DownloadError('disk-full', path, 'the disk is full: free some space (or choose another folder) and run the command again; what was written so far is kept', { cause: err });
  }
  const detail = err instanceof Error ? err.message : String(err);
  return new DownloadError('write-failed', path, `cannot write (${detail}): check the folder's permissions`, { cause: err });
}
