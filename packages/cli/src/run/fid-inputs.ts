// What qsattn fid and qsattn eval --fid measure: image folders read as pytorch-fid reads them, their features
// cached per folder, pytorch-fid's .npz statistics, and the Inception weights.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, rmSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { DatasetError, DownloadError, decodeImageFile, download, sha256File } from '@qsattn/data';
import {
  FID_WEIGHTS_FILE,
  FID_WEIGHTS_URL,
  extractFeatures,
  featureStatistics,
  readNpz,
  writeNpz,
  type FeatureStatistics,
  type FidDims,
  type FidInceptionV3,
  type RgbImage,
} from '@qsattn/fid';
import { DownloadProgressBar } from '../download-progress';
import { InputError } from '../io';
import type { ProgressSink } from '../progress';
import { writeFileAtomic } from '../write-file';

/** pytorch-fid's IMAGE_EXTENSIONS: files `*.<ext>` directly in the folder (case as written, not recursive). */
export const FID_IMAGE_EXTENSIONS = ['bmp', 'jpg', 'jpeg', 'pgm', 'png', 'ppm', 'tif', 'tiff', 'webp'] as const;

/** The first 8 hex digits of the weights file's sha256, as its name carries them (torch.hub checks the same). */
export const FID_WEIGHTS_SHA256_PREFIX = '6726825d';

/** Where downloads and statistics are kept: $QSATTN_CACHE_DIR, else $XDG_CACHE_HOME/qsattn, else ~/.cache/qsattn. */
export function defaultCacheDir(): string {
  if (process.env.QSATTN_CACHE_DIR) return process.env.QSATTN_CACHE_DIR;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'qsattn');
}

export function cachedWeightsPath(cacheDir: string): string {
  return join(cacheDir, 'weights', FID_WEIGHTS_FILE);
}

export interface WeightsDownload {
  /** Where to fetch the official file from (default pytorch-fid's release address; a mirror for offline sites). */
  url?: string;
  /** Draws the transfer (bytes, rate, ETA); nothing is drawn when the cached file is used. */
  progress?: ProgressSink;
}

/**
 * Fetches the Inception weights to `path` with the resumable downloader (a partial `path.part` is continued on
 * the next run), then checks the sha256 prefix the file's name carries, as torch.hub does for pytorch-fid; a
 * file that differs is deleted. `path` is either absent or the verified file.
 */
export async function fetchInceptionWeights(url: string, path: string, expectedPrefix: string, progress?: ProgressSink): Promise<string> {
  const bar = progress === undefined ? undefined : new DownloadProgressBar(progress, 'inception', `downloading the FID Inception weights from ${url} to ${path}`);
  const manual = `fetch ${url} (about 92 MB) by hand and save it as ${path}, or pass --inception FILE`;
  let digest: string;
  try {
    mkdirSync(dirname(path), { recursive: true });
    const result = await download(url, path, {
      ...(bar === undefined ? {} : { onProgress: (p) => bar.download(p), onRetry: (r) => bar.message(`inception: ${r.reason}; retrying in ${(r.delayMs / 1000).toFixed(1)} s`) }),
    });
    digest = result.sha256;
  } catch (error) {
    if (error instanceof DownloadError) throw new InputError(`the FID Inception weights could not be downloaded: ${error.message}; ${manual}`, { cause: error });
    throw error;
  } finally {
    bar?.finish();
  }
  if (!digest.startsWith(expectedPrefix)) {
    rmSync(path, { force: true });
    throw new InputError(`${url}: sha256 ${digest.slice(0, 8)}… is not ${expectedPrefix}… (pytorch-fid's file); the download was deleted: ${manual}`);
  }
  return path;
}

/**
 * The Inception weights to load: `--inception FILE` as given (any file in the FID Inception layout), else the
 * cached official file, checked against the sha256 prefix in its name, downloaded into the cache the first time
 * it is needed (as pytorch-fid does through torch.hub).
 */
