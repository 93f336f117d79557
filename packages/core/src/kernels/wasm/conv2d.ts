import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { chainWasmKernels } from './kernel-chain';
import { replaceWasmKernel } from './replace-kernel';
import { chooseConv2DRoute, conv2dByWinograd, wasmPoolThreads, winogradFilterSeen } from './winograd';

/** wasm's own Conv2D (XNNPACK): every conv Winograd does not fit, and Winograd's own 1×1 products. */
let wasmOwn: tf.KernelConfig | undefined;

const productAttrs = { strides: 1, pad: 'valid', dataFormat: 'NHWC', dilations: 1 } as unknown as tf.NamedAttrMap;

/**
 * wasm's Conv2D, with the 3×3 stride-1 convs (the generator's ResNet blocks, and the convs beside its blurs)
 * by Winograd (winograd.ts): F(2×2, 3×3) in training, 1.1–2.3× faster than the direct conv at 64–256 channels on
 * one thread, and F(4×4, 3×3) where no gradient is taken, 2.0–2.9× (README, "Performance on the CPU").
 */
const conv2d: tf.KernelFunc = (args) => {
  const { inputs, attrs, backend } = args;
  const { x, filter } = inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
  const { strides, pad, dataFormat, dilations, dimRoundingMode } = attrs as unknown as tf.Conv2DAttrs;
  if (dataFormat !== 'NHWC' || x.dtype !== 'float32' || filter.dtype !== 'float32') return wasmOwn!.kernelFunc(args);
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    strides,
    dilations,
    pad,
    dimRoundingMode
  );
  const wasm = backend as BackendWasm;
  const route = chooseConv2DRoute(info, winogradFilterSeen(wasm, filter), wasmPoolThreads(wasm));
  if (route === 'direct') return wasmOwn!.kernelFunc(args);
  const product = (v: tf.TensorInfo, u: tf.TensorInfo): tf.TensorInfo =>
    wasmOwn!.kernelFunc({ inputs: { x: v, filter: u }, attrs: productAttrs, backend }) as tf.TensorInfo;
  return chainWasmKernels(wasm, (chain) => conv2dByWinograd(chain, x, filter, info, route, product));
};

/** Registered over wasm's own; its setupFunc runs wasm's, which binds the wasm function ours calls. */
export const conv2DConfig: tf.KernelConfig = {
  kernelName: tf.Conv2D,
  backendName: 'wasm',
  kernelFunc: conv2d,
  setupFunc: (backend) => wasmOwn?.setupFunc?.(backend),
};

/** Puts ours in place of wasm's Conv2D (see replaceWasmKernel). */
export function replaceWasmConv2D(): boolean {
  return replaceWasmKernel(conv2DConfig, (own) => {
    wasmOwn = own;
  });
}
