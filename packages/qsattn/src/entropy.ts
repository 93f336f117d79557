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
