// The official `unaligned` dataset: domain A and domain B images, unpaired.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Rng } from '@qsattn/core';
import { decodeImageFile, readImageHeader } from './decode';
import { DatasetError } from './errors';
import { rgbToGray, toFloatImage, type ByteImage, type ChannelCount, type FloatImage } from './image';
import { listImageFiles } from './image-folder';
import {
  applyTransform,
  checkPreprocessOptions,
  planTransform,
  type PreprocessMode,
  type PreprocessOptions,
  type Size,
  type TransformPlan,
} from './preprocess';

export type Phase = 'train' | 'test';
export type Domain = 'A' | 'B';

export interface UnalignedDatasetOptions {
  /** Preprocessing mode (default 'resize_and_crop'). */
  preprocess?: PreprocessMode;
  /** Size the image is scaled to before cropping (default 286; at test time cropSize). */
  loadSize?: number;
  /** Size of the random crop (default 256). */
  cropSize?: number;
  /** Random horizontal flip (default true; always false at test time). */
  flip?: boolean;
  /** 'test' sets loadSize = cropSize (unless given), no flip and serialBatches, as the official test script does. */
  phase?: Phase;
  /**
   * Pair A[i] with B[i mod |B|] and keep A in order, instead of a random B and a shuffled order
   * (default false for training, true for testing).
   */
  serialBatches?: boolean;
  /** Channels of domain A images: 1 (converted to gray) or 3 (default). */
  inputNc?: ChannelCount;
  /** Channels of domain B images: 1 or 3 (default). */
  outputNc?: ChannelCount;
  /** Use at most this many images of each domain, the first in sorted order (default: all). */
  maxDatasetSize?: number;
  /**
   * Leave out unreadable or corrupt images instead of throwing. Every image is then decoded once when the dataset
   * opens, and each one left out is reported in `skipped` and through `onSkip`.
   */
  skipBadImages?: boolean;
  /** Called for each image left out by `skipBadImages`. */
  onSkip?: (skipped: SkippedImage) => void;
}

export interface FolderDatasetOptions extends UnalignedDatasetOptions {
  /** The official layout: images in `<dataroot>/<phase>A` and `<dataroot>/<phase>B`. */
  dataroot?: string;
  /** Any folder of domain A images (instead of dataroot). */
  dirA?: string;
  /** Any folder of domain B images (instead of dataroot). */
  dirB?: string;
}

/** The options with every default filled in. */
export interface ResolvedDatasetOptions extends PreprocessOptions {
  phase: Phase;
  serialBatches: boolean;
  inputNc: ChannelCount;
  outputNc: ChannelCount;
  maxDatasetSize: number;
  skipBadImages: boolean;
}

export interface SkippedImage {
  path: string;
  domain: Domain;
  /** The one-line error that made it skipped. */
  reason: string;
}

/** One image of a domain, known by its size before it is decoded. */
export interface ImageEntry {
  /** The file path (or, for images in memory, their name). */
  path: string;
  size: Size;
  /** Decodes the image as RGB. */
  load(): Promise<ByteImage>;
}

/** A named image in memory, for datasets that are not folders (the synthetic one). */
export interface NamedImage {
  name: string;
  image: ByteImage;
}

/** Options of one sampling call. */
export interface SampleOptions {
  /**
   * True once the learning rate decays (epoch > n_epochs): loadSize = cropSize, so there is no resize-crop
   * augmentation (the official `current_epoch` trick). Default false.
   */
  finetuning?: boolean;
}

/** The random choices for one dataset index, made before anything is decoded. */
export interface SamplePlan {
  index: number;
  indexA: number;
  indexB: number;
  transformA: TransformPlan;
  transformB: TransformPlan;
}

export interface UnalignedSample {
  A: FloatImage;
  B: FloatImage;
  pathA: string;
  pathB: string;
  indexA: number;
  indexB: number;
}

function resolveOptions(options: UnalignedDatasetOptions): ResolvedDatasetOptions {
  const phase = options.phase ?? 'train';
  if (phase !== 'train' && phase !== 'test') {
    throw new DatasetError('bad-option', 'phase', `unknown phase '${String(phase)}'; use 'train' or 'test'`);
  }
  const test = phase === 'test';
  const cropSize = options.cropSize ?? 256;
  const resolved: ResolvedDatasetOptions = {
    phase,
    preprocess: options.preprocess ?? 'resize_and_crop',
    cropSize,
    loadSize: options.loadSize ?? (test ? cropSize : 286),
    flip: test ? false : (options.flip ?? true),
    serialBatches: options.serialBatches ?? test,
    inputNc: options.inputNc ?? 3,
    outputNc: options.outputNc ?? 3,
    maxDatasetSize: options.maxDatasetSize ?? Infinity,
    skipBadImages: options.skipBadImages ?? false,
  };
  checkPreprocessOptions(resolved);
  for (const name of ['inputNc', 'outputNc'] as const) {
    if (resolved[name] !== 1 && resolved[name] !== 3) {
      throw new DatasetError('bad-option', name, `must be 1 or 3, got ${resolved[name]}`);
    }
  }
  const max = resolved.maxDatasetSize;
  if (!(max === Infinity || (Number.isInteger(max) && max >= 1))) {
    throw new DatasetError('bad-option', 'maxDatasetSize', `must be a positive integer, got ${max}`);
  }
  return resolved;
}

