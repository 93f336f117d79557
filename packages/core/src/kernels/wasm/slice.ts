import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { RunCopier } from './heap-transpose';
import { replaceWasmKernel } from './replace-kernel';

/**
 * out = x[begin : begin + size], read through a view of the heap. wasm 4.22's Slice first copies its whole
 * input out of the heap (`readSync`), so cutting one border row off a 2×66×66×128 gradient cost as much as
 * copying all of it, and the training step slices hundreds of times. The copy here moves runs of the
 * trailing axes that the slice keeps whole in one `copyWithin` each.
 */
const slice: tf.KernelFunc = (args) => {
  const { inputs, attrs, backend } = args;
  const { x } = inputs as { x: tf.TensorInfo };
  if (x.dtype === 'string') return wasmOwn!.kernelFunc(args);
  const { begin, size } = attrs as unknown as tf.SliceAttrs;
  const [from, extent] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
  const wasm = backend as BackendWasm;
  // Allocate before taking views: growing the heap detaches every typed array over it.
  const out = wasm.makeOutput(extent, x.dtype);
  if (tf.util.sizeFromShape(extent) === 0) return out;
  const src = wasm.typedArrayFromHeap(x);
  const dst = wasm.typedArrayFromHeap(out);
  const shape = x.shape;
  if (shape.length === 0) {
    dst.set(src);
    return out;
  }
  const strides = [...tf.util.computeStrides(shape), 1];
  // Axes after `axis` are kept whole, so each index over the axes before it names one contiguous run.
  let axis = shape.length - 1;
  while (axis > 0 && extent[axis] === shape[axis]) axis--;
  const run = extent[axis] * strides[axis];
  const index = new Array<number>(axis).fill(0);
  let offset = 0;
  for (let a = 0; a <= axis; a++) offset += from[a] * strides[a];
  const runs = new RunCopier(src, dst);
  for (let to = 0; to < dst.length; to += run) {
    runs.copy(offset, to, run);
    // Advance the odometer over axes 0 … axis−1.
    let a = axis - 1;
    while (a >= 0) {
      offset += strides[a];
      if (++index[a] < extent[a]) break;
      offset -= extent[a] * strides[a];
      index[a] = 0;
      a--;
    }
  }
  return out;
};

/** SplitV as wasm's own: one slice per part, but ours (wasm's calls its own Slice directly). */
const splitV: tf.KernelFunc = (args) => {
  const { inputs, attrs, backend } = args;
  const { x } = inputs as { x: tf.TensorInfo };
  if (x.dtype === 'string') return wasmOwnSplitV!.kernelFunc(args);
  const { numOrSizeSplits, axis } = attrs as unknown as tf.SplitVAttrs;
  const splitAxis = tf.util.parseAxisParam(axis, x.shape)[0];
  const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, splitAxis);
  const begin = new Array<number>(x.shape.length).fill(0);
  return sizes.map((part) => {
    const size = [...x.shape];
    size[splitAxis] = part;
    const piece = slice({ inputs: { x }, attrs: { begin: [...begin], size }, backend }) as tf.TensorInfo;
    begin[splitAxis] += part;
    return piece;
  });
};

let wasmOwn: tf.KernelConfig | undefined;
let wasmOwnSplitV: tf.KernelConfig | undefined;

export const sliceConfig: tf.KernelConfig = {
  kernelName: tf.Slice,
  backendName: 'wasm',
  kernelFunc: slice,
};

export const splitVConfig: tf.KernelConfig = {
  kernelName: tf.SplitV,
  backendName: 'wasm',
  kernelFunc: splitV,
};

/** Puts ours in place of wasm's Slice and SplitV (see replaceWasmKernel). */
export function replaceWasmSlice(): boolean {
  const sliced = replaceWasmKernel(sliceConfig, (own) => {
    wasmOwn = own;
  });
  const split = replaceWasmKernel(splitVConfig, (own) => {
    wasmOwnSplitV = own;
  });
  return sliced && split;
}