export async function resolveInceptionWeights(explicit: string | undefined, cacheDir: string, fetch: WeightsDownload = {}): Promise<string> {
  if (explicit !== undefined) {
    if (!existsSync(explicit)) throw new InputError(`--inception ${explicit}: no such file`);
    return explicit;
  }
  const path = cachedWeightsPath(cacheDir);
  if (!existsSync(path)) return fetchInceptionWeights(fetch.url ?? FID_WEIGHTS_URL, path, FID_WEIGHTS_SHA256_PREFIX, fetch.progress);
  const digest = await sha256File(path);
  if (!digest.startsWith(FID_WEIGHTS_SHA256_PREFIX)) {
    throw new InputError(`${path}: sha256 ${digest.slice(0, 8)}… is not ${FID_WEIGHTS_SHA256_PREFIX}… (pytorch-fid's file): delete it and fetch ${FID_WEIGHTS_URL} again`);
  }
  return path;
}

/** The images pytorch-fid's compute_statistics_of_path takes from a folder, sorted by path. */
export function listFidImages(dir: string): string[] {
  if (!existsSync(dir)) throw new InputError(`${dir}: no such folder (give a folder of images or an .npz statistics file)`);
  if (!statSync(dir).isDirectory()) throw new InputError(`${dir}: not a folder or an .npz statistics file`);
  const exts = new Set<string>(FID_IMAGE_EXTENSIONS);
  const files = readdirSync(dir)
    .filter((name) => exts.has(extname(name).slice(1)) && statSync(join(dir, name)).isFile())
    .map((name) => join(dir, name))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (files.length === 0) throw new InputError(`${dir}: no images (*.${FID_IMAGE_EXTENSIONS.join(', *.')}) directly in this folder`);
  return files;
}

/** Features and statistics of one side of a comparison. */
export interface MeasuredSet {
  label: string;
  dims: FidDims;
  statistics: FeatureStatistics;
  /** [count, dims] rows; null for a statistics file without features (no KID then). */
  features: Float32Array | null;
  /** Where they came from: extracted now, the cache, or a statistics file. */
  origin: 'extracted' | 'cache' | 'file';
}

/** Reads statistics saved by pytorch-fid (`--save-stats`: mu, sigma) or by us (also features, for KID). */
export function readStatisticsFile(path: string, dims: FidDims): MeasuredSet {
  if (!existsSync(path)) throw new InputError(`${path}: no such file`);
  const arrays = readNpz(new Uint8Array(readFileSync(path)), path);
  const mu = arrays.get('mu');
  const sigma = arrays.get('sigma');
  if (mu === undefined || sigma === undefined) throw new InputError(`${path}: no 'mu' and 'sigma' arrays (not FID statistics)`);
  if (mu.shape.length !== 1 || mu.shape[0] !== dims || sigma.shape.join(',') !== `${dims},${dims}`) {
    throw new InputError(`${path}: statistics of ${mu.shape[0]} dims, but --dims is ${dims}`);
  }
  const features = arrays.get('features');
  const count = features !== undefined ? features.shape[0] : 0;
  return {
    label: path,
    dims,
    statistics: { dims, count, mu: Float64Array.from(mu.data), sigma: Float64Array.from(sigma.data) },
    features: features === undefined ? null : Float32Array.from(features.data),
    origin: 'file',
  };
}

/** Saves statistics and features as .npz: pytorch-fid reads its mu and sigma, we also read the features. */
export async function writeStatisticsFile(path: string, set: MeasuredSet, meta: object): Promise<void> {
  const { dims, statistics } = set;
  const arrays: Parameters<typeof writeNpz>[0] = {
    mu: { shape: [dims], data: statistics.mu },
    sigma: { shape: [dims, dims], data: statistics.sigma },
    meta: { shape: [0], data: new TextEncoder().encode(JSON.stringify(meta)) },
  };
  arrays.meta.shape = [arrays.meta.data.length];
  if (set.features !== null) arrays.features = { shape: [statistics.count, dims], data: set.features };
  mkdirSync(dirname(path), { recursive: true });
  await writeFileAtomic(path, writeNpz(arrays));
}

/** Draws extraction progress: a bar redrawn in place on a terminal, else a line at the start and the end. */
export class CountProgress {
  private readonly start = performance.now();
  private lastDraw = 0;

  constructor(
    private readonly sink: ProgressSink,
    private readonly label: string,
  ) {}

