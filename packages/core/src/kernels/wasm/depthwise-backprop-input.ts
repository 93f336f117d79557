import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { chainWasmKernels } from './kernel-chain';

/** How one spatial axis of the transposed convolution maps onto a forward one. */
interface AxisPlan {
  /** Rows of the zero-upsampled dy dropped at each end (the forward padding exceeded the filter's reach). */
  cropBefore: number;
  cropAfter: number;
  /** Zero padding the forward depthwise conv adds around what is left. */
  padBefore: number;
  padAfter: number;
}

function planAxis(
  inSize: number,
  upsampled: number,
  filterSize: number,
  dilation: number,
  padBefore: number
): AxisPlan {
  const reach = (filterSize - 1) * dilation;
  const before = reach - padBefore;
  const after = inSize + reach - before - upsampled;
  return {
    cropBefore: Math.max(0, -before),
    cropAfter: Math.max(0, -after),
    padBefore: Math.max(0, before),
    padAfter: Math.max(0, after),
  };
}

/**
 * dx[n,h,w,c] = Σ_{i,j,q} dyUp[n, h + top − i·dh, w + left − j·dw, c·m+q] · f[i,j,c,q], where dyUp is dy with
 * stride−1 zeros between its pixels: a forward depthwise conv of dyUp with the spatially flipped filter, then a
 * sum over the m multiplier channels. The zeros waste stride² of the multiplies, but keep the whole kernel in
 * wasm's depthwise conv. Unlike the cpu backend, which ignores them, dilations are honoured.
 */
const depthwiseConv2dNativeBackpropInput: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const { strides, dilations, pad, dimRoundingMode, inputShape } =
    attrs as unknown as tf.DepthwiseConv2dNativeBackpropInputAttrs;
  const filterShape = filter.shape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(
    inputShape,
    filterShape,
    strides,
    dilations,
    pad,
    dimRoundingMode,
    true
  );
  const [filterHeight, filterWidth, channels, multiplier] = filterShape;
  const { batchSize, outHeight, outWidth, outChannels, strideHeight, strideWidth } = info;
  const rows = planAxis(info.inHeight, outHeight * strideHeight, filterHeight, info.dilationHeight, info.padInfo.top);
  const cols = planAxis(info.inWidth, outWidth * strideWidth, filterWidth, info.dilationWidth, info.padInfo.left);
  return chainWasmKernels(backend as BackendWasm, (chain) => {
    let spread = dy;
    if (strideHeight > 1 || strideWidth > 1) {
      const split = chain.run(tf.Reshape, { x: dy }, { shape: [batchSize, outHeight, 1, outWidth, 1, outChannels] });
      const paddings = [
        [0, 0],
        [0, 0],
        [0, strideHeight - 1],
        [0, 0],
        [0, strideWidth - 1],
        [0, 0],
      ];
      const gaps = chain.run(tf.PadV2, { x: split }, { paddings, constantValue: 0 });
      const shape = [batchSize, outHeight * strideHeight, outWidth * strideWidth, outChannels];
      spread = chain.run(tf.Reshape, { x: gaps }, { shape });
    }
    if (rows.cropBefore + rows.cropAfter + cols.cropBefore + cols.cropAfter > 0) {
      const [, height, width] = spread.shape;
      const begin = [0, rows.cropBefore, cols.cropBefore, 0];
      const size = [
        batchSize,
        height - rows.cropBefore - rows.cropAfter,
        width - cols.cropBefore - cols.cropAfter,
        outChannels,
      ];
      spread = chain.run(tf.Slice, { x: spread }, { begin, size });
    }
    const flipped = chain.run(tf.Reverse, { x: filter }, { dims: [0, 1] });
    const perChannel = chain.run(tf.Reshape, { x: flipped }, { shape: [filterHeight, filterWidth, outChannels, 1] });
    const conv = chain.run(
      tf.DepthwiseConv2dNative,
      { x: spread, filter: perChannel },
      {
        strides: 1,
        dilations: [info.dilationHeight, info.dilationWidth],
        pad: [
          [0, 0],
          [rows.padBefore, rows.padAfter],
          [cols.padBefore, cols.padAfter],
          [0, 0],
        ],
      }
    );
    if (multiplier === 1) return conv;
    const grouped = chain.run(tf.Reshape, { x: conv }, { shape: [...inputShape.slice(0, 3), channels, multiplier] });
    return chain.run(tf.Sum, { x: grouped }, { axis: 4, keepDims: false });
  });
};

export const depthwiseConv2dNativeBackpropInputConfig: tf.KernelConfig = {
  kernelName: tf.DepthwiseConv2dNativeBackpropInput,
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dNativeBackpropInput,
};
