import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { replaceWasmKernel } from './replace-kernel';

/**
 * Filter sizes (taps, kh·kw) that wasm 4.22's XNNPACK runs with a dedicated depthwise microkernel. Other sizes
 * take a generic path several times slower per output: on 2×34×34×64, one thread, 4×4 took 2.8 ms where 5×5
 * took 0.76, 2×1 1.05 where 3×1 took 0.32, 2×3 1.5 where 3×3 took 0.42 (a measured table, not a documented one).
 */
const FAST_TAPS = [3, 4, 9, 25] as const;

/**
 * The window [kh′, kw′] ⊇ [kh, kw] with the fewest taps among the fast sizes, or [kh, kw] itself when it is
 * fast already, is a single tap, or no fast size holds it (6×6, 7×7).
 */
export function fastDepthwiseWindow(filterHeight: number, filterWidth: number): [number, number] {
  const taps = filterHeight * filterWidth;
  if (taps === 1 || (FAST_TAPS as readonly number[]).includes(taps)) return [filterHeight, filterWidth];
  for (const size of FAST_TAPS) {
    for (let h = filterHeight; h <= size; h++) {
      if (size % h === 0 && size / h >= filterWidth) return [h, size / h];
    }
  }
  return [filterHeight, filterWidth];
}

/** The filter [kh, kw, C, m] inside a zero [kh′, kw′, C, m] one, its taps at the top left. */
function embedFilter(backend: BackendWasm, filter: tf.TensorInfo, height: number, width: number): tf.TensorInfo {
  const [kh, kw, channels, multiplier] = filter.shape;
  const out = backend.makeOutput([height, width, channels, multiplier], 'float32');
  // Allocate before taking views: growing the heap detaches every typed array over it.
  const src = backend.typedArrayFromHeap(filter) as Float32Array;
  const dst = backend.typedArrayFromHeap(out) as Float32Array;
  dst.fill(0);
  const row = kw * channels * multiplier;
  for (let i = 0; i < kh; i++) dst.set(src.subarray(i * row, (i + 1) * row), i * width * channels * multiplier);
  return out;
}

/** wasm's own DepthwiseConv2dNative, which ours runs on a fast window. */
let wasmOwn: tf.KernelConfig | undefined;

/**
 * wasm's DepthwiseConv2dNative on a filter embedded in the nearest fast window (fastDepthwiseWindow), the
 * extra taps zero and the padding after grown by their reach, so every output reads the same inputs times the
 * same taps plus zero terms. 4×4 — the anti-aliasing Upsample's filter, whose transposed conv and its gradient
 * are depthwise convs — runs as 5×5, 3.6× faster (0.76 vs 2.8 ms above).
 */
const depthwiseConv2d: tf.KernelFunc = (args) => {
  const { inputs, attrs, backend } = args;
  const { x, filter } = inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
  const { strides, pad, dilations, dimRoundingMode } = attrs as unknown as tf.DepthwiseConv2dNativeAttrs;
  const [kh, kw] = filter.shape;
  const [height, width] = fastDepthwiseWindow(kh, kw);
  if (height === kh && width === kw) return wasmOwn!.kernelFunc(args);
  const xShape = x.shape as [number, number, number, number];
  const filterShape = filter.shape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(xShape, filterShape, strides, dilations ?? 1, pad, dimRoundingMode, true);
  const { top, bottom, left, right } = info.padInfo;
  const explicit: tf.backend_util.ExplicitPadding = [
    [0, 0],
    [top, bottom + (height - kh) * info.dilationHeight],
    [left, right + (width - kw) * info.dilationWidth],
    [0, 0],
  ];
  const embeddedShape: [number, number, number, number] = [height, width, filterShape[2], filterShape[3]];
  const embeddedInfo = tf.backend_util.computeConv2DInfo(xShape, embeddedShape, strides, dilations ?? 1, explicit, undefined, true);
  // A rounding mode can make the original output read past its padding; then the embedding would not fit.
  if (embeddedInfo.outHeight !== info.outHeight || embeddedInfo.outWidth !== info.outWidth) return wasmOwn!.kernelFunc(args);
  const wasm = backend as BackendWasm;
  const embedded = embedFilter(wasm, filter, height, width);
  try {
    return wasmOwn!.kernelFunc({
      inputs: { x, filter: embedded },
      attrs: { strides, dilations: dilations ?? 1, pad: explicit } as unknown as tf.NamedAttrMap,
      backend,
    }) as tf.TensorInfo;
  } finally {
    wasm.disposeData(embedded.dataId);
  }
};

/** Registered over wasm's own; its setupFunc runs wasm's, which binds the wasm function ours calls. */
export const depthwiseConv2dNativeConfig: tf.KernelConfig = {
  kernelName: tf.DepthwiseConv2dNative,
  backendName: 'wasm',
  kernelFunc: depthwiseConv2d,
  setupFunc: (backend) => wasmOwn?.setupFunc?.(backend),
};

/** Puts ours in place of wasm's DepthwiseConv2dNative (see replaceWasmKernel). */
export function replaceWasmDepthwiseConv2d(): boolean {
  return replaceWasmKernel(depthwiseConv2dNativeConfig, (own) => {
    wasmOwn = own;
  });
}
