import * as tf from '@tensorflow/tfjs-core';
import { cpuConv2DBackpropFilterConfig } from './conv2d-backprop-filter';

/** Ours in place of the cpu backend's own; false while the cpu backend's kernels are not registered yet. */
function replaceCpuKernels(): boolean {
  const ours = cpuConv2DBackpropFilterConfig;
  const current = tf.getKernel(ours.kernelName, 'cpu');
  if (current == null) return false;
  if (current.kernelFunc !== ours.kernelFunc) {
    tf.unregisterKernel(ours.kernelName, 'cpu');
    tf.registerKernel(ours);
  }
  return true;
}

/** A registry entry whose setupFunc (run on each `setBackend('cpu')`) replaces the kernels if @tensorflow/tfjs-backend-cpu was imported after this package. */
const replaceOnSetupConfig: tf.KernelConfig = {
  kernelName: 'QsattnCpuReplaceKernels',
  backendName: 'cpu',
  kernelFunc: () => {
    throw new Error('QsattnCpuReplaceKernels is a setup hook of @qsattn/core, not a kernel');
  },
  setupFunc: () => {
    replaceCpuKernels();
  },
};

/** Replaces the cpu backend's filter gradient of conv2d (1000× slower than the rest of the backend) with ours. Idempotent. */
export function registerCpuKernels(): void {
  if (!replaceCpuKernels() && tf.getKernel(replaceOnSetupConfig.kernelName, 'cpu') == null) tf.registerKernel(replaceOnSetupConfig);
}

registerCpuKernels();
