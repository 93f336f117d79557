import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { replaceWasmKernel } from './replace-kernel';

/**
 * Identity as the cpu and webgl backends have it: the output shares the input's buffer (reference counted, as
 * wasm's own Reshape shares it). wasm 4.22's copies, and the engine clones every tensor it saves for a
 * gradient through Identity, so in training every saved activation existed twice (and was copied once).
 * Sharing is safe because tensor buffers are never written after they are made: a variable's assign
 * takes the new value's buffer.
 */
const identity: tf.KernelFunc = ({ inputs, backend }) => {
  const { x } = inputs as { x: tf.TensorInfo };
  if (x.dtype === 'string') return wasmOwn!.kernelFunc({ inputs, attrs: {}, backend });
  (backend as BackendWasm).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
};

let wasmOwn: tf.KernelConfig | undefined;

export const identityConfig: tf.KernelConfig = {
  kernelName: tf.Identity,
  backendName: 'wasm',
  kernelFunc: identity,
};

/** Puts the sharing Identity in place of wasm's copying one (see replaceWasmKernel). */
export function replaceWasmIdentity(): boolean {
  return replaceWasmKernel(identityConfig, (own) => {
    wasmOwn = own;
  });
}
