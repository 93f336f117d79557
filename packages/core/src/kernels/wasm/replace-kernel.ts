import * as tf from '@tensorflow/tfjs-core';

/**
 * Puts `ours` in place of the wasm kernel of the same name and hands wasm's own to `keep` (ours delegates to
 * it). Idempotent. Returns false, changing nothing, while wasm's is not registered yet
 * (@tensorflow/tfjs-backend-wasm not imported): registering ours then would only see it overwritten (with a
 * warning) when wasm registers its kernels.
 */
export function replaceWasmKernel(ours: tf.KernelConfig, keep: (own: tf.KernelConfig) => void): boolean {
  const current = tf.getKernel(ours.kernelName, 'wasm');
  if (current == null) return false;
  if (current.kernelFunc === ours.kernelFunc) return true;
  keep(current);
  tf.unregisterKernel(ours.kernelName, 'wasm');
  tf.registerKernel(ours);
  return true;
}
