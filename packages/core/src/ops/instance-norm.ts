import * as tf from '@tensorflow/tfjs-core';
import { assertRank4 } from './pair';

/**
 * `nn.InstanceNorm2d(affine=False, track_running_stats=False)` on NHWC tensors: per image and channel,
 * subtract the mean over H×W and divide by √(biased variance + eps).
 * The gradient is the closed form `(dy − mean(dy) − x̂·mean(dy·x̂)) / σ`, cheaper than differentiating the
 * moments op by op and exact to float rounding.
 */
function instanceNorm_(x: tf.Tensor4D, eps = 1e-5): tf.Tensor4D {
  assertRank4(x.shape, 'instanceNorm');
  const norm = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor4D;
    const save = args[1] as tf.GradSaveFunc;
    const { mean, variance } = tf.moments(input, [1, 2], true);
    const invStd = tf.rsqrt(tf.add(variance, eps));
    const normalised = tf.mul(tf.sub(input, mean), invStd) as tf.Tensor4D;
    save([normalised, invStd]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor => {
      const [xHat, inv] = saved;
      const meanDy = tf.mean(dy, [1, 2], true);
      const meanDyXHat = tf.mean(tf.mul(dy, xHat), [1, 2], true);
      return tf.mul(tf.sub(tf.sub(dy, meanDy), tf.mul(xHat, meanDyXHat)), inv);
    };
    return { value: normalised, gradFunc };
  });
  return norm(x) as tf.Tensor4D;
}

export const instanceNorm = tf.op({ instanceNorm_ });
