// Downloads and archives: a resumable, verified HTTP(S) download (proxies from the environment), for datasets
// and for weights fetched once into a cache; safe zip extraction; the catalog of real datasets.
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
export { extractZip, formatBytes, listZip, safeEntryPath, type ExtractLimits, type ExtractOptions, type ExtractProgress, type ExtractResult, type ZipEntryInfo } from './extract-zip';
export {
  CYCLEGAN_DATASET_SERVER,
  DATASET_CATALOG,
  DATASET_FOLDERS,
  OFFICIAL_LAYOUT,
  datasetUrl,
  findDataset,
  type ArchiveLayout,
  type CatalogDataset,
  type DatasetFolder,
} from './catalog';
export {
  downloadDataset,
  manualSteps,
  planDataset,
  readDownloadRecords,
  requireDataset,
  type DownloadDatasetOptions,
  type DownloadDatasetResult,
  type DownloadRecord,
} from './download-dataset';
