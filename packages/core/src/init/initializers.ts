import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from './rng';

/** The official code's `init_type` choices; `gain` is its `init_gain` (0.02 by default). */
export type InitScheme =
  | { type: 'normal'; gain?: number }
  | { type: 'xavier'; gain?: number }
  | { type: 'kaiming'; a?: number; mode?: 'fan_in' | 'fan_out' }
  | { type: 'orthogonal'; gain?: number };

export const INIT_TYPES = ['normal', 'xavier', 'kaiming', 'orthogonal'] as const;
const DEFAULT_GAIN = 0.02;

/**
 * Fans computed as PyTorch computes them, from a weight in **PyTorch layout**: dim 1 is the input maps,
 * dim 0 the output maps, and the trailing dims the receptive field (conv `[out, in, kh, kw]`,
 * ConvTranspose `[in, out, kh, kw]`, Linear `[out, in]`).
 */
export function torchFans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length < 2) throw new Error(`fans need a weight of at least 2 dims, got shape [${shape.join(', ')}]`);
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[1] * receptive, fanOut: shape[0] * receptive };
}

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** `torch.nn.init.xavier_normal_`: N(0, gain²·2/(fan_in+fan_out)). */
export function xavierNormal(shape: readonly number[], rng: Rng, gain = 1): Float32Array {
  const { fanIn, fanOut } = torchFans(shape);
  const std = gain * Math.sqrt(2 / (fanIn + fanOut));
  return rng.fillNormal(new Float32Array(sizeOf(shape)), 0, std) as Float32Array;
}

/** `torch.nn.init.kaiming_normal_` with the leaky-ReLU gain √(2/(1+a²)). */
export function kaimingNormal(
  shape: readonly number[],
  rng: Rng,
  { a = 0, mode = 'fan_in' }: { a?: number; mode?: 'fan_in' | 'fan_out' } = {},
): Float32Array {
  const { fanIn, fanOut } = torchFans(shape);
  const std = Math.sqrt(2 / (1 + a * a)) / Math.sqrt(mode === 'fan_in' ? fanIn : fanOut);
  return rng.fillNormal(new Float32Array(sizeOf(shape)), 0, std) as Float32Array;
}

/** `torch.nn.init.normal_(w, 0, std)`. */
export function normal(shape: readonly number[], rng: Rng, std = 1): Float32Array {
  return rng.fillNormal(new Float32Array(sizeOf(shape)), 0, std) as Float32Array;
}

/**
 * `torch.nn.init.orthogonal_`: the weight flattened to `[shape[0], rest]` has orthonormal rows (or
 * columns, whichever are fewer), scaled by `gain`. Q comes from a QR of a Gaussian matrix with R's
 * diagonal made positive, computed in float64 by modified Gram–Schmidt with one re-orthogonalisation.
 */
export function orthogonal(shape: readonly number[], rng: Rng, gain = 1): Float32Array {
  if (shape.length < 2) throw new Error(`orthogonal init needs at least 2 dims, got [${shape.join(', ')}]`);
  const rows = shape[0];
  const cols = sizeOf(shape) / rows;
  const flat = rng.fillNormal(new Float64Array(rows * cols)) as Float64Array;
  // Work on the tall orientation: m ≥ n, orthonormalise the n columns.
  const transposed = rows < cols;
  const m = transposed ? cols : rows;
  const n = transposed ? rows : cols;
  const at = (i: number, j: number): number => (transposed ? flat[j * cols + i] : flat[i * cols + j]);
  const columns: Float64Array[] = [];
  for (let j = 0; j < n; j++) {
    const v = new Float64Array(m);
    for (let i = 0; i < m; i++) v[i] = at(i, j);
    for (let pass = 0; pass < 2; pass++) {
      for (const q of columns) {
        let dot = 0;
        for (let i = 0; i < m; i++) dot += q[i] * v[i];
        for (let i = 0; i < m; i++) v[i] -= dot * q[i];
      }
    }
    let norm = 0;
    for (let i = 0; i < m; i++) norm += v[i] * v[i];
    norm = Math.sqrt(norm);
    for (let i = 0; i < m; i++) v[i] /= norm;
    columns.push(v);
  }
  const out = new Float32Array(rows * cols);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < m; i++) {
      const value = gain * columns[j][i];
      if (transposed) out[j * cols + i] = value;
      else out[i * cols + j] = value;
    }
  }
  return out;
}

/**
 * A weight initialised as the official `init_weights` does, returned in **PyTorch layout** (convert it
 * with the layout functions before use). Biases are initialised to zero by the layers themselves.
 */
export function initWeight(torchShape: readonly number[], scheme: InitScheme, rng: Rng): tf.Tensor {
  let values: Float32Array;
  switch (scheme.type) {
    case 'normal':
      values = normal(torchShape, rng, scheme.gain ?? DEFAULT_GAIN);
      break;
    case 'xavier':
      values = xavierNormal(torchShape, rng, scheme.gain ?? DEFAULT_GAIN);
      break;
    case 'kaiming':
      values = kaimingNormal(torchShape, rng, scheme);
      break;
    case 'orthogonal':
      values = orthogonal(torchShape, rng, scheme.gain ?? DEFAULT_GAIN);
      break;
    default: {
      const unknown = (scheme as { type: string }).type;
      throw new Error(`unknown init type '${unknown}': choose one of ${INIT_TYPES.join(', ')}`);
    }
  }
  return tf.tensor(values, [...torchShape], 'float32');
}
