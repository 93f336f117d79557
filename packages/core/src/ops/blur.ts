import * as tf from '@tensorflow/tfjs-core';
import { DEPTHWISE_RESAMPLE, type TapTable, transposeTable } from '../kernels/shared/depthwise-resample';
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
 * Along one axis of `size`: which input index each upsampled output reads through which filter tap. The op chain
 * below pads by replication (padded index p reads input min(max(p − 1, 0), size − 1)), runs a transposed conv
 * (output o + 1 gets padded input p through tap i where p·stride + i − pad = o + 1) and drops the first output and,
 * for even k, the last.
 */
function upsampleTable(size: number, filterSize: number, stride: number): TapTable {
  const pad = 1 + Math.floor((filterSize - 1) / 2);
  const padded = size + 2;
  const outputs = (padded - 1) * stride - 2 * pad + filterSize - 1 - (filterSize % 2 === 1 ? 0 : 1);
  const table: TapTable = { start: [0], source: [], tap: [], inputSize: size };
  for (let o = 0; o < outputs; o++) {
    for (let i = 0; i < filterSize; i++) {
      const at = o + 1 + pad - i;
      if (at % stride !== 0 || at / stride >= padded) continue;
      table.source.push(Math.min(Math.max(at / stride - 1, 0), size - 1));
      table.tap.push(i);
    }
    table.start.push(table.source.length);
  }
  return table;
}

const upsampleTables = new Map<string, { forward: TapTable; adjoint: TapTable }>();

function cachedUpsampleTables(size: number, filterSize: number, stride: number): { forward: TapTable; adjoint: TapTable } {
  const key = `${size},${filterSize},${stride}`;
  let tables = upsampleTables.get(key);
  if (tables == null) {
    const forward = upsampleTable(size, filterSize, stride);
    upsampleTables.set(key, (tables = { forward, adjoint: transposeTable(forward) }));
  }
  return tables;
}

/** The upsampling as one resampling kernel each way (kernels/shared/depthwise-resample.ts). */
function upsampleByTables(x: tf.Tensor4D, filter: tf.Tensor4D, stride: number): tf.Tensor4D {
  const [, h, w] = x.shape;
  const size = filter.shape[0];
  const rows = cachedUpsampleTables(h, size, stride);
  const cols = cachedUpsampleTables(w, filter.shape[1], stride);
  const resample = (input: tf.Tensor, f: tf.Tensor, forward: boolean): tf.Tensor4D =>
    tf.engine().runKernel(DEPTHWISE_RESAMPLE, { x: input, filter: f }, {
      rows: forward ? rows.forward : rows.adjoint,
      cols: forward ? cols.forward : cols.adjoint,
    } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
  // The filter is a constant buffer: only x gets a gradient, as with the op chain's filterGradient 'none'.
  const run = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    // Saved, not closed over: a filter made inside this op's scope is freed before the backward pass.
    (args[1] as tf.GradSaveFunc)([filter]);
    return {
      value: resample(args[0] as tf.Tensor4D, filter, true),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => resample(dy, saved[0], false),
    };
  });
  return run(x) as tf.Tensor4D;
}

/**
 * The official anti-aliased `Upsample`: replicate pad 1, a depthwise transposed conv with the blur
 * filter scaled by stride², stride `stride` and padding 1 + ⌊(k−1)/2⌋, then drop the first row and column
 * and, for even k, the last ones. With the defaults the output is exactly 2H × 2W. On wasm and cpu all of it is
 * one kernel (upsampleByTables).
 */
function upsample_(x: tf.Tensor4D, options: UpsampleOptions = {}): tf.Tensor4D {
  assertRank4(x.shape, 'upsample');
  const size = options.filter?.shape[0] ?? options.filterSize ?? 4;
  const stride = options.stride ?? 2;
  const padSize = Math.floor((size - 1) / 2);
  const filter = options.filter ?? blurFilter(size, x.shape[3], stride * stride);
  if (tf.getKernel(DEPTHWISE_RESAMPLE, tf.getBackend()) != null) return upsampleByTables(x, filter, stride);
  const padded = replicationPad(x, 1);
  // The blur filter is a constant buffer: its gradient would be a wasted (and slow) kernel.
  const full = depthwiseConvTranspose2d(padded, filter, { stride, padding: 1 + padSize, filterGradient: 'none' });
  const [n, h, w, c] = full.shape;
  const trim = size % 2 === 1 ? 0 : 1;
  return tf.slice(full, [0, 1, 1, 0], [n, h - 1 - trim, w - 1 - trim, c]);
}

export const downsample = tf.op({ downsample_ });
export const upsample = tf.op({ upsample_ });
