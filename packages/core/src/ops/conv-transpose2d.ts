import * as tf from '@tensorflow/tfjs-core';
import { biasAdd } from './bias-add';
import { dilateFilter } from './dilate-filter';
import { assertRank4, type Pair, toPair } from './pair';

export interface ConvTranspose2dOptions {
  /** Default 1. */
  stride?: Pair;
  /** `nn.ConvTranspose2d(padding=…)`: trims `padding` rows and columns from each side of the full output. */
  padding?: Pair;
  /** Extra rows/cols added on the bottom/right of the output; must be smaller than stride or dilation. */
  outputPadding?: Pair;
  /** Default 1. */
  dilation?: Pair;
}

/** PyTorch's output size: `(H−1)·stride − 2·padding + dilation·(k−1) + output_padding + 1`. */
export function convTranspose2dOutputSize(
  input: number,
  kernel: number,
  { stride = 1, padding = 0, outputPadding = 0, dilation = 1 } = {},
): number {
  return (input - 1) * stride - 2 * padding + dilation * (kernel - 1) + outputPadding + 1;
}

/**
 * `torch.nn.functional.conv_transpose2d` on NHWC tensors: `x` `[N, H, W, Cin]`, `weight` `[kh, kw, Cout, Cin]`
 * (the tfjs conv2dTranspose layout; PyTorch stores `[Cin, Cout, kh, kw]`), optional `bias` `[Cout]`.
 * It is the adjoint of a conv over the output with symmetric padding `padding`, which is how it is computed.
 */
function convTranspose2d_(
  x: tf.Tensor4D,
  weight: tf.Tensor4D,
  bias: tf.Tensor1D | null = null,
  options: ConvTranspose2dOptions = {},
): tf.Tensor4D {
  assertRank4(x.shape, 'convTranspose2d input');
  assertRank4(weight.shape, 'convTranspose2d weight');
  const [sh, sw] = toPair(options.stride ?? 1, 'convTranspose2d stride', { min: 1 });
  const [ph, pw] = toPair(options.padding ?? 0, 'convTranspose2d padding');
  const [oph, opw] = toPair(options.outputPadding ?? 0, 'convTranspose2d outputPadding');
  const [dh, dw] = toPair(options.dilation ?? 1, 'convTranspose2d dilation', { min: 1 });
  if (oph >= Math.max(sh, dh) || opw >= Math.max(sw, dw)) {
    throw new RangeError(
      `convTranspose2d: outputPadding [${oph}, ${opw}] must be smaller than stride or dilation (stride [${sh}, ${sw}], dilation [${dh}, ${dw}])`,
    );
  }
  if (x.shape[3] !== weight.shape[3]) {
    throw new Error(
      `convTranspose2d: input has ${x.shape[3]} channels but the weight [${weight.shape.join(', ')}] expects ${weight.shape[3]}`,
    );
  }
  const filter = dilateFilter(weight, dh, dw);
  const [kh, kw, cout] = filter.shape;
  const outH = convTranspose2dOutputSize(x.shape[1], kh, { stride: sh, padding: ph, outputPadding: oph });
  const outW = convTranspose2dOutputSize(x.shape[2], kw, { stride: sw, padding: pw, outputPadding: opw });
  if (outH <= 0 || outW <= 0) {
    throw new Error(`convTranspose2d: padding [${ph}, ${pw}] leaves an empty output (${outH}×${outW})`);
  }
  const y = tf.conv2dTranspose(x, filter, [x.shape[0], outH, outW, cout], [sh, sw], [
    [0, 0],
    [ph, ph],
    [pw, pw],
    [0, 0],
  ]);
  return bias == null ? y : biasAdd(y, bias);
}

export const convTranspose2d = tf.op({ convTranspose2d_ });
