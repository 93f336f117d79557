import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/**
 * out[s, ...] = Σ over the leading positions p with segmentIds[p] = s of x[p, ...], with segmentIds covering
 * x's leading segmentIds.rank axes (TensorFlow's semantics). One pass of scatter-adds over the heap, O(size of
 * x); ids outside [0, numSegments) are dropped, as the cpu backend drops them.
 */
const unsortedSegmentSum: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const { numSegments } = attrs as unknown as tf.UnsortedSegmentSumAttrs;
  const wasm = backend as BackendWasm;
  const leading = segmentIds.shape;
  if (leading.some((size, axis) => size !== x.shape[axis])) {
    throw new Error(`segmentIds shape [${leading}] must be a prefix of x shape [${x.shape}]`);
  }
  const inner = x.shape.slice(leading.length);
  const innerSize = tf.util.sizeFromShape(inner);
  // Allocate before taking views: growing the heap detaches every typed array over it.
  const out = wasm.makeOutput([numSegments, ...inner], x.dtype);
  const sums = wasm.typedArrayFromHeap(out);
  const values = wasm.typedArrayFromHeap(x);
  const ids = wasm.typedArrayFromHeap(segmentIds);
  sums.fill(0);
  for (let p = 0; p < ids.length; p++) {
    const id = ids[p];
    if (id < 0 || id >= numSegments) continue;
    const to = id * innerSize;
    const from = p * innerSize;
    for (let k = 0; k < innerSize; k++) sums[to + k] += values[from + k];
  }
  return out;
};

export const unsortedSegmentSumConfig: tf.KernelConfig = {
  kernelName: tf.UnsortedSegmentSum,
  backendName: 'wasm',
  kernelFunc: unsortedSegmentSum,
};
