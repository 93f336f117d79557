// `qsattn datasets download NAME`: fetch NAME.zip (resumably, checked against the sha256 recorded the first time
// it was downloaded), then lay it out as OUT/NAME/{trainA,trainB,testA,testB} through a safe extraction.
import { promises as fs } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import type { Dispatcher } from 'undici';
import { IMAGE_EXTENSIONS } from '../decode';
import { DATASET_CATALOG, DATASET_FOLDERS, OFFICIAL_LAYOUT, datasetUrl, findDataset, type ArchiveLayout, type CatalogDataset, type DatasetFolder } from './catalog';
import { download, type DownloadProgress, type DownloadRetry } from './download';
import { DownloadError, writeError } from './errors';
import { extractZip, listZip, type ExtractLimits, type ExtractProgress, type ZipEntryInfo } from './extract-zip';

export interface DownloadRecord {
  sha256: string;
  bytes: number;
  url: string;
  /** ISO time of the first complete download. */
  recorded: string;
}

export interface DownloadDatasetOptions {
  /** The folder that gets NAME/ (and NAME.zip while downloading). */
  outDir: string;
  /** A mirror: a .zip address, or a folder address that NAME.zip is appended to. */
  url?: string;
  /** A zip already on disk, used instead of downloading. */
  file?: string;
  /** Replace an existing OUT/NAME (only once the new one is complete). */
  force?: boolean;
  /** Keep OUT/NAME.zip after extracting (default: removed). */
  keepZip?: boolean;
  /** The JSON file of sha256 records, by zip name (no records when absent). */
  recordsPath?: string;
  limits?: ExtractLimits;
  onDownloadProgress?: (progress: DownloadProgress) => void;
  onRetry?: (retry: DownloadRetry) => void;
  onExtractProgress?: (progress: ExtractProgress) => void;
  signal?: AbortSignal;
  retries?: number;
  retryDelayMs?: number;
  dispatcher?: Dispatcher;
}

export interface DownloadDatasetResult {
  name: string;
  /** OUT/NAME. */
  path: string;
  /** Images in each folder (folders the archive lacks are absent). */
  counts: Partial<Record<DatasetFolder, number>>;
  zip: {
    path: string;
    /** Where it came from ('file' for --file). */
    source: string;
    sha256: string;
    bytes: number;
    /** 'recorded': first download, its sha256 now recorded; 'verified': matched the record; 'unrecorded': no records kept. */
    check: 'recorded' | 'verified' | 'unrecorded';
    reused: boolean;
    resumed: boolean;
    kept: boolean;
  };
}

/** The catalog names, for error messages. */
function names(): string {
  return DATASET_CATALOG.map((d) => d.name).join(', ');
}

/** The dataset entry, or a one-line error listing the names. */
export function requireDataset(name: string): CatalogDataset {
  const entry = findDataset(name);
  if (entry === undefined) throw new DownloadError('bad-option', name, `is not a dataset we know: choose one of ${names()} (qsattn datasets list)`);
  return entry;
}

/** The manual steps for a dataset that needs them, with DIR replaced by `outDir`. */
export function manualSteps(entry: CatalogDataset, outDir: string): string[] {
  return (entry.steps ?? []).map((line) => line.replaceAll('DIR', outDir));
}

export async function readDownloadRecords(path: string): Promise<Record<string, DownloadRecord>> {
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch {
    return {};
  }
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, DownloadRecord>) : {};
  } catch {
    throw new DownloadError('bad-archive', path, 'is not valid JSON: fix it or delete it (the sha256 records are made again on the next downloads)');
  }
}

async function writeDownloadRecord(path: string, key: string, record: DownloadRecord): Promise<void> {
  const records = await readDownloadRecords(path);
  records[key] = record;
  const temp = `${path}.${process.pid}.tmp`;
  try {
    await fs.mkdir(dirname(path), { recursive: true });
    await fs.writeFile(temp, `${JSON.stringify(records, null, 2)}\n`);
    await fs.rename(temp, path);
  } catch (err) {
    await fs.rm(temp, { force: true });
    throw writeError(path, err);
  }
}

/**
 * Downloads (or takes `file`) and lays out the dataset `name` as OUT/NAME/{trainA,trainB,testA,testB}. The first
 * complete download's sha256 is recorded in `recordsPath`; later ones must match it. Throws a DownloadError.
 */
