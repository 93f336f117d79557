import * as tf from '@tensorflow/tfjs-core';
import { INSTANCE_NORM, INSTANCE_NORM_GRAD } from '../kernels/shared/instance-norm';
import { assertRank4 } from './pair';

/**
 * Mean over H and W, summed one axis at a time: wasm accumulates reductions in float32, and two short sums
 * (W, then H) carry several times less rounding than one long one. That rounding is what remains of
 * gradients that are zero in exact arithmetic (a conv bias before the norm), so it is kept small.
 */
function meanHW(t: tf.Tensor): tf.Tensor {
  const [, h, w] = t.shape;
  return tf.div(tf.sum(tf.sum(t, 2, true), 1, true), h * w);
}

/** The norm by tfjs ops, for backends without the fused kernel: the normalised tensor and 1/σ [N, 1, 1, C]. */
export function normaliseByOps(x: tf.Tensor4D, eps: number): [tf.Tensor4D, tf.Tensor] {
  const centred = tf.sub(x, meanHW(x));
  const invStd = tf.rsqrt(tf.add(meanHW(tf.square(centred)), eps));
  return [tf.mul(centred, invStd) as tf.Tensor4D, invStd];
}

/** The closed-form gradient by tfjs ops, for backends without the fused kernel. */
export function instanceNormGradByOps(dy: tf.Tensor, xHat: tf.Tensor, invStd: tf.Tensor): tf.Tensor {
  const meanDy = meanHW(dy);
  const meanDyXHat = meanHW(tf.mul(dy, xHat));
  return tf.mul(tf.sub(tf.sub(dy, meanDy), tf.mul(xHat, meanDyXHat)), invStd);
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

/**
 * `nn.InstanceNorm2d(affine=False, track_running_stats=False)` on NHWC tensors: per image and channel,
 * subtract the mean over H×W and divide by √(biased variance + eps).
 * The gradient is the closed form `(dy − mean(dy) − x̂·mean(dy·x̂)) / σ`, cheaper than differentiating the
 * moments op by op and exact to float rounding. On wasm and cpu each is one kernel (kernels/shared/instance-norm.ts);
 * other backends run the op chain below.
 */
function instanceNorm_(x: tf.Tensor4D, options: InstanceNormOptions = {}): tf.Tensor4D {
  const eps = options.eps ?? 1e-5;
  const emulateBug = options.torchCpuChannelsLastGradBug ?? false;
  assertRank4(x.shape, 'instanceNorm');
  const backend = tf.getBackend();
  const fused = tf.getKernel(INSTANCE_NORM, backend) != null && tf.getKernel(INSTANCE_NORM_GRAD, backend) != null;
  const norm = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor4D;
    const save = args[1] as tf.GradSaveFunc;
    const [normalised, invStd] = fused
      ? (tf.engine().runKernel(INSTANCE_NORM, { x: input }, { eps } as unknown as tf.NamedAttrMap) as tf.Tensor[])
      : normaliseByOps(input, eps);
    save([normalised, invStd]);
    // In a tidy: tfjs runs a custom gradient outside one, so its temporaries would live until backprop ends.
    const gradFunc = (dyIn: tf.Tensor, saved: tf.Tensor[]): tf.Tensor =>
      tf.tidy(() => {
        const [xHat, inv] = saved;
        const [n, h, w, c] = dyIn.shape;
        // The bug: each image's NHWC memory (h, w, c order) read as (c, h, w), then used as an NCHW gradient.
        const dy = emulateBug ? tf.transpose(tf.reshape(dyIn, [n, c, h, w]), [0, 2, 3, 1]) : dyIn;
        return fused
          ? (tf.engine().runKernel(INSTANCE_NORM_GRAD, { dy, xHat, invStd: inv }) as tf.Tensor)
          : instanceNormGradByOps(dy, xHat, inv);
      });
    return { value: normalised as tf.Tensor4D, gradFunc };
  });
  return norm(x) as tf.Tensor4D;
}

export const instanceNorm = tf.op({ instanceNorm_ });
