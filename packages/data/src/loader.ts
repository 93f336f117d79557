// Batches of an UnalignedDataset, epoch by epoch, as the official DataLoader gives them (shuffle unless
// serialBatches, drop_last), decoded ahead of the training step, with a state that resumes exactly.
import * as tf from '@tensorflow/tfjs-core';
import { ensureBackend, Rng, type RngState } from '@qsattn/core';
import { DatasetError, isBadImageError } from './errors';
import type { FloatImage } from './image';
import type { SampleOptions, SamplePlan, UnalignedDataset, UnalignedSample } from './unaligned-dataset';

export interface UnalignedLoaderOptions {
  /** Samples per batch (default 1). An epoch is ⌊max(|A|, |B|) / batchSize⌋ batches (drop_last). */
  batchSize?: number;
  /** Seed of the loader's Rng, which makes every random choice (default 0). */
  seed?: number;
  /** Batches decoded ahead of the one being used (default 2; 0 decodes on demand). */
  prefetch?: number;
  /**
   * Called for each batch left out because one of its images could not be read mid-run (it disappeared or
   * turned corrupt after the dataset opened). Batches are left out only when the dataset was opened with
   * `skipBadImages`; otherwise such an image is an error naming it.
   */
  onSkip?: (skipped: SkippedBatch) => void;
}

/** A batch left out mid-run: where it was in the epoch, and the image that failed. */
export interface SkippedBatch {
  epoch: number;
  step: number;
  path: string;
  reason: string;
}

/**
 * Where the loader stands: enough to continue exactly, in this process or another. All random choices of an
 * epoch are drawn from the Rng when the epoch starts, so the state is the Rng state at that start and how
 * many of the epoch's batches were delivered.
 */
export interface UnalignedLoaderState {
  /** The Rng state at the start of epoch `epoch`. */
  rng: RngState;
  /** Epochs completed (the index of the epoch in progress or next). */
  epoch: number;
  /** Batches of that epoch already delivered (0: the epoch has not started). */
  step: number;
  /** The `finetuning` the epoch in progress was started with. */
  finetuning: boolean;
}

export interface UnalignedBatch {
  /** Domain A images, [batchSize, H, W, inputNc] in [−1, 1]. The caller disposes it. */
  A: tf.Tensor4D;
  /** Domain B images, [batchSize, H, W, outputNc] in [−1, 1]. The caller disposes it. */
  B: tf.Tensor4D;
  pathsA: string[];
  pathsB: string[];
  /** The loader's epoch index (0 for the first) and the batch's index within it. */
  epoch: number;
  step: number;
}

function stack(images: FloatImage[], names: string[]): { data: Float32Array; shape: [number, number, number, number] } {
  const [first] = images;
  const { width, height, channels } = first;
  images.forEach((image, i) => {
    if (image.width !== width || image.height !== height) {
      throw new DatasetError(
        'size-mismatch',
        names[i],
        `is ${image.width}×${image.height} after preprocessing but ${names[0]} in the same batch is ${width}×${height}; use batchSize 1 or a cropping preprocess mode`,
      );
    }
  });
  const data = new Float32Array(images.length * first.data.length);
  images.forEach((image, i) => data.set(image.data, i * first.data.length));
  return { data, shape: [images.length, height, width, channels] };
}

export class UnalignedLoader {
  readonly dataset: UnalignedDataset;
  readonly batchSize: number;
  readonly prefetch: number;
  private readonly onSkip: ((skipped: SkippedBatch) => void) | undefined;
  private state: UnalignedLoaderState;
  /** Counts epoch() iterations, so that an older one still running cannot move the state. */
  private iteration = 0;

