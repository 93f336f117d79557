import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { Heap } from './heap-transpose';
import { replaceWasmKernel } from './replace-kernel';

/**
 * out = x repeated reps[a] times along each axis a, by block copies: x's rows are placed at the start of their
 * tiles, then from the last axis to the first each filled block is copied onward (doubling the copied length)
 * until its axis is tiled. wasm 4.22's Tile computes every output element's source index one by one, ~50 ns an
 * element: the 256×256 broadcast of one scalar in PatchNCE's tf.where took 3.7 ms (one thread).
 */
export function tileInto(x: Heap, shape: readonly number[], reps: readonly number[], out: Heap): void {
  const rank = shape.length;
  if (rank === 0) {
    out.set(x);
    return;
  }
  const outShape = shape.map((d, a) => d * reps[a]);
  const strides = [...tf.util.computeStrides(outShape), 1];
  const row = shape[rank - 1];
  // Place each input row (last axis) at the start of its tile; `index` counts over the input's other axes.
  const index = new Array<number>(rank - 1).fill(0);
  for (let from = 0; from < x.length; from += row) {
    let to = 0;
    for (let a = 0; a < rank - 1; a++) to += index[a] * strides[a];
    out.set(x.subarray(from, from + row), to);
    for (let a = rank - 2; a >= 0 && ++index[a] === shape[a]; a--) index[a] = 0;
  }
  // Axis a: each block of shape[a] filled slices (inner axes already tiled) is repeated reps[a] times, for every
  // filled position of the outer axes.
  for (let axis = rank - 1; axis >= 0; axis--) {
    if (reps[axis] === 1) continue;
    const length = shape[axis] * strides[axis];
    const total = length * reps[axis];
    const outer = new Array<number>(axis).fill(0);
    for (;;) {
      let base = 0;
      for (let a = 0; a < axis; a++) base += outer[a] * strides[a];
      for (let done = length; done < total; done *= 2) out.copyWithin(base + done, base, base + Math.min(done, total - done));
      let a = axis - 1;
      while (a >= 0 && ++outer[a] === shape[a]) outer[a--] = 0;
      if (a < 0) break;
    }
  }
}

const tile: tf.KernelFunc = (args) => {
  const { inputs, attrs, backend } = args;
  const { x } = inputs as { x: tf.TensorInfo };
  if (x.dtype === 'string' || x.dtype === 'complex64') return wasmOwn!.kernelFunc(args);
  const { reps } = attrs as unknown as tf.TileAttrs;
  const wasm = backend as BackendWasm;
  // Allocate before taking views: growing the heap detaches every typed array over it.
  const out = wasm.makeOutput(
    x.shape.map((d, a) => d * reps[a]),
    x.dtype,
  );
  if (tf.util.sizeFromShape(out.shape) > 0) {
    tileInto(wasm.typedArrayFromHeap(x) as Heap, x.shape, reps, wasm.typedArrayFromHeap(out) as Heap);
  }
  return out;
};

let wasmOwn: tf.KernelConfig | undefined;

export const tileConfig: tf.KernelConfig = {
  kernelName: tf.Tile,
  backendName: 'wasm',
  kernelFunc: tile,
};

/** Puts ours in place of wasm's Tile (see replaceWasmKernel). */
export function replaceWasmTile(): boolean {
  return replaceWasmKernel(tileConfig, (own) => {
    wasmOwn = own;
  });
}
