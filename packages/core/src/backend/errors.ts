/** Error thrown for an unknown backend name, a backend that cannot run here, or a bad thread count. */
export class BackendError extends Error {
  override name = 'BackendError';
}
