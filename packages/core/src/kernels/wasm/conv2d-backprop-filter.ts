import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { chainWasmKernels, type WasmKernelChain } from './kernel-chain';
import { im2colChannelsFirst } from './im2col';

type ConvInfo = tf.backend_util.Conv2DInfo;

/**
 * dW[i,j,ci,co] = Σ_{n,ho,wo} xPadded[n, ho·sh + i, wo·sw + j, ci] · dy[n,ho,wo,co] as one matrix product,
 * [kh·kw·Ci, N·Ho·Wo] windows × [N·Ho·Wo, Co] dy. The windows are built untransposed (the product would
 * otherwise transpose them itself), from x transposed to [Ci,N,H,W] (one 2-D transpose); dy is used as it is.
 */
export function filterGradByMatMul(
  chain: WasmKernelChain,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  info: ConvInfo
): tf.TensorInfo {
  const pixels = info.outHeight * info.outWidth * info.batchSize;
  const xt = chain.run(tf.Transpose, { x }, { perm: [3, 0, 1, 2] });
  const windows = im2colChannelsFirst(chain, xt, info);
  const a = chain.run(tf.Reshape, { x: windows }, { shape: [1, windows.shape[0], pixels] });
  const b = chain.run(tf.Reshape, { x: dy }, { shape: [1, pixels, info.outChannels] });
  const dw = chain.run(tf.BatchMatMul, { a, b }, { transposeA: false, transposeB: false });
  return chain.run(tf.Reshape, { x: dw }, { shape: info.filterShape });
}

/**
 * The same sum as a convolution with batch and channel axes swapped: x as [Ci,H,W,N] images, dy as a
 * [Ho,Wo,N,Co] filter, the forward stride as the dilation. The output is [Ci,kh,kw,Co], or larger when the
 * forward conv left trailing rows unread, which are sliced off.
 */
export function filterGradByConv(
  chain: WasmKernelChain,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  info: ConvInfo
): tf.TensorInfo {
  const { inChannels, outChannels, filterHeight, filterWidth, outHeight, outWidth, strideHeight, strideWidth } = info;
  const { top, left } = info.padInfo;
  const xt = chain.run(tf.Transpose, { x }, { perm: [3, 1, 2, 0] });
  const dyt = chain.run(tf.Transpose, { x: dy }, { perm: [1, 2, 0, 3] });
  const bottom = Math.max(0, (outHeight - 1) * strideHeight + filterHeight - info.inHeight - top);
  const right = Math.max(0, (outWidth - 1) * strideWidth + filterWidth - info.inWidth - left);
  const pad = [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ];
  const conv = chain.run(
    tf.Conv2D,
    { x: xt, filter: dyt },
    { strides: 1, dilations: [strideHeight, strideWidth], pad, dataFormat: 'NHWC' }
  );
  const fits = conv.shape[1] === filterHeight && conv.shape[2] === filterWidth;
  const cropped = fits
    ? conv
    : chain.run(
        tf.Slice,
        { x: conv },
        { begin: [0, 0, 0, 0], size: [inChannels, filterHeight, filterWidth, outChannels] }
      );
  return chain.run(tf.Transpose, { x: cropped }, { perm: [1, 2, 0, 3] });
}

/**
 * The sum as a convolution over dy, its channels as images and x as the filter: dy as [Co,Ho,Wo,N] images,
 * zero padded by kh−1−top before (so the window slides over every tap offset), through x as a [H,W,N,Ci]
 * filter. out[co, kh−1−i, kw−1−j, ci] = Σ_{n,a,b} dy[n, a+top−i, b+left−j, co] · x[n,a,b,ci] = dW[i,j,ci,co],
 * reversed and transposed into place. The product is Ci wide where the other routes' is Co wide, so it suits
 * few output channels (the generator's last conv, Co = 3). Stride 1, and padding within the filter's reach.
 */
export function filterGradBySwappedConv(
  chain: WasmKernelChain,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  info: ConvInfo
): tf.TensorInfo {
  const { inChannels, outChannels, filterHeight, filterWidth, inHeight, inWidth, outHeight, outWidth } = info;
  const { top, left } = info.padInfo;
  const images = chain.run(tf.Transpose, { x: dy }, { perm: [3, 1, 2, 0] });
  const filter = chain.run(tf.Transpose, { x }, { perm: [1, 2, 0, 3] });
  const pad = [
    [0, 0],
    [filterHeight - 1 - top, inHeight + top - outHeight],
    [filterWidth - 1 - left, inWidth + left - outWidth],
    [0, 0],
  ];
  const conv = chain.run(tf.Conv2D, { x: images, filter }, { strides: 1, dilations: 1, pad, dataFormat: 'NHWC' });
  const dw = chain.allocate(info.filterShape, 'float32');
  // Allocate before taking views: growing the heap detaches every typed array over it.
  const src = chain.backend.typedArrayFromHeap(conv) as Float32Array;
  const dst = chain.backend.typedArrayFromHeap(dw) as Float32Array;
  for (let co = 0; co < outChannels; co++) {
    for (let i = 0; i < filterHeight; i++) {
      for (let j = 0; j < filterWidth; j++) {
        const from = ((co * filterHeight + filterHeight - 1 - i) * filterWidth + filterWidth - 1 - j) * inChannels;
        const to = (i * filterWidth + j) * inChannels * outChannels + co;
        for (let ci = 0; ci < inChannels; ci++) dst[to + ci * outChannels] = src[from + ci];
      }
    }
  }
  return dw;
}

