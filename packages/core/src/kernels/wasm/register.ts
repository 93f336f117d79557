import * as tf from '@tensorflow/tfjs-core';
import { conv2DBackpropFilterConfig } from './conv2d-backprop-filter';
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

/** Registers them; skips any already registered (by an earlier call, or a wasm release that ships its own). */
export function registerWasmTrainingKernels(): void {
  for (const config of wasmTrainingKernels) {
    if (tf.getKernel(config.kernelName, 'wasm') == null) tf.registerKernel(config);
  }
}

registerWasmTrainingKernels();
