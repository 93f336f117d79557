import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { transposeHeap } from './heap-transpose';
import { replaceWasmKernel } from './replace-kernel';

/**
 * Transpose by runs and tiles over the heap (heap-transpose.ts). wasm 4.22's kernel moves one element at a time
 * through generic index arithmetic: 12.6 ms for a 2×34×34×256 activation in the filter gradient's layout (one
 * thread), a tenth of the conv it feeds.
 */
const transpose: tf.KernelFunc = (args) => {
  const { inputs, attrs, backend } = args;
  const { x } = inputs as { x: tf.TensorInfo };
  if (x.dtype === 'string' || x.dtype === 'complex64') return wasmOwn!.kernelFunc(args);
  const { perm } = attrs as unknown as tf.TransposeAttrs;
  const wasm = backend as BackendWasm;
  // Allocate before taking views: growing the heap detaches every typed array over it.
  const out = wasm.makeOutput(
    perm.map((a) => x.shape[a]),
    x.dtype
  );
  if (tf.util.sizeFromShape(x.shape) > 0) {
    transposeHeap(wasm.typedArrayFromHeap(x), x.shape, perm, wasm.typedArrayFromHeap(out));
  }
  return out;
};

let wasmOwn: tf.KernelConfig | undefined;

export const transposeConfig: tf.KernelConfig = {
  kernelName: tf.Transpose,
  backendName: 'wasm',
  kernelFunc: transpose,
};

/** Puts ours in place of wasm's Transpose (see replaceWasmKernel). */
export function replaceWasmTranspose(): boolean {
  return replaceWasmKernel(transposeConfig, (own) => {
    wasmOwn = own;
  });
}
