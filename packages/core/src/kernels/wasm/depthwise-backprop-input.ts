import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { chainWasmKernels } from './kernel-chain';
import { explicitPad, planInputGrad, spreadByStride } from './transposed-conv';

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
  const { outChannels, strideHeight, strideWidth } = info;
  const { rows, cols } = planInputGrad(info);
  return chainWasmKernels(backend as BackendWasm, (chain) => {
    const spread = spreadByStride(chain, dy, strideHeight, strideWidth, rows, cols);
    const flipped = chain.run(tf.Reverse, { x: filter }, { dims: [0, 1] });
    const perChannel = chain.run(tf.Reshape, { x: flipped }, { shape: [filterHeight, filterWidth, outChannels, 1] });
    const conv = chain.run(
      tf.DepthwiseConv2dNative,
      { x: spread, filter: perChannel },
      {
        strides: 1,
        dilations: [info.dilationHeight, info.dilationWidth],
        pad: explicitPad(rows, cols),
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
