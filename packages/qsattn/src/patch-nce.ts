// The PatchNCE loss (CUT, Park et al. 2020): each query vector must pick out the key vector of its own
// position among the keys of the other sampled positions of the same image.
import * as tf from '@tensorflow/tfjs-core';
import { stopGradient } from './no-grad';

export interface PatchNceOptions {
  /** Images in the batch; the rows of `q` and `k` are image-major, `[B·n, d]`. */
  batchSize: number;
  /** τ (`nce_T`). Default 0.07. */
  temperature?: number;
}

/**
 * Per-row PatchNCE losses `[B·n]`: cross-entropy of the logits (q·k⁺, q·k⁻ for the other n−1 keys of
 * the same image, and −10 in place of the positive's own diagonal entry) / τ, with the positive as target.
 * `k` is detached, as in the official code.
 */
function patchNceLoss_(q: tf.Tensor2D, k: tf.Tensor2D, options: PatchNceOptions): tf.Tensor1D {
  const { batchSize, temperature = 0.07 } = options;
  if (q.rank !== 2 || k.rank !== 2 || q.shape[0] !== k.shape[0] || q.shape[1] !== k.shape[1]) {
    throw new Error(`patchNceLoss: q [${q.shape.join(', ')}] and k [${k.shape.join(', ')}] must both be [B·n, d]`);
  }
  const [rows, dim] = q.shape;
  if (!Number.isInteger(batchSize) || batchSize <= 0 || rows % batchSize !== 0) {
    throw new Error(`patchNceLoss: ${rows} rows do not split into batchSize ${batchSize} images`);
  }
  if (!(temperature > 0)) throw new Error(`patchNceLoss: temperature must be positive, got ${temperature}`);
  const n = rows / batchSize;
  const key = stopGradient(k);
  const positive = tf.sum(tf.mul(q, key), 1, true);
  const keysT = tf.transpose(tf.reshape(key, [batchSize, n, dim]), [0, 2, 1]);
  const similarities = tf.matMul(tf.reshape(q, [batchSize, n, dim]), keysT);
  // The diagonal is each query's own positive again; the official code masks it with −10 (exp(−10/τ) ≈ 0).
  const diagonal = tf.expandDims(tf.cast(tf.eye(n), 'bool'), 0);
  const negatives = tf.reshape(tf.where(diagonal, tf.scalar(-10), similarities), [rows, n]);
  const logits = tf.div(tf.concat([positive, negatives], 1), temperature);
  return tf.neg(tf.reshape(tf.slice(tf.logSoftmax(logits), [0, 0], [rows, 1]), [rows]));
}

export const patchNceLoss = tf.op({ patchNceLoss_ });

export interface NceAverageOptions {
  /** λ_NCE. Default 1. */
  lambda?: number;
}

/** The official total: mean over layers of (mean over rows × λ). */
export function averageNceLoss(rowLosses: readonly tf.Tensor1D[], options: NceAverageOptions = {}): tf.Scalar {
  const lambda = options.lambda ?? 1;
  if (rowLosses.length === 0) throw new Error('averageNceLoss needs at least one layer');
  return tf.tidy(() => tf.div(tf.addN(rowLosses.map((loss) => tf.mul(tf.mean(loss), lambda))), rowLosses.length));
}
