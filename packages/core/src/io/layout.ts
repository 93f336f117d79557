// PyTorch ↔ TensorFlow.js tensor layouts. PyTorch stores conv filters as [out, in, kh, kw] and activations
// as NCHW; tfjs uses [kh, kw, in, out] (HWIO) filters and NHWC activations. Each function returns a new
// tensor and leaves its input alone.
import * as tf from '@tensorflow/tfjs-core';

function expectRank(tensor: tf.Tensor, rank: number, what: string, layout: string): void {
  if (tensor.rank !== rank) {
    throw new Error(`${what} expects a rank-${rank} tensor ${layout}, got shape [${tensor.shape.join(', ')}]`);
  }
}

/** torch Conv2d weight [out, in, kh, kw] → tfjs conv2d filter [kh, kw, in, out]. */
export function torchConvToTfjs(weight: tf.Tensor): tf.Tensor4D {
  expectRank(weight, 4, 'torchConvToTfjs', '[out, in, kh, kw]');
  return tf.transpose(weight, [2, 3, 1, 0]) as tf.Tensor4D;
}

/** tfjs conv2d filter [kh, kw, in, out] → torch Conv2d weight [out, in, kh, kw]. */
export function tfjsConvToTorch(filter: tf.Tensor): tf.Tensor4D {
  expectRank(filter, 4, 'tfjsConvToTorch', '[kh, kw, in, out]');
  return tf.transpose(filter, [3, 2, 0, 1]) as tf.Tensor4D;
}

/**
 * torch ConvTranspose2d weight [in, out, kh, kw] → tfjs conv2dTranspose filter [kh, kw, out, in]. Both
 * frameworks define the transposed conv as the input gradient of the conv with that filter, so the
 * kernel is not flipped.
 */
export function torchConvTransposeToTfjs(weight: tf.Tensor): tf.Tensor4D {
  expectRank(weight, 4, 'torchConvTransposeToTfjs', '[in, out, kh, kw]');
  return tf.transpose(weight, [2, 3, 1, 0]) as tf.Tensor4D;
}

/** tfjs conv2dTranspose filter [kh, kw, out, in] → torch ConvTranspose2d weight [in, out, kh, kw]. */
export function tfjsConvTransposeToTorch(filter: tf.Tensor): tf.Tensor4D {
  expectRank(filter, 4, 'tfjsConvTransposeToTorch', '[kh, kw, out, in]');
  return tf.transpose(filter, [3, 2, 0, 1]) as tf.Tensor4D;
}

/** torch Linear weight [out, in] → tfjs matMul right operand [in, out] (so that y = x·W). */
export function torchLinearToTfjs(weight: tf.Tensor): tf.Tensor2D {
  expectRank(weight, 2, 'torchLinearToTfjs', '[out, in]');
  return tf.transpose(weight) as tf.Tensor2D;
}

/** tfjs [in, out] matrix → torch Linear weight [out, in]. */
export function tfjsLinearToTorch(weight: tf.Tensor): tf.Tensor2D {
  expectRank(weight, 2, 'tfjsLinearToTorch', '[in, out]');
  return tf.transpose(weight) as tf.Tensor2D;
}

/** torch depthwise (groups = C) filter [C, 1, kh, kw] → tfjs depthwiseConv2d filter [kh, kw, C, 1]. */
export function torchDepthwiseToTfjs(weight: tf.Tensor): tf.Tensor4D {
  expectRank(weight, 4, 'torchDepthwiseToTfjs', '[C, 1, kh, kw]');
  if (weight.shape[1] !== 1) {
    throw new Error(
      `torchDepthwiseToTfjs expects [C, 1, kh, kw] (one input channel per group), got shape [${weight.shape.join(
        ', ',
      )}]`,
    );
  }
  return tf.transpose(weight, [2, 3, 0, 1]) as tf.Tensor4D;
}

/** tfjs depthwiseConv2d filter [kh, kw, C, 1] → torch depthwise filter [C, 1, kh, kw]. */
export function tfjsDepthwiseToTorch(filter: tf.Tensor): tf.Tensor4D {
  expectRank(filter, 4, 'tfjsDepthwiseToTorch', '[kh, kw, C, 1]');
  if (filter.shape[3] !== 1) {
    throw new Error(
      `tfjsDepthwiseToTorch expects [kh, kw, C, 1] (channel multiplier 1), got shape [${filter.shape.join(', ')}]`,
    );
  }
  return tf.transpose(filter, [2, 3, 0, 1]) as tf.Tensor4D;
}

/** Activations [B, C, H, W] → [B, H, W, C]. */
export function nchwToNhwc(x: tf.Tensor): tf.Tensor4D {
  expectRank(x, 4, 'nchwToNhwc', '[B, C, H, W]');
  return tf.transpose(x, [0, 2, 3, 1]) as tf.Tensor4D;
}

/** Activations [B, H, W, C] → [B, C, H, W]. */
export function nhwcToNchw(x: tf.Tensor): tf.Tensor4D {
  expectRank(x, 4, 'nhwcToNchw', '[B, H, W, C]');
  return tf.transpose(x, [0, 3, 1, 2]) as tf.Tensor4D;
}
