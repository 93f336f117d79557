import * as tf from '@tensorflow/tfjs-core';
import { biasAdd } from './bias-add';
import { dilateFilter } from './dilate-filter';
import { assertRank4, type Pair, toPair } from './pair';

export interface Conv2dOptions {
  /** Default 1. */
  stride?: Pair;
  /** Zero padding on each side, as `nn.Conv2d(padding=…)`. Default 0. */
  padding?: Pair;
  /** Default 1. */
  dilation?: Pair;
}

/**
 * `torch.nn.functional.conv2d` on NHWC tensors: `x` `[N, H, W, Cin]`, `weight` HWIO `[kh, kw, Cin, Cout]`,
 * optional `bias` `[Cout]`. Gradients are exact for every stride, padding and dilation.
 */
function conv2d_(
  x: tf.Tensor4D,
  weight: tf.Tensor4D,
  bias: tf.Tensor1D | null = null,
  options: Conv2dOptions = {},
): tf.Tensor4D {
  assertRank4(x.shape, 'conv2d input');
  assertRank4(weight.shape, 'conv2d weight');
  const [sh, sw] = toPair(options.stride ?? 1, 'conv2d stride', { min: 1 });
  const [ph, pw] = toPair(options.padding ?? 0, 'conv2d padding');
  const [dh, dw] = toPair(options.dilation ?? 1, 'conv2d dilation', { min: 1 });
  if (x.shape[3] !== weight.shape[2]) {
    throw new Error(`conv2d: input has ${x.shape[3]} channels but the weight [${weight.shape.join(', ')}] expects ${weight.shape[2]}`);
  }
  const filter = dilateFilter(weight, dh, dw);
  const [kh, kw] = filter.shape;
  if (x.shape[1] + 2 * ph < kh || x.shape[2] + 2 * pw < kw) {
    throw new Error(
      `conv2d: padded input ${x.shape[1] + 2 * ph}×${x.shape[2] + 2 * pw} is smaller than the kernel ${kh}×${kw}`,
    );
  }
  const y = tf.conv2d(x, filter, [sh, sw], [[0, 0], [ph, ph], [pw, pw], [0, 0]]);
  return bias == null ? y : biasAdd(y, bias);
}

export const conv2d = tf.op({ conv2d_ });
