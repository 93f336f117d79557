import * as tf from '@tensorflow/tfjs-core';

/** The official `Normalize(2)`: `x / (‖x‖₂ + eps)` along `axis`, eps 1e-7 outside the square root. */
function l2Normalize_(x: tf.Tensor, axis = -1, eps = 1e-7): tf.Tensor {
  const norm = tf.sqrt(tf.sum(tf.square(x), axis, true));
  return tf.div(x, tf.add(norm, eps));
}

export const l2Normalize = tf.op({ l2Normalize_ });
