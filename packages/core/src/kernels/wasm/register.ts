import * as tf from '@tensorflow/tfjs-core';
import { conv2DBackpropFilterConfig } from './conv2d-backprop-filter';
import { replaceWasmConv2DBackpropInput } from './conv2d-backprop-input';
import { depthwiseConv2dNativeBackpropFilterConfig } from './depthwise-backprop-filter';
import { depthwiseConv2dNativeBackpropInputConfig } from './depthwise-backprop-input';
import { unsortedSegmentSumConfig } from './unsorted-segment-sum';

/** The training kernels @tensorflow/tfjs-backend-wasm 4.22 lacks, built on its own kernels. */
export const wasmTrainingKernels: readonly tf.KernelConfig[] = [
  conv2DBackpropFilterConfig,
  depthwiseConv2dNativeBackpropInputConfig,
  depthwiseConv2dNativeBackpropFilterConfig,
  unsortedSegmentSumConfig,
];

/**
 * Not a kernel: a registry entry whose setupFunc, which tfjs runs for every wasm kernel on each
 * `setBackend('wasm')`, replaces wasm's Conv2DBackpropInput when @tensorflow/tfjs-backend-wasm was imported
 * after this package (its kernels are registered on import, so there was nothing to replace before).
 */
const replaceOnSetupConfig: tf.KernelConfig = {
  kernelName: 'QsattnWasmReplaceKernels',
  backendName: 'wasm',
  kernelFunc: () => {
    throw new Error('QsattnWasmReplaceKernels is a setup hook of @qsattn/core, not a kernel');
  },
  setupFunc: () => {
    replaceWasmConv2DBackpropInput();
  },
};

/**
 * Registers the kernels wasm lacks, skipping any already registered (by an earlier call, or a wasm release
 * that ships its own), and replaces wasm's slow Conv2DBackpropInput with ours (see conv2d-backprop-input.ts):
 * now if wasm's kernels are registered, else when the wasm backend is first set. Idempotent.
 */
export function registerWasmTrainingKernels(): void {
  for (const config of [...wasmTrainingKernels, replaceOnSetupConfig]) {
    if (tf.getKernel(config.kernelName, 'wasm') == null) tf.registerKernel(config);
  }
  replaceWasmConv2DBackpropInput();
}

registerWasmTrainingKernels();
