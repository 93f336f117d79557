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

export interface InstanceNormOptions {
  /** Default 1e-5. */
  eps?: number;
  /**
   * Reproduce PyTorch 1.13's CPU bug: for a batch of one, `instance_norm`'s backward given a gradient in
   * channels-last memory layout reads that memory as if it were NCHW. The official QS-Attn code hands it such
   * gradients (its token view is a permute of the features) and the recorded training steps contain the
   * result; it is not the derivative of the loss. For conformance runs only; each image is treated as a batch
   * of one, as the official encoder passes are.
   */
  torchCpuChannelsLastGradBug?: boolean;
}

function instanceNorm_(x: tf.Tensor4D, options: InstanceNormOptions = {}): tf.Tensor4D {
  const eps = options.eps ?? 1e-5;
  const emulateBug = options.torchCpuChannelsLastGradBug ?? false;
  assertRank4(x.shape, 'instanceNorm');
  const norm = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor4D;
    const save = args[1] as tf.GradSaveFunc;
    const centred = tf.sub(input, meanHW(input));
    const invStd = tf.rsqrt(tf.add(meanHW(tf.square(centred)), eps));
    const normalised = tf.mul(centred, invStd) as tf.Tensor4D;
    save([normalised, invStd]);
    // In a tidy: tfjs runs a custom gradient outside one, so its temporaries would live until backprop ends.
    const gradFunc = (dyIn: tf.Tensor, saved: tf.Tensor[]): tf.Tensor =>
      tf.tidy(() => {
        const [xHat, inv] = saved;
        const [n, h, w, c] = dyIn.shape;
        // The bug: each image's NHWC memory (h, w, c order) read as (c, h, w), then used as an NCHW gradient.
        const dy = emulateBug ? tf.transpose(tf.reshape(dyIn, [n, c, h, w]), [0, 2, 3, 1]) : dyIn;
        const meanDy = meanHW(dy);
        const meanDyXHat = meanHW(tf.mul(dy, xHat));
        return tf.mul(tf.sub(tf.sub(dy, meanDy), tf.mul(xHat, meanDyXHat)), inv);
      });
    return { value: normalised, gradFunc };
  });
  return norm(x) as tf.Tensor4D;
}

export const instanceNorm = tf.op({ instanceNorm_ });
