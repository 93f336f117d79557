import * as tf from '@tensorflow/tfjs-core';

/**
 * Entropy `−Σ p·log p` of probability rows along the last axis, where a term whose `−log p` is infinite
 * (p = 0, e.g. an underflowed softmax entry) counts as 0 instead of giving 0·∞ = NaN, as the official code.
 */
function rowEntropy_(probs: tf.Tensor): tf.Tensor {
  const surprise = tf.neg(tf.log(probs));
  const finite = tf.where(tf.equal(probs, 0), tf.zerosLike(surprise), surprise);
  return tf.sum(tf.mul(probs, finite), -1);
}

export const rowEntropy = tf.op({ rowEntropy_ });

/**
 * Entropy of `softmax(logits)` along the last axis, from the logits, without forming the probabilities:
 * with `s = logits − max` (so `s ≤ 0`) and `S = Σ exp(s)`,
 *
 *     H = log S − Σ p·s = log1p(S − 1) + Σ exp(s)·(−s) / S.
 *
 * Both terms are sums of non-negative numbers, so nothing cancels, and `S − 1` is summed from the entries
 * below the maximum (plus any ties at it) rather than subtracted. A near-one-hot row therefore keeps its
 * entropy (about `Σ exp(s)·(1 − s)` over the non-maximal entries) down to where `exp(s)` itself underflows,
 * where `rowEntropy(softmax(logits))` — the official formulation — loses it once the largest probability rounds
 * to 1 (from entropies near 1e-7 down), leaving float32 denormals or exact zeros. Elsewhere both agree to float
 * rounding, so the order of rows that are not near-one-hot is the official one.
 */
function softmaxEntropy_(logits: tf.Tensor): tf.Tensor {
  const shifted = tf.sub(logits, tf.max(logits, -1, true));
  const weights = tf.exp(shifted);
  const distance = tf.neg(shifted);
  // 1 below the maximum, 0 at it, as numbers: masking by a product and counting by a sum take two cheap
  // kernels where a comparison, a select, a not and a cast took five (comparisons are slow on wasm).
  const below = tf.step(distance);
  const ties = tf.sub(logits.shape[logits.rank - 1], tf.sum(below, -1));
  // Σ exp(s) over the entries below the maximum, plus (ties at the maximum − 1): exactly S − 1.
  const rest = tf.add(tf.sum(tf.mul(weights, below), -1), tf.sub(ties, 1));
  const total = tf.add(rest, 1);
  const spread = tf.sum(tf.mul(weights, distance), -1);
  return tf.add(log1pOf(rest, total), tf.div(spread, total));
}

/**
 * `log1p(x)` given `u = 1 + x` as computed in float32, by Goldberg's correction `log(u) · x / (u − 1)` (exact
 * where `log` is): tfjs's wasm `Log1p` kernel computes `log(1 + x)` and returns 0 for tiny `x`.
 */
function log1pOf(x: tf.Tensor, u: tf.Tensor): tf.Tensor {
  const rounded = tf.sub(u, 1);
  const exact = tf.equal(rounded, 0);
  return tf.where(exact, x, tf.mul(tf.log(u), tf.div(x, tf.where(exact, tf.onesLike(rounded), rounded))));
}

export const softmaxEntropy = tf.op({ softmaxEntropy_ });
