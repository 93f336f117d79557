import * as tf from '@tensorflow/tfjs-core';
import { depthwiseConvTranspose2d } from './depthwise-conv-transpose2d';
import { assertRank4 } from './pair';
import { reflectionPad } from './reflection-pad';
import { replicationPad } from './replication-pad';

/** Binomial taps of the anti-aliasing filters (Zhang, "Making convolutional networks shift-invariant again"). */
const BINOMIAL: Record<number, number[]> = {
  1: [1],
  2: [1, 1],
  3: [1, 2, 1],
  4: [1, 3, 3, 1],
  5: [1, 4, 6, 4, 1],
  6: [1, 5, 10, 10, 5, 1],
  7: [1, 6, 15, 20, 15, 6, 1],
};

/** The official `get_filter`: outer(a, a) / sum, times `scale`, as `[size, size]` row-major. */
export function blurKernel(size: number, scale = 1): Float32Array {
  const taps = BINOMIAL[size];
  if (taps == null) throw new RangeError(`blur filter size must be 1 to 7, got ${size}`);
  const total = taps.reduce((a, b) => a + b, 0) ** 2;
  const out = new Float32Array(size * size);
  for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) out[i * size + j] = (taps[i] * taps[j] * scale) / total;
  return out;
}

/** The blur kernel as a depthwise filter `[size, size, channels, 1]` (the official buffer `filt`, converted). */
export function blurFilter(size: number, channels: number, scale = 1): tf.Tensor4D {
  const kernel = blurKernel(size, scale);
  const values = new Float32Array(size * size * channels);
  for (let k = 0; k < size * size; k++) values.fill(kernel[k], k * channels, (k + 1) * channels);
  return tf.tensor4d(values, [size, size, channels, 1]);
}

export interface DownsampleOptions {
  /** Taps of the blur filter (1–7). Default 3. */
  filterSize?: number;
  /** Default 2. */
  stride?: number;
  /** The fixed filter `[k, k, C, 1]`, e.g. loaded from a checkpoint; built from `filterSize` if omitted. */
  filter?: tf.Tensor4D;
}

/**
 * The official anti-aliased `Downsample` (blur pool): reflect pad ⌊(k−1)/2⌋ before and ⌈(k−1)/2⌉ after,
 * then a depthwise conv with the blur filter at the stride. With k = 1 it is plain strided subsampling.
 */
function downsample_(x: tf.Tensor4D, options: DownsampleOptions = {}): tf.Tensor4D {
  assertRank4(x.shape, 'downsample');
  const size = options.filter?.shape[0] ?? options.filterSize ?? 3;
  const stride = options.stride ?? 2;
  if (size === 1) return tf.stridedSlice(x, [0, 0, 0, 0], x.shape, [1, stride, stride, 1]) as tf.Tensor4D;
  const lo = Math.floor((size - 1) / 2);
  const hi = Math.ceil((size - 1) / 2);
  const filter = options.filter ?? blurFilter(size, x.shape[3]);
  const padded = reflectionPad(x, [lo, hi, lo, hi]);
  return tf.depthwiseConv2d(padded, filter, stride, 'valid');
}

export interface UpsampleOptions {
  /** Taps of the blur filter (1–7). Default 4. */
  filterSize?: number;
  /** Default 2. */
  stride?: number;
  /** The fixed filter `[k, k, C, 1]`, e.g. loaded from a checkpoint; built from `filterSize` if omitted. */
  filter?: tf.Tensor4D;
}

/**
 * The official anti-aliased `Upsample`: replicate pad 1, a depthwise transposed conv with the blur
 * filter scaled by stride², stride `stride` and padding 1 + ⌊(k−1)/2⌋, then drop the first row and column
 * and, for even k, the last ones. With the defaults the output is exactly 2H × 2W.
 */
function upsample_(x: tf.Tensor4D, options: UpsampleOptions = {}): tf.Tensor4D {
  assertRank4(x.shape, 'upsample');
  const size = options.filter?.shape[0] ?? options.filterSize ?? 4;
  const stride = options.stride ?? 2;
  const padSize = Math.floor((size - 1) / 2);
  const filter = options.filter ?? blurFilter(size, x.shape[3], stride * stride);
  const padded = replicationPad(x, 1);
  // The blur filter is a constant buffer: its gradient would be a wasted (and slow) kernel.
  const full = depthwiseConvTranspose2d(padded, filter, { stride, padding: 1 + padSize, filterGradient: 'none' });
  const [n, h, w, c] = full.shape;
  const trim = size % 2 === 1 ? 0 : 1;
  return tf.slice(full, [0, 1, 1, 0], [n, h - 1 - trim, w - 1 - trim, c]);
}

export const downsample = tf.op({ downsample_ });
export const upsample = tf.op({ upsample_ });
