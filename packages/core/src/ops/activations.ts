import * as tf from '@tensorflow/tfjs-core';

/** `nn.LeakyReLU(negative_slope)`, with PyTorch's default slope 0.01 (the PatchGAN uses 0.2). */
function leakyRelu_(x: tf.Tensor, negativeSlope = 0.01): tf.Tensor {
  return tf.leakyRelu(x, negativeSlope);
}

export const leakyRelu = tf.op({ leakyRelu_ });
