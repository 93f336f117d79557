import { writeFileAtomic as writeAtomically } from '@qsattn/core';
import { InputError } from './io';

/**
 * Core's atomic write (temporary file, fsync, rename: a reader or a crash never sees a partial file), with a
 * failure reported as a one-line user error that names the file.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  try {
    await writeAtomically(path, data);
  } catch (err) {
    throw new InputError((err as Error).message);
  }
}
