import * as tf from '@tensorflow/tfjs-core';
import { assertRank4, type ExplicitPadding, type Pair, toPair } from './pair';

export interface DepthwiseConvTranspose2dOptions {
  stride?: Pair;
  /** Trims this many rows/columns from each side of the full output, as `conv_transpose2d(padding=…)`. */
  padding?: Pair;
  /**
   * 'none' for a constant filter (a blur buffer): its gradient, a slow depthwise filter-gradient kernel, is then
   * not computed (tfjs computes every input's gradient of a custom-gradient op, wanted or not) and the filter
   * gets none. Default 'compute'.
   */
  filterGradient?: 'compute' | 'none';
}

/**
 * `conv_transpose2d(x, weight, groups=C)` with one output channel per input channel, on NHWC tensors:
 * `filter` is `[kh, kw, C, 1]` (PyTorch stores `[C, 1, kh, kw]`). tfjs has no such op; it is the input
 * gradient of a depthwise conv, so it runs `DepthwiseConv2dNativeBackpropInput`, and its gradients are the
 * depthwise conv (for x) and `DepthwiseConv2dNativeBackpropFilter` (for the filter, unless `filterGradient` is
 * 'none').
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
  const filterGradient = options.filterGradient ?? 'compute';
  if (filterGradient !== 'compute' && filterGradient !== 'none') {
    throw new Error(`depthwiseConvTranspose2d: filterGradient must be 'compute' or 'none', got '${filterGradient}'`);
  }
  const forward = (input: tf.Tensor4D, weights: tf.Tensor4D): tf.Tensor4D =>
    tf.engine().runKernel(
      tf.DepthwiseConv2dNativeBackpropInput,
      { dy: input, filter: weights } as unknown as tf.NamedTensorMap,
      { strides, pad, dilations, dimRoundingMode: undefined, inputShape: outShape } as unknown as tf.NamedAttrMap,
    ) as tf.Tensor4D;
  const inputGrad = (dy: tf.Tensor, weights: tf.Tensor4D): tf.Tensor4D => tf.depthwiseConv2d(dy as tf.Tensor4D, weights, strides, pad);
  if (filterGradient === 'none') {
    const run = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      // Saved, not closed over: a filter made inside this op's scope is freed before the backward pass.
      (args[1] as tf.GradSaveFunc)([filter]);
      return {
        value: forward(args[0] as tf.Tensor4D, filter),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.tidy(() => inputGrad(dy, saved[0] as tf.Tensor4D)),
      };
    });
    return run(x) as tf.Tensor4D;
  }
  const run = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, weights] = args as [tf.Tensor4D, tf.Tensor4D];
    const save = args[2] as tf.GradSaveFunc;
    save([input, weights]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] =>
      tf.tidy(() => {
        const [savedInput, savedWeights] = saved as tf.Tensor4D[];
        const dFilter = tf.engine().runKernel(
          tf.DepthwiseConv2dNativeBackpropFilter,
          { x: dy, dy: savedInput } as unknown as tf.NamedTensorMap,
          { strides, pad, dilations, dimRoundingMode: undefined, filterShape: savedWeights.shape } as unknown as tf.NamedAttrMap,
        ) as tf.Tensor;
        return [inputGrad(dy, savedWeights), dFilter];
      });
    return { value: forward(input, weights), gradFunc };
  });
  return run(x, filter) as tf.Tensor4D;
}

export const depthwiseConvTranspose2d = tf.op({ depthwiseConvTranspose2d_ });
