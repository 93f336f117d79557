import * as tf from '@tensorflow/tfjs-core';
import { replaceWasmBatchMatMul } from './batch-mat-mul';
import { replaceWasmConv2D } from './conv2d';
import { conv2DBackpropFilterConfig } from './conv2d-backprop-filter';
import { replaceWasmConv2DBackpropInput } from './conv2d-backprop-input';
import { depthwiseConv2dNativeBackpropFilterConfig } from './depthwise-backprop-filter';
import { depthwiseConv2dNativeBackpropInputConfig } from './depthwise-backprop-input';
import { replaceWasmDepthwiseConv2d } from './depthwise-conv2d';
import { replaceWasmIdentity } from './identity';
import { replaceWasmSlice } from './slice';
import { replaceWasmTile } from './tile';
import { replaceWasmTranspose } from './transpose';
import { unsortedSegmentSumConfig } from './unsorted-segment-sum';

/** The training kernels @tensorflow/tfjs-backend-wasm 4.22 lacks, built on its own kernels. */
export const wasmTrainingKernels: readonly tf.KernelConfig[] = [
  conv2DBackpropFilterConfig,
  depthwiseConv2dNativeBackpropInputConfig,
  depthwiseConv2dNativeBackpropFilterConfig,
  unsortedSegmentSumConfig,
];

/**
 * Puts ours in place of the wasm 4.22 kernels that are slow or wasteful in training: Conv2D, whose 3×3 stride-1
 * convs run by Winograd (conv2d.ts), Conv2DBackpropInput (see conv2d-backprop-input.ts), BatchMatMul with a
 * transposed operand (batch-mat-mul.ts), DepthwiseConv2dNative
 * with a filter size XNNPACK has no fast kernel for (depthwise-conv2d.ts), the copying Identity (identity.ts),
 * Slice and SplitV, which copy their whole input (slice.ts), and Transpose (transpose.ts).
 * Each keeps wasm's own to delegate to. False while wasm's kernels are not registered yet.
 */
function replaceWasmKernels(): boolean {
  const replaced = [
    replaceWasmConv2D(),
    replaceWasmConv2DBackpropInput(),
    replaceWasmBatchMatMul(),
    replaceWasmDepthwiseConv2d(),
    replaceWasmIdentity(),
    replaceWasmSlice(),
    replaceWasmTranspose(),
    replaceWasmTile(),
  ];
  return replaced.every(Boolean);
}

/**
 * Not a kernel: a registry entry whose setupFunc, which tfjs runs for every wasm kernel on each
 * `setBackend('wasm')`, replaces wasm's kernels (replaceWasmKernels) when @tensorflow/tfjs-backend-wasm was imported
 * after this package (its kernels are registered on import, so there was nothing to replace before).
 */
const replaceOnSetupConfig: tf.KernelConfig = {
  kernelName: 'QsattnWasmReplaceKernels',
  backendName: 'wasm',
  kernelFunc: () => {
    throw new Error('QsattnWasmReplaceKernels is a setup hook of @qsattn/core, not a kernel');
  },
  setupFunc: () => {
    replaceWasmKernels();
  },
};

/**
 * Registers the kernels wasm lacks, skipping any already registered (by an earlier call, or a wasm release
 * that ships its own), and replaces the slow ones (replaceWasmKernels): now if wasm's kernels are registered,
 * else when the wasm backend is first set. Idempotent.
 */
export function registerWasmTrainingKernels(): void {
  for (const config of [...wasmTrainingKernels, replaceOnSetupConfig]) {
    if (tf.getKernel(config.kernelName, 'wasm') == null) tf.registerKernel(config);
  }
  replaceWasmKernels();
}

registerWasmTrainingKernels();