  update(done: number, total: number): void {
    const now = performance.now();
    const seconds = (now - this.start) / 1000;
    if (this.sink.isTTY === true) {
      if (now - this.lastDraw < 100 && done < total) return;
      this.lastDraw = now;
      const width = 20;
      const filled = Math.round((width * done) / Math.max(1, total));
      const rate = done > 0 ? `${(done / seconds).toFixed(1)} img/s` : '';
      this.sink.write(`\r\x1b[2K[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.label} ${done}/${total} ${rate}`);
      if (done === total) this.sink.write('\n');
    } else if (done === 0) {
      this.sink.write(`${this.label}: ${total} images\n`);
    } else if (done === total) {
      this.sink.write(`${this.label}: ${total} images in ${seconds.toFixed(1)} s\n`);
    }
  }
}

export interface MeasureOptions {
  net: FidInceptionV3;
  dims: FidDims;
  batchSize: number;
  /** Names the weights in the cache key (the weights file). */
  weightsPath: string;
  /** null: no cache. */
  cacheDir: string | null;
  progress: ProgressSink;
  /** A line to the user (cache hits). */
  message: (text: string) => void;
}

/** The folder's identity for the cache: its real path, the weights file and every image's name, size and time. */
function cacheKey(dir: string, files: string[], options: MeasureOptions): string {
  const weights = statSync(options.weightsPath);
  const key = {
    version: 1,
    folder: realpathSync(dir),
    dims: options.dims,
    weights: [realpathSync(options.weightsPath), weights.size, weights.mtimeMs],
    files: files.map((f) => {
      const s = statSync(f);
      return [basename(f), s.size, s.mtimeMs];
    }),
  };
  return createHash('sha256').update(JSON.stringify(key)).digest('hex').slice(0, 16);
}

/** Features and statistics of in-memory images (translations), extracted now. */
export async function measureImages(label: string, count: number, load: (i: number) => Promise<RgbImage> | RgbImage, options: MeasureOptions): Promise<MeasuredSet> {
  const progress = new CountProgress(options.progress, label);
  const features = (
    await extractFeatures(options.net, count, load, {
      dims: [options.dims],
      batchSize: options.batchSize,
      onProgress: ({ done, total }) => progress.update(done, total),
    })
  ).get(options.dims)!;
  return { label, dims: options.dims, statistics: featureStatistics(features, count, options.dims), features, origin: 'extracted' };
}

/** An image as pytorch-fid's dataset reads it (`Image.open(path).convert('RGB')`); a bad one is a one-line error. */
async function readImage(path: string): Promise<RgbImage> {
  try {
    return await decodeImageFile(path);
  } catch (error) {
    const reason = error instanceof DatasetError ? error.message.slice(path.length + 2).replace(/; replace or delete it.*$/, '') : String(error);
    throw new InputError(`${path}: ${reason}; replace or delete it (FID reads every image of the folder)`);
  }
}

/** A folder's features and statistics, from the cache when the folder, the weights and the dims are unchanged. */
export async function measureFolder(dir: string, options: MeasureOptions): Promise<MeasuredSet> {
  const files = listFidImages(dir);
  if (files.length < 2) throw new InputError(`${dir}: FID needs at least 2 images, found ${files.length}`);
  const cachePath = options.cacheDir === null ? null : join(options.cacheDir, 'fid-stats', `${basename(resolve(dir))}-${options.dims}-${cacheKey(dir, files, options)}.npz`);
  if (cachePath !== null && existsSync(cachePath)) {
    try {
      const cached = readStatisticsFile(cachePath, options.dims);
      if (cached.features !== null && cached.statistics.count === files.length) {
        options.message(`${dir}: statistics of ${files.length} images from the cache (${cachePath})`);
        return { ...cached, label: dir, origin: 'cache' };
      }
    } catch {
      // an unreadable cache entry is recomputed and replaced
    }
  }
  const measured = await measureImages(dir, files.length, (i) => readImage(files[i]), options);
  const result = { ...measured, label: dir };
  if (cachePath !== null) await writeStatisticsFile(cachePath, result, { folder: resolve(dir), images: files.length, dims: options.dims, weights: options.weightsPath });
  return result;
}
