import * as tf from '@tensorflow/tfjs-core';
import { assertRank4, type ExplicitPadding, type Pair, toPair } from './pair';

export interface DepthwiseConvTranspose2dOptions {
  stride?: Pair;
  /** Trims this many rows/columns from each side of the full output, as `conv_transpose2d(padding=…)`. */
  padding?: Pair;
}

/**
 * `conv_transpose2d(x, weight, groups=C)` with one output channel per input channel, on NHWC tensors:
 * `filter` is `[kh, kw, C, 1]` (PyTorch stores `[C, 1, kh, kw]`). tfjs has no such op; it is the input
 * gradient of a depthwise conv, so it runs `DepthwiseConv2dNativeBackpropInput`, and its gradients are the
 * depthwise conv (for x) and `DepthwiseConv2dNativeBackpropFilter` (for the filter).
 */
function depthwiseConvTranspose2d_(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  options: DepthwiseConvTranspose2dOptions = {},
): tf.Tensor4D {
  assertRank4(x.shape, 'depthwiseConvTranspose2d input');
  assertRank4(filter.shape, 'depthwiseConvTranspose2d filter');
  const [sh, sw] = toPair(options.stride ?? 1, 'depthwiseConvTranspose2d stride', { min: 1 });
  const [ph, pw] = toPair(options.padding ?? 0, 'depthwiseConvTranspose2d padding');
  const [n, h, w, c] = x.shape;
  const [kh, kw, fc, multiplier] = filter.shape;
  if (fc !== c || multiplier !== 1) {
    throw new Error(`depthwiseConvTranspose2d: filter must be [kh, kw, ${c}, 1] for ${c} channels, got [${filter.shape.join(', ')}]`);
  }
  const outShape: [number, number, number, number] = [n, (h - 1) * sh - 2 * ph + kh, (w - 1) * sw - 2 * pw + kw, c];
  if (outShape[1] <= 0 || outShape[2] <= 0) {
    throw new Error(`depthwiseConvTranspose2d: padding [${ph}, ${pw}] leaves an empty output`);
  }
  const strides: [number, number] = [sh, sw];
  const pad: ExplicitPadding = [[0, 0], [ph, ph], [pw, pw], [0, 0]];
  const dilations: [number, number] = [1, 1];
  const run = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, weights] = args as [tf.Tensor4D, tf.Tensor4D];
    const save = args[2] as tf.GradSaveFunc;
    save([input, weights]);
    const value = tf.engine().runKernel(
      tf.DepthwiseConv2dNativeBackpropInput,
      { dy: input, filter: weights } as unknown as tf.NamedTensorMap,
      { strides, pad, dilations, dimRoundingMode: undefined, inputShape: outShape } as unknown as tf.NamedAttrMap,
    ) as tf.Tensor4D;
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
      const [savedInput, savedWeights] = saved as tf.Tensor4D[];
      const dx = tf.depthwiseConv2d(dy as tf.Tensor4D, savedWeights, strides, pad);
      const dFilter = tf.engine().runKernel(
        tf.DepthwiseConv2dNativeBackpropFilter,
        { x: dy, dy: savedInput } as unknown as tf.NamedTensorMap,
        { strides, pad, dilations, dimRoundingMode: undefined, filterShape: savedWeights.shape } as unknown as tf.NamedAttrMap,
      ) as tf.Tensor;
      return [dx, dFilter];
    };
    return { value, gradFunc };
  });
  return run(x, filter) as tf.Tensor4D;
}

export const depthwiseConvTranspose2d = tf.op({ depthwiseConvTranspose2d_ });