  constructor(dataset: UnalignedDataset, options: UnalignedLoaderOptions = {}) {
    const batchSize = options.batchSize ?? 1;
    const prefetch = options.prefetch ?? 2;
    const seed = options.seed ?? 0;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new DatasetError('bad-option', 'batchSize', `must be a positive integer, got ${batchSize}`);
    }
    if (batchSize > dataset.length) {
      throw new DatasetError(
        'bad-option',
        'batchSize',
        `${batchSize} is more than the ${dataset.length} samples of an epoch (max(|A|, |B|)), so no batch would be full; lower it or add images`,
      );
    }
    if (!Number.isInteger(prefetch) || prefetch < 0) {
      throw new DatasetError('bad-option', 'prefetch', `must be a non-negative integer, got ${prefetch}`);
    }
    if (!Number.isInteger(seed)) throw new DatasetError('bad-option', 'seed', `must be an integer, got ${seed}`);
    this.dataset = dataset;
    this.batchSize = batchSize;
    this.prefetch = prefetch;
    this.onSkip = options.onSkip;
    this.state = { rng: new Rng(seed).getState(), epoch: 0, step: 0, finetuning: false };
  }

  /** Batches in one epoch: ⌊max(|A|, |B|) / batchSize⌋. */
  get batchesPerEpoch(): number {
    return Math.floor(this.dataset.length / this.batchSize);
  }

  /** A copy of the state as of the last batch delivered (batches decoded ahead do not count). */
  getState(): UnalignedLoaderState {
    const { rng, epoch, step, finetuning } = this.state;
    return { rng: { ...rng, words: [...rng.words] }, epoch, step, finetuning };
  }

  setState(state: UnalignedLoaderState): void {
    const { epoch, step } = state;
    if (!Number.isInteger(epoch) || epoch < 0 || !Number.isInteger(step) || step < 0 || step >= this.batchesPerEpoch) {
      throw new DatasetError(
        'bad-state',
        'loader state',
        `epoch ${epoch}, step ${step} is not a position of this loader (${this.batchesPerEpoch} batches per epoch); pass a state saved by a loader over the same dataset and batchSize`,
      );
    }
    Rng.fromState(state.rng); // validates the words
    this.state = { ...state, rng: { ...state.rng, words: [...state.rng.words] }, finetuning: Boolean(state.finetuning) };
  }

  /**
   * All random choices of an epoch, drawn as the official loader draws them: a permutation of the dataset's
   * indices (unless serialBatches), then per sample in that order B's index and the transforms' crops and flips.
   */
  private planEpoch(rng: Rng, options: SampleOptions): SamplePlan[][] {
    const { length } = this.dataset;
    const order = this.dataset.options.serialBatches ? Int32Array.from({ length }, (_, i) => i) : rng.permutation(length);
    const batches: SamplePlan[][] = [];
    for (let b = 0; b < this.batchesPerEpoch; b++) {
      const batch: SamplePlan[] = [];
      for (let k = 0; k < this.batchSize; k++) batch.push(this.dataset.planSample(order[b * this.batchSize + k], rng, options));
      batches.push(batch);
    }
    return batches;
  }

  /**
   * The batches of the epoch in progress (continuing it if an earlier iteration stopped part-way or the state
   * was restored), else of the next one. Up to `prefetch` batches are decoded ahead while the caller works;
   * stopping the iteration early drops them and leaves the state at the last batch delivered. Starting a new
   * iteration ends the previous one (its next batch throws).
   */
  async *epoch(options: SampleOptions = {}): AsyncGenerator<UnalignedBatch, void, undefined> {
    await ensureBackend(); // batches are tensors: the backend chosen so far, or `auto` on first use
    const finetuning = options.finetuning ?? false;
    const iteration = ++this.iteration;
    const start = this.getState();
    if (start.step > 0 && start.finetuning !== finetuning) {
      throw new DatasetError(
        'bad-state',
        'finetuning',
        `epoch ${start.epoch} was started with finetuning ${start.finetuning} and is ${start.step} batches in; pass the same value to continue it`,
      );
    }
    const rng = Rng.fromState(start.rng);
    const plans = this.planEpoch(rng, { finetuning });
    const next: UnalignedLoaderState = { rng: rng.getState(), epoch: start.epoch + 1, step: 0, finetuning: false };

    const queue: Promise<UnalignedSample[]>[] = [];
    let scheduled = start.step;
    const fill = (depth: number): void => {
      while (queue.length < depth && scheduled < plans.length) {
        const pending = Promise.all(plans[scheduled++].map((plan) => this.dataset.loadSample(plan)));
        pending.catch(() => undefined); // handled when awaited; dropped batches must not raise unhandled rejections
        queue.push(pending);
      }
    };
    try {
      for (let step = start.step; step < plans.length; step++) {
        fill(Math.max(1, this.prefetch));
        let samples: UnalignedSample[];
        try {
          samples = await queue.shift()!;
        } catch (error) {
          if (!(this.dataset.options.skipBadImages && isBadImageError(error))) throw error;
          samples = [];
          this.onSkip?.({ epoch: start.epoch, step, path: error.subject, reason: error.message });
        }
        if (iteration !== this.iteration) {
          throw new DatasetError('bad-state', 'loader', 'a newer epoch() iteration was started; use one iteration at a time');
        }
        fill(this.prefetch);
        const after: UnalignedLoaderState = step + 1 === plans.length ? next : { rng: start.rng, epoch: start.epoch, step: step + 1, finetuning };
        if (samples.length === 0) {
          this.state = after; // left out: the state moves past it, so a resume does not retry it
          continue;
        }
        const a = stack(samples.map((s) => s.A), samples.map((s) => s.pathA));
        const b = stack(samples.map((s) => s.B), samples.map((s) => s.pathB));
        this.state = after;
        yield {
          A: tf.tensor4d(a.data, a.shape),
          B: tf.tensor4d(b.data, b.shape),
          pathsA: samples.map((s) => s.pathA),
          pathsB: samples.map((s) => s.pathB),
          epoch: start.epoch,
          step,
        };
      }
    } finally {
      queue.length = 0;
    }
  }
}
