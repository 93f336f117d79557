// The gradient of reflection padding as one kernel for the wasm and cpu backends: two passes over dy instead of
// the slices, reverses, pads and sums of `foldReflected` (ops/reflection-pad.ts), which it matches bit for bit.
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export const REFLECTION_PAD_GRAD = 'QsattnReflectionPadGrad';

export interface ReflectionPadGradAttrs {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

/**
 * Folds `before` and `after` mirrored rows of one axis back onto their sources: with the axis of length
 * `full = before + inner + after` at stride `step` (elements) inside blocks of `outer`, row i of the result is
 * (centre + top mirror) + bottom mirror, each sum rounded to float32 as tfjs's AddN over [centre, top, bottom]
 * rounds it; padded row before−i mirrors row i, padded row before+inner+j mirrors row inner−2−j. Each row is
 * copied whole (a memcpy) and only the few mirrored rows are added onto it.
 */
function foldAxis(src: Float32Array, outer: number, full: number, step: number, before: number, after: number, dst: Float32Array): void {
  const inner = full - before - after;
  for (let o = 0; o < outer; o++) {
    const from = o * full * step;
    const to = o * inner * step;
    dst.set(src.subarray(from + before * step, from + (before + inner) * step), to);
    for (let i = 1; i <= Math.min(before, inner - 1); i++) {
      const out = to + i * step;
      const top = from + (before - i) * step;
      for (let k = 0; k < step; k++) dst[out + k] += src[top + k];
    }
    for (let j = 0; j < Math.min(after, inner - 1); j++) {
      const out = to + (inner - 2 - j) * step;
      const bottom = from + (before + inner + j) * step;
      for (let k = 0; k < step; k++) dst[out + k] += src[bottom + k];
    }
  }
}

/** dx of `reflectionPad` from dy [N, H+top+bottom, W+left+right, C], into `dx` [N, H, W, C]. */
export function reflectionPadGradInto(dy: Float32Array, dyShape: readonly number[], attrs: ReflectionPadGradAttrs, dx: Float32Array): void {
  const [n, fullH, fullW, c] = dyShape;
  const h = fullH - attrs.top - attrs.bottom;
  // Rows first (as foldReflected folds axis 1, then axis 2), into a buffer of the unpadded height.
  const rows = attrs.top + attrs.bottom > 0 ? new Float32Array(n * h * fullW * c) : dy;
  if (rows !== dy) foldAxis(dy, n, fullH, fullW * c, attrs.top, attrs.bottom, rows);
  if (attrs.left + attrs.right > 0) foldAxis(rows, n * h, fullW, c, attrs.left, attrs.right, dx);
  else dx.set(rows.subarray(0, dx.length));
}

function outShape(dy: tf.TensorInfo, a: ReflectionPadGradAttrs): number[] {
  const [n, fullH, fullW, c] = dy.shape;
  return [n, fullH - a.top - a.bottom, fullW - a.left - a.right, c];
}

const wasmKernel: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const { dy } = inputs as { dy: tf.TensorInfo };
  const a = attrs as unknown as ReflectionPadGradAttrs;
  const wasm = backend as BackendWasm;
  // Allocate before taking views: growing the heap detaches every typed array over it.
  const out = wasm.makeOutput(outShape(dy, a), 'float32');
  reflectionPadGradInto(wasm.typedArrayFromHeap(dy) as Float32Array, dy.shape, a, wasm.typedArrayFromHeap(out) as Float32Array);
  return out;
};

interface CpuBackend {
  data: { get(dataId: object): { values: tf.backend_util.BackendValues } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: tf.backend_util.BackendValues): tf.TensorInfo;
}

const cpuKernel: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const { dy } = inputs as { dy: tf.TensorInfo };
  const a = attrs as unknown as ReflectionPadGradAttrs;
  const cpu = backend as unknown as CpuBackend;
  const shape = outShape(dy, a);
  const dx = new Float32Array(tf.util.sizeFromShape(shape));
  reflectionPadGradInto(cpu.data.get(dy.dataId).values as Float32Array, dy.shape, a, dx);
  return cpu.makeTensorInfo(shape, 'float32', dx);
};

export const reflectionPadGradConfigs: readonly tf.KernelConfig[] = [
  { kernelName: REFLECTION_PAD_GRAD, backendName: 'wasm', kernelFunc: wasmKernel },
  { kernelName: REFLECTION_PAD_GRAD, backendName: 'cpu', kernelFunc: cpuKernel },
];

for (const config of reflectionPadGradConfigs) {
  if (tf.getKernel(config.kernelName, config.backendName) == null) tf.registerKernel(config);
}