/** Whether filterGradBySwappedConv applies: stride 1, and no padding past the filter's reach (dy is never cropped). */
export function swappedConvFits(info: ConvInfo): boolean {
  const { top, bottom, left, right } = info.padInfo;
  return (
    info.strideHeight === 1 &&
    info.strideWidth === 1 &&
    info.dilationHeight === 1 &&
    info.dilationWidth === 1 &&
    Math.max(top, bottom) <= info.filterHeight - 1 &&
    Math.max(left, right) <= info.filterWidth - 1
  );
}

/** A tfjs flag that forces one route ('matmul', 'conv' or 'swapped', where it fits); 'auto', the default, picks by shape. */
export const FILTER_GRAD_ROUTE_FLAG = 'QSATTN_WASM_CONV2D_FILTER_GRAD_ROUTE';
tf.env().registerFlag(FILTER_GRAD_ROUTE_FLAG, () => 'auto');

const routes = { matmul: filterGradByMatMul, conv: filterGradByConv, swapped: filterGradBySwappedConv } as const;
type FilterGradRoute = keyof typeof routes;

/** Past this many floats (256 MiB) the window matrix costs more memory than the speed is worth. */
const MAX_WINDOW_ELEMENTS = 2 ** 26;

/** Past this many indirection pointers (Co·kh·kw outputs × H·W taps, 32 MiB) the swapped conv costs too much memory. */
const MAX_SWAPPED_INDIRECTION = 2 ** 23;

/**
 * Measured with one wasm thread (bench/kernels.mjs): the matmul route runs the product at BatchMatMul's
 * ~30 GFLOP/s, and its window copy costs about as much as a product with 16 output channels, so it wins from
 * Co ≈ 16 on (1.5–2.5× faster at Co ≥ 64, e.g. 45 vs 77 ms for 32×32, 256→256). The conv route runs at
 * ~10 GFLOP/s but never materialises the windows, so it wins with few output channels (1.4 vs 7 ms at Co = 8)
 * and bounds memory for huge inputs. With Co ≤ 3 both products are a few columns wide; the swapped conv's is
 * Ci wide: 3.4 vs 9.4 ms for the 64 px generator's last conv (2×70×70×16, 7×7, 16→3), a tie at Co = 4.
 */
export function chooseFilterGradRoute(info: ConvInfo): FilterGradRoute {
  const forced = tf.env().getString(FILTER_GRAD_ROUTE_FLAG);
  if (forced === 'matmul' || forced === 'conv') return forced;
  if (forced === 'swapped') return swappedConvFits(info) ? 'swapped' : 'conv';
  if (forced !== 'auto') {
    throw new Error(`${FILTER_GRAD_ROUTE_FLAG} must be 'auto', 'matmul', 'conv' or 'swapped', got '${forced}'`);
  }
  const windowElements =
    info.filterHeight * info.filterWidth * info.inChannels * info.outHeight * info.outWidth * info.batchSize;
  if (info.outChannels >= 16 && windowElements <= MAX_WINDOW_ELEMENTS) return 'matmul';
  const indirection = info.outChannels * info.filterHeight * info.filterWidth * info.inHeight * info.inWidth;
  const swapped = info.outChannels <= 3 && info.inChannels >= 8 && indirection <= MAX_SWAPPED_INDIRECTION;
  return swapped && swappedConvFits(info) ? 'swapped' : 'conv';
}

const conv2DBackpropFilter: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  if (dataFormat !== 'NHWC') {
    throw new Error(`wasm Conv2DBackpropFilter supports dataFormat 'NHWC' only, got '${dataFormat}'`);
  }
  const shape = x.shape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(shape, filterShape, strides, 1, pad, dimRoundingMode);
  const route = routes[chooseFilterGradRoute(info)];
  return chainWasmKernels(backend as BackendWasm, (chain) => route(chain, x, dy, info));
};

export const conv2DBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter,
};