/**
 * Unpaired images of two domains with the official `unaligned` sampling: index i gives A[i mod |A|] and a
 * uniformly random B (or B[i mod |B|] with serialBatches); the dataset's length is max(|A|, |B|).
 * Open one with `openUnalignedDataset` (folders) or `unalignedDatasetFromImages` (memory).
 */
export class UnalignedDataset {
  readonly options: ResolvedDatasetOptions;
  /** The images of each domain, in sampling order. */
  readonly entriesA: readonly ImageEntry[];
  readonly entriesB: readonly ImageEntry[];
  /** Images left out by `skipBadImages`. */
  readonly skipped: readonly SkippedImage[];

  constructor(
    entriesA: readonly ImageEntry[],
    entriesB: readonly ImageEntry[],
    options: ResolvedDatasetOptions,
    skipped: readonly SkippedImage[] = [],
  ) {
    for (const [domain, entries] of [['A', entriesA], ['B', entriesB]] as const) {
      if (entries.length === 0) {
        throw new DatasetError('empty-folder', `domain ${domain}`, 'has no usable images; add images (or check the ones skipped as bad)');
      }
    }
    this.entriesA = entriesA;
    this.entriesB = entriesB;
    this.options = options;
    this.skipped = skipped;
  }

  get sizeA(): number {
    return this.entriesA.length;
  }

  get sizeB(): number {
    return this.entriesB.length;
  }

  /** max(|A|, |B|): the number of samples in an epoch. */
  get length(): number {
    return Math.max(this.sizeA, this.sizeB);
  }

  /** The preprocessing in force for a sampling call. */
  preprocessFor(options: SampleOptions = {}): PreprocessOptions {
    const { preprocess, loadSize, cropSize, flip } = this.options;
    return { preprocess, loadSize: options.finetuning ? cropSize : loadSize, cropSize, flip };
  }

  /**
   * Makes the random choices for dataset index `index`, drawing from `rng` in the official order: B's index
   * (unless serialBatches), then A's crop and flip, then B's. Synchronous, so the Rng's state after it is
   * well defined; nothing is decoded.
   */
  planSample(index: number, rng: Rng, options: SampleOptions = {}): SamplePlan {
    if (!Number.isInteger(index) || index < 0) {
      throw new DatasetError('bad-option', 'index', `must be a non-negative integer, got ${index}`);
    }
    const indexA = index % this.sizeA;
    const indexB = this.options.serialBatches ? index % this.sizeB : rng.int(this.sizeB);
    const preprocess = this.preprocessFor(options);
    const a = this.entriesA[indexA];
    const b = this.entriesB[indexB];
    const transformA = planTransform(a.size, preprocess, rng, a.path);
    const transformB = planTransform(b.size, preprocess, rng, b.path);
    return { index, indexA, indexB, transformA, transformB };
  }

  /** Decodes and transforms the two images of a plan. */
  async loadSample(plan: SamplePlan): Promise<UnalignedSample> {
    const a = this.entriesA[plan.indexA];
    const b = this.entriesB[plan.indexB];
    const [A, B] = await Promise.all([
      this.loadImage(a, plan.transformA, this.options.inputNc),
      this.loadImage(b, plan.transformB, this.options.outputNc),
    ]);
    return { A, B, pathA: a.path, pathB: b.path, indexA: plan.indexA, indexB: plan.indexB };
  }

  /** `planSample` then `loadSample`. */
  sample(index: number, rng: Rng, options: SampleOptions = {}): Promise<UnalignedSample> {
    return this.loadSample(this.planSample(index, rng, options));
  }

