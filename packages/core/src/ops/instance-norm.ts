import * as tf from '@tensorflow/tfjs-core';
import { assertRank4 } from './pair';

/**
 * `nn.InstanceNorm2d(affine=False, track_running_stats=False)` on NHWC tensors: per image and channel,
 * subtract the mean over H×W and divide by √(biased variance + eps).
 * The gradient is the closed form `(dy − mean(dy) − x̂·mean(dy·x̂)) / σ`, cheaper than differentiating the
 * moments op by op and exact to float rounding.
 */
/**
 * Mean over H and W, summed one axis at a time: wasm accumulates reductions in float32, and two short sums
 * (W, then H) carry several times less rounding than one long one. That rounding is what remains of
 * gradients that are zero in exact arithmetic (a conv bias before the norm), so it is kept small.
 */
function meanHW(t: tf.Tensor): tf.Tensor {
  const [, h, w] = t.shape;
  return tf.div(tf.sum(tf.sum(t, 2, true), 1, true), h * w);
}

function instanceNorm_(x: tf.Tensor4D, eps = 1e-5): tf.Tensor4D {
  assertRank4(x.shape, 'instanceNorm');
  const norm = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor4D;
    const save = args[1] as tf.GradSaveFunc;
    const centred = tf.sub(input, meanHW(input));
    const invStd = tf.rsqrt(tf.add(meanHW(tf.square(centred)), eps));
    const normalised = tf.mul(centred, invStd) as tf.Tensor4D;
    save([normalised, invStd]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor => {
      const [xHat, inv] = saved;
      const meanDy = meanHW(dy);
      const meanDyXHat = meanHW(tf.mul(dy, xHat));
      return tf.mul(tf.sub(tf.sub(dy, meanDy), tf.mul(xHat, meanDyXHat)), inv);
    };
    return { value: normalised, gradFunc };
  });
  return norm(x) as tf.Tensor4D;
}

export const instanceNorm = tf.op({ instanceNorm_ });
