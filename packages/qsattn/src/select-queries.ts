// The non-differentiable half of query selection: the entropy of every position's attention row, computed
// in blocks of rows (never the whole HW×HW matrix) and off the gradient tape, and the n lowest.
import * as tf from '@tensorflow/tfjs-core';
import { softmaxEntropy } from './entropy';
import { resolveLocalWindow, type LocalWindowOptions } from './local-windows';
import { globalLogits, localLogits } from './query-attention';
import { withoutTape } from './no-grad';
import { checkQueryMode, type QueryMode } from './query-mode';
import { toTokens } from './tokens';

export interface QueryEntropyOptions {
  mode: QueryMode;
  /** The neighbourhood of `local` and `local_global` selection. */
  local?: LocalWindowOptions;
  /**
   * Rows of attention computed at a time. Global mode holds `blockSize × HW` logits per image (HW = 4096
   * at 256 px, so 256 rows is 4 MiB); local mode `blockSize × k² × C`. Default 256.
   */
  blockSize?: number;
}

export interface SelectQueriesOptions extends QueryEntropyOptions {
  /** How many queries per image; at most H·W are taken. */
  numQueries: number;
}

const DEFAULT_BLOCK_SIZE = 256;

/**
 * The entropy of every position's attention row `[B, H·W]`: the global rows softmax(T·Tᵀ) in `global` mode, the
 * local rows in `local` and `local_global`. Computed from the logits (`softmaxEntropy`), which agrees with the
 * official `−Σ A·log A` to float rounding wherever that resolves a row, and keeps resolving near-one-hot rows
 * where the official float32 values are denormals or exact zeros. Not differentiable.
 */
export function queryEntropies(feat: tf.Tensor4D, options: QueryEntropyOptions): tf.Tensor2D {
  checkQueryMode(options.mode);
  const blockSize = options.blockSize ?? DEFAULT_BLOCK_SIZE;
  if (!Number.isInteger(blockSize) || blockSize <= 0) throw new Error(`blockSize must be a positive integer, got ${blockSize}`);
  const local = resolveLocalWindow(options.local);
  const [batch, height, width] = feat.shape;
  const count = height * width;
  return withoutTape(feat, () => {
    const tokens = toTokens(feat);
    const blocks: tf.Tensor2D[] = [];
    for (let start = 0; start < count; start += blockSize) {
      const size = Math.min(blockSize, count - start);
      blocks.push(
        tf.tidy(() => {
          let logits: tf.Tensor3D;
          if (options.mode === 'global') {
            logits = globalLogits(tokens, tf.slice(tokens, [0, start, 0], [batch, size, -1]));
          } else {
            const rows = Int32Array.from({ length: size }, (_, i) => start + i);
            logits = localLogits(feat, Array.from({ length: batch }, () => rows), local);
          }
          return softmaxEntropy(logits) as tf.Tensor2D;
        }),
      );
    }
    const entropies = tf.concat(blocks, 1);
    tf.dispose(blocks);
    return entropies;
  });
}

/** Indices of the `n` smallest values, ascending; ties in index order, NaN last. */
export function lowestIds(values: ArrayLike<number>, n: number): Int32Array {
  const key = (i: number): number => (Number.isNaN(values[i]) ? Infinity : values[i]);
  const order = Array.from({ length: values.length }, (_, i) => i);
  order.sort((a, b) => key(a) - key(b) || a - b);
  return Int32Array.from(order.slice(0, n));
}

/**
 * The QS-Attn query selection: per image, the `min(numQueries, H·W)` positions whose attention rows have
 * the lowest entropy, in ascending entropy (ties in index order).
 *
 * In SPEC's terms this is the official selection wherever the official one is defined: rows whose entropies
 * differ in float32 are taken in the same order. Where it is not — entropies equal in float32, which the official
 * `torch.sort` returns in an unspecified order, typically the exactly-zero or denormal entropies of near-one-hot
 * rows at the deepest QS layer — any choice among the tied rows is as official as another; ours takes the rows of
 * truly lowest entropy, which `queryEntropies` still resolves there. So a check against a recorded official step
 * must not compare selections id for id: `qsattn conformance` replays the recorded selection and checks ours by
 * entropy (every row we select has an entropy no larger than the largest of the recorded selection, within
 * SPEC's forward tolerance, and vice versa).
 */
export function selectQueries(feat: tf.Tensor4D, options: SelectQueriesOptions): Int32Array[] {
  const { numQueries } = options;
  if (!Number.isInteger(numQueries) || numQueries <= 0) throw new Error(`numQueries must be a positive integer, got ${numQueries}`);
  const entropies = queryEntropies(feat, options);
  const values = entropies.dataSync();
  entropies.dispose();
  const [batch, count] = entropies.shape;
  const n = Math.min(numQueries, count);
  return Array.from({ length: batch }, (_, b) => lowestIds(values.subarray(b * count, (b + 1) * count), n));
}
