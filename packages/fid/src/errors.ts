/** A mistake the user can fix (wrong weights file, bad option, too few images); the message names it and the fix. */
export class FidError extends Error {
  override name = 'FidError';
}