export async function downloadDataset(name: string, options: DownloadDatasetOptions): Promise<DownloadDatasetResult> {
  const entry = requireDataset(name);
  const target = join(options.outDir, name);
  if (!options.force && (await fs.lstat(target).catch(() => undefined)) !== undefined) {
    throw new DownloadError('exists', target, 'already exists: remove it or pass --force to replace it (or choose another --out)');
  }
  if (entry.kind === 'manual' && options.url === undefined && options.file === undefined) {
    throw new DownloadError('bad-option', name, `needs a manual step: ${manualSteps(entry, options.outDir).join(' ')}`);
  }
  if (entry.kind === 'manual' && entry.archive === undefined) {
    throw new DownloadError('bad-option', name, `cannot be downloaded as one zip: ${manualSteps(entry, options.outDir).join(' ')}`);
  }
  const layout = entry.archive?.layout ?? OFFICIAL_LAYOUT;
  const zipName = entry.archive?.file ?? `${name}.zip`;

  let zip: DownloadDatasetResult['zip'] = {
    path: '',
    source: '',
    sha256: '',
    bytes: 0,
    check: 'unrecorded',
    reused: false,
    resumed: false,
    kept: true,
  };
  if (options.file !== undefined) {
    zip = { path: options.file, source: 'file', sha256: '', bytes: 0, check: 'unrecorded', reused: true, resumed: false, kept: true };
    const stat = await fs.stat(options.file).catch(() => undefined);
    if (stat === undefined || !stat.isFile()) throw new DownloadError('bad-option', options.file, 'no such file: give the path of the downloaded zip');
    zip.bytes = stat.size;
  }
  let pending: { key: string; record: DownloadRecord } | undefined;
  if (options.file === undefined) ({ zip, pending } = await fetchZip(entry, zipName, options));

  await removeStaleStaging(options.outDir, name);
  let planned: ReturnType<typeof planDataset>;
  try {
    planned = planDataset(zip.path, await listZip(zip.path, options.limits), layout);
    await fs.mkdir(options.outDir, { recursive: true }).catch((err: unknown) => {
      throw writeError(options.outDir, err);
    });
    await extractZip(zip.path, target, {
      plan: () => planned.place,
      replace: options.force === true,
      ...(options.limits === undefined ? {} : { limits: options.limits }),
      ...(options.onExtractProgress === undefined ? {} : { onProgress: options.onExtractProgress }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  } catch (err) {
    // A downloaded archive that cannot be a dataset is of no use to keep (a disk-full one is kept for a retry).
    if (options.file === undefined && err instanceof DownloadError && UNUSABLE.has(err.code)) await fs.rm(zip.path, { force: true });
    throw err;
  }
  // Recorded only now, so that a damaged first download is never taken as the reference.
  if (pending !== undefined) await writeDownloadRecord(options.recordsPath!, pending.key, pending.record);
  if (options.file === undefined && !options.keepZip) {
    await fs.rm(zip.path, { force: true });
    zip.kept = false;
  }
  return { name, path: target, counts: planned.counts, zip };
}

async function fetchZip(
  entry: CatalogDataset,
  zipName: string,
  options: DownloadDatasetOptions,
): Promise<{ zip: DownloadDatasetResult['zip']; pending?: { key: string; record: DownloadRecord } }> {
  const url = datasetUrl(entry.name, options.url);
  const path = join(options.outDir, zipName);
  const records = options.recordsPath === undefined ? {} : await readDownloadRecords(options.recordsPath);
  const record = records[zipName];
  await fs.mkdir(options.outDir, { recursive: true }).catch((err: unknown) => {
    throw writeError(options.outDir, err);
  });
  let result;
  try {
    result = await download(url, path, {
      ...(record === undefined ? {} : { sha256: record.sha256, size: record.bytes }),
      ...(options.onDownloadProgress === undefined ? {} : { onProgress: options.onDownloadProgress }),
      ...(options.onRetry === undefined ? {} : { onRetry: options.onRetry }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(options.retries === undefined ? {} : { retries: options.retries }),
      ...(options.retryDelayMs === undefined ? {} : { retryDelayMs: options.retryDelayMs }),
      ...(options.dispatcher === undefined ? {} : { dispatcher: options.dispatcher }),
    });
  } catch (err) {
    if (err instanceof DownloadError && err.code === 'http' && err.status === 404 && entry.hint !== undefined) {
      throw new DownloadError('http', url, `the server answered 404 Not Found: ${entry.hint}`, { status: 404, cause: err });
    }
    if (err instanceof DownloadError && (err.code === 'checksum-mismatch' || err.code === 'size-mismatch') && record !== undefined) {
      throw new DownloadError(
        err.code,
        url,
        `the file differs from the copy first downloaded on ${record.recorded.slice(0, 10)} (sha256 ${record.sha256.slice(0, 12)}…, ${record.bytes} bytes, recorded in ${options.recordsPath}): the download is damaged or the server's file changed; it was deleted. Run the command again, or delete that record to accept the new file`,
        { cause: err },
      );
    }
    throw err;
  }
  const check = record !== undefined ? 'verified' : options.recordsPath !== undefined ? 'recorded' : 'unrecorded';
  const zip = { path, source: result.url, sha256: result.sha256, bytes: result.bytes, check, reused: result.reused, resumed: result.resumed, kept: true } as const;
  if (check !== 'recorded') return { zip };
  return { zip, pending: { key: zipName, record: { sha256: result.sha256, bytes: result.bytes, url: result.url, recorded: new Date().toISOString() } } };
}

/** Temporary folders left by an extraction that was killed (extractZip removes its own on any error it sees). */
async function removeStaleStaging(outDir: string, name: string): Promise<void> {
  const entries = await fs.readdir(outDir).catch(() => [] as string[]);
  for (const entry of entries) {
    if (entry.startsWith(`.${name}.extracting-`)) await fs.rm(join(outDir, entry), { recursive: true, force: true });
  }
}

const UNUSABLE = new Set(['unsafe-archive', 'archive-too-large', 'not-a-dataset', 'bad-archive']);
const JUNK = /(^|\/)(__MACOSX(\/|$)|\.DS_Store$|Thumbs\.db$|\._)/;

/**
 * Finds the folder in the archive that holds the dataset's folders (the archive's root, or a folder such as
 * `horse2zebra/` or `afhq/`) and maps each file under it to OUT/NAME/<our folder>/…; everything else is skipped.
 * Throws 'not-a-dataset' (before anything is written) when there is no trainA and trainB with images.
 */
export function planDataset(zipPath: string, entries: readonly ZipEntryInfo[], layout: ArchiveLayout): { place: (path: string) => string | undefined; counts: Partial<Record<DatasetFolder, number>> } {
  const files = entries.filter((e) => !e.directory && !JUNK.test(e.path)).map((e) => e.path);
  const folders = new Set<string>(['']);
  for (const file of files) {
    for (let dir = posix.dirname(file); dir !== '.' && dir !== '' && !folders.has(dir); dir = posix.dirname(dir)) folders.add(dir);
  }
  const has = (prefix: string, folder: DatasetFolder) => files.some((f) => f.startsWith(`${prefix}${layout[folder]}/`));
  const roots = [...folders]
    .map((dir) => (dir === '' ? '' : `${dir}/`))
    .filter((prefix) => has(prefix, 'trainA') && has(prefix, 'trainB'))
    .sort((a, b) => a.split('/').length - b.split('/').length || a.localeCompare(b));
  const root = roots[0];
  if (root === undefined) {
    const top = [...new Set(entries.map((e) => e.path.split('/')[0] + (e.directory || e.path.includes('/') ? '/' : '')))].filter((n) => n !== '/');
    const shown = top.slice(0, 6).join(', ') + (top.length > 6 ? ', …' : '');
    throw new DownloadError(
      'not-a-dataset',
      zipPath,
      `is not an unpaired dataset: it has no ${layout.trainA}/ and ${layout.trainB}/ folders (it holds: ${shown || 'nothing'}): check the name and the --url; nothing was extracted`,
    );
  }
  const counts: Partial<Record<DatasetFolder, number>> = {};
  const images = new Set<string>(IMAGE_EXTENSIONS);
  const place = (path: string): string | undefined => {
    if (JUNK.test(path)) return undefined;
    for (const folder of DATASET_FOLDERS) {
      const prefix = `${root}${layout[folder]}/`;
      if (path.startsWith(prefix)) return `${folder}/${path.slice(prefix.length)}`;
      if (path === `${root}${layout[folder]}`) return folder;
    }
    return undefined;
  };
  for (const file of files) {
    const mapped = place(file);
    if (mapped === undefined) continue;
    const folder = mapped.split('/')[0] as DatasetFolder;
    if (images.has(posix.extname(file).toLowerCase())) counts[folder] = (counts[folder] ?? 0) + 1;
  }
  const ordered: Partial<Record<DatasetFolder, number>> = {};
  for (const folder of DATASET_FOLDERS) if (counts[folder] !== undefined) ordered[folder] = counts[folder];
  for (const folder of ['trainA', 'trainB'] as const) {
    if ((counts[folder] ?? 0) === 0) {
      throw new DownloadError('not-a-dataset', zipPath, `has no images (${IMAGE_EXTENSIONS.join(', ')}) in ${root}${layout[folder]}/: this is not an unpaired dataset; nothing was extracted`);
    }
  }
  return { place, counts: ordered };
}
