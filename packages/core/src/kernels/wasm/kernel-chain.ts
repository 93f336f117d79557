import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/**
 * Composes wasm's own kernels into a new one. Kernels called this way bypass the engine, so nothing else
 * would free what they return: the chain records every tensor it makes and frees all but the result.
 */
export class WasmKernelChain {
  private readonly made: tf.TensorInfo[] = [];

  constructor(readonly backend: BackendWasm) {}

  /** Runs wasm's registered `kernelName` (set up when the backend initialised) and returns its one output. */
  run(kernelName: string, inputs: tf.NamedTensorInfoMap | tf.TensorInfo[], attrs: tf.NamedAttrMap = {}): tf.TensorInfo {
    const kernel = tf.getKernel(kernelName, 'wasm');
    if (kernel == null) throw new Error(`the wasm backend has no ${kernelName} kernel`);
    // Concat, like the engine's own call, takes its inputs as an array.
    const out = kernel.kernelFunc({ inputs: inputs as tf.NamedTensorInfoMap, attrs, backend: this.backend });
    if (Array.isArray(out)) throw new Error(`${kernelName} returned ${out.length} tensors where one was expected`);
    this.made.push(out);
    return out;
  }

  /** A new, uninitialised tensor on the wasm heap for a loop to fill. */
  allocate(shape: number[], dtype: tf.DataType): tf.TensorInfo {
    const out = this.backend.makeOutput(shape, dtype);
    this.made.push(out);
    return out;
  }

  /** Frees everything the chain made except `result`. */
  release(result?: tf.TensorInfo): void {
    for (const info of this.made) if (info !== result) this.backend.disposeData(info.dataId);
    this.made.length = 0;
  }
}

/** Runs `body` on a fresh chain and returns its result; every other tensor it made is freed, even on a throw. */
export function chainWasmKernels(backend: BackendWasm, body: (chain: WasmKernelChain) => tf.TensorInfo): tf.TensorInfo {
  const chain = new WasmKernelChain(backend);
  let result: tf.TensorInfo | undefined;
  try {
    result = body(chain);
    return result;
  } finally {
    chain.release(result);
  }
}