  private async loadImage(entry: ImageEntry, plan: TransformPlan, channels: ChannelCount): Promise<FloatImage> {
    let image = await entry.load();
    if (image.width !== entry.size.width || image.height !== entry.size.height) {
      throw new DatasetError(
        'corrupt-image',
        entry.path,
        `decoded as ${image.width}×${image.height} but its header said ${entry.size.width}×${entry.size.height} (changed while the run was going?)`,
        'replace the file, or set skipBadImages to leave bad images out',
      );
    }
    // Grayscale(1) comes first in the official transform list.
    if (channels === 1) image = rgbToGray(image);
    return toFloatImage(applyTransform(image, plan));
  }
}

async function folderExists(dir: string): Promise<boolean> {
  return stat(dir).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/** The two folders: dirA/dirB, or the official layout under dataroot (test falls back to valA/valB). */
async function domainFolders(options: FolderDatasetOptions, phase: Phase): Promise<[string, string]> {
  const { dataroot, dirA, dirB } = options;
  if (dirA !== undefined || dirB !== undefined) {
    if (dirA === undefined || dirB === undefined) {
      throw new DatasetError('bad-option', dirA === undefined ? 'dirA' : 'dirB', 'is missing; pass both dirA and dirB, or dataroot alone');
    }
    return [dirA, dirB];
  }
  if (dataroot === undefined) {
    throw new DatasetError('bad-option', 'dataroot', 'is missing; pass dataroot (the folder holding trainA/ trainB/ testA/ testB/) or dirA and dirB');
  }
  const [a, b] = [join(dataroot, `${phase}A`), join(dataroot, `${phase}B`)];
  if (phase === 'test' && !(await folderExists(a)) && (await folderExists(join(dataroot, 'valA')))) {
    return [join(dataroot, 'valA'), join(dataroot, 'valB')];
  }
  return [a, b];
}

/** Runs `fn` over `items` with at most `limit` calls in flight, keeping the results in order. */
async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

const OPEN_CONCURRENCY = 16;

/**
 * Opens an unpaired dataset from image folders (PNG, JPEG, WebP, sub-folders included, sorted by path).
 * Every image's header is read now, so that a missing, empty or unreadable input fails here with an error that
 * names it; with `skipBadImages` every image is decoded once instead and the bad ones are left out.
 */
export async function openUnalignedDataset(options: FolderDatasetOptions): Promise<UnalignedDataset> {
  const resolved = resolveOptions(options);
  const dirs = await domainFolders(options, resolved.phase);
  const skipped: SkippedImage[] = [];
  // Listed one after the other, so that when both folders are wrong the error is about A's.
  const listed = [await listImageFiles(dirs[0]), await listImageFiles(dirs[1])];
  const domains = await Promise.all(
    (['A', 'B'] as const).map(async (domain, d) => {
      const paths = listed[d].slice(0, resolved.maxDatasetSize);
      const checked = await mapLimited(paths, OPEN_CONCURRENCY, async (path) => {
        try {
          const size = resolved.skipBadImages ? await decodeImageFile(path) : await readImageHeader(path);
          return { path, size: { width: size.width, height: size.height }, load: () => decodeImageFile(path) };
        } catch (error) {
          if (!resolved.skipBadImages || !(error instanceof DatasetError)) throw error;
          skipped.push({ path, domain, reason: error.message });
          return null;
        }
      });
      const entries = checked.filter((e): e is ImageEntry => e !== null);
      if (entries.length === 0) {
        throw new DatasetError('empty-folder', dirs[d], `all ${paths.length} images are unreadable or corrupt; replace them`);
      }
      return entries;
    }),
  );
  skipped.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
  for (const s of skipped) options.onSkip?.(s);
  return new UnalignedDataset(domains[0], domains[1], resolved, skipped);
}

/** An unpaired dataset over images already in memory (for example `synthDataset`'s), with the same sampling. */
export function unalignedDatasetFromImages(
  imagesA: readonly NamedImage[],
  imagesB: readonly NamedImage[],
  options: UnalignedDatasetOptions = {},
): UnalignedDataset {
  const resolved = resolveOptions(options);
  const entries = (images: readonly NamedImage[]): ImageEntry[] =>
    images.slice(0, resolved.maxDatasetSize).map(({ name, image }) => {
      const rgb = image.channels === 3 ? image : grayToRgb(image);
      return { path: name, size: { width: image.width, height: image.height }, load: async () => rgb };
    });
  return new UnalignedDataset(entries(imagesA), entries(imagesB), resolved);
}

/** PIL's L → RGB: the gray value in all three channels. */
function grayToRgb(image: ByteImage): ByteImage {
  const data = new Uint8Array(image.data.length * 3);
  for (let i = 0; i < image.data.length; i++) data[3 * i] = data[3 * i + 1] = data[3 * i + 2] = image.data[i];
  return { width: image.width, height: image.height, channels: 3, data };
}
