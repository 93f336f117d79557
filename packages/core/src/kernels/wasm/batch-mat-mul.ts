import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { transposeHeap } from './heap-transpose';
import { chainWasmKernels, type WasmKernelChain } from './kernel-chain';
import { replaceWasmKernel } from './replace-kernel';

/** `x` [..., m, n] as a new [..., n, m] tensor. */
export function swapLastAxes(chain: WasmKernelChain, x: tf.TensorInfo): tf.TensorInfo {
  const rank = x.shape.length;
  const [rows, cols] = x.shape.slice(rank - 2);
  const out = chain.allocate([...x.shape.slice(0, rank - 2), cols, rows], x.dtype);
  // Allocate before taking views: growing the heap detaches every typed array over it.
  const perm = x.shape.map((_, a) => (a < rank - 2 ? a : 2 * rank - 3 - a));
  transposeHeap(chain.backend.typedArrayFromHeap(x), x.shape, perm, chain.backend.typedArrayFromHeap(out));
  return out;
}

/** wasm's own BatchMatMul, which ours runs on untransposed operands. */
let wasmOwn: tf.KernelConfig | undefined;

/**
 * wasm 4.22's BatchMatMul reads a transposed operand through a strided inner loop, 3–9× slower than without
 * (e.g. 27 vs 3 ms for 256×256·256×256 with transposeA, one thread). Every matMul gradient asks for one, so a
 * transposed operand is copied out first (a fraction of a millisecond) and the product runs untransposed.
 */
const batchMatMul: tf.KernelFunc = (args) => {
  const { inputs, attrs, backend } = args;
  const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const { transposeA, transposeB } = attrs as unknown as tf.BatchMatMulAttrs;
  if (!transposeA && !transposeB) return wasmOwn!.kernelFunc(args);
  return chainWasmKernels(backend as BackendWasm, (chain) =>
    chain.run(
      tf.BatchMatMul,
      { a: transposeA ? swapLastAxes(chain, a) : a, b: transposeB ? swapLastAxes(chain, b) : b },
      { transposeA: false, transposeB: false }
    )
  );
};

/** Registered over wasm's own; its setupFunc runs wasm's, which binds the wasm function ours calls. */
export const batchMatMulConfig: tf.KernelConfig = {
  kernelName: tf.BatchMatMul,
  backendName: 'wasm',
  kernelFunc: batchMatMul,
  setupFunc: (backend) => wasmOwn?.setupFunc?.(backend),
};

/** Puts ours in place of wasm's BatchMatMul (see replaceWasmKernel). */
export function replaceWasmBatchMatMul(): boolean {
  return replaceWasmKernel(batchMatMulConfig, (own) => {
    wasmOwn = own;
  });
}
