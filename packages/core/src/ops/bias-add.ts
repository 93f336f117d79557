import * as tf from '@tensorflow/tfjs-core';

/**
 * `x + bias` over the channel axis of an NHWC tensor. The bias gradient sums dy over W, then H, then the batch:
 * wasm accumulates in float32, and several short sums round far less than one long one. This matters where
 * the exact gradient is zero (a conv bias followed by instance norm): what remains is rounding, and Adam's
 * first step turns even rounding into a full ±lr move.
 */
export function biasAdd(x: tf.Tensor4D, bias: tf.Tensor1D): tf.Tensor4D {
  const add = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, b] = args as [tf.Tensor4D, tf.Tensor1D];
    const value = tf.add(input, b) as tf.Tensor4D;
    // In a tidy: tfjs runs a custom gradient outside one, so its temporaries would live until backprop ends.
    const gradFunc = (dy: tf.Tensor): tf.Tensor[] => [dy, tf.tidy(() => tf.reshape(tf.sum(tf.sum(tf.sum(dy, 2), 1), 0), b.shape))];
    return { value, gradFunc };
  });
  return add(x, bias) as tf.Tensor4D;
}
