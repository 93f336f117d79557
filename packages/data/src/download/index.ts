// Downloads and archives: a resumable, verified HTTP(S) download (proxies from the environment), for datasets
// and for weights fetched once into a cache.
export {
  download,
  partialPath,
  sha256File,
  type DownloadOptions,
  type DownloadProgress,
  type DownloadResult,
  type DownloadRetry,
} from './download';
export { DownloadError, type DownloadErrorCode } from './errors';
