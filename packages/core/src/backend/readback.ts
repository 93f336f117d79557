// How the running backend reads tensors back to the CPU synchronously (`dataSync`), which decides whether a training
// step may read mid-step (the QS selection's entropies, the losses) or must read asynchronously between steps.
import * as tf from '@tensorflow/tfjs-core';

/**
 * - `cheap`: the values live in CPU memory (cpu, wasm, tensorflow): a synchronous read costs a copy;
 * - `slow`: a GPU backend that can block on the device (webgl, webgpu in a browser): correct but it stalls the page;
 * - `unsupported`: webgpu in Node (Dawn offers no synchronous map): only `await t.data()` works.
 */
export type SynchronousReads = 'cheap' | 'slow' | 'unsupported';

const isNode = typeof process !== 'undefined' && process.versions?.node != null;

export function synchronousReads(backend: string = tf.getBackend()): SynchronousReads {
  if (backend === 'webgpu') return isNode ? 'unsupported' : 'slow';
  if (backend === 'webgl') return 'slow';
  return 'cheap';
}
