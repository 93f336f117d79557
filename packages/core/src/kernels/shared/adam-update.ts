// One Adam update of one parameter as a single kernel for the wasm and cpu backends: one pass over p, m, v and g
// instead of thirteen element-wise kernels (and their scalar uploads) per parameter, computing the same float32
// roundings in the same order as TorchAdam's op chain (optim/adam.ts), so the results are bit-identical.
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export const ADAM_UPDATE = 'QsattnAdamUpdate';

export interface AdamUpdateAttrs {
  beta1: number;
  beta2: number;
  eps: number;
  /** lr / (1 − β1ᵗ). */
  stepSize: number;
  /** √(1 − β2ᵗ). */
  bc2Sqrt: number;
}

const f = Math.fround;

/**
 * m' = m·β1 + g·(1−β1); v' = v·β2 + g²·(1−β2); p' = p − (m' / (√v' / bc2Sqrt + eps))·stepSize, every constant and
 * every intermediate rounded to float32 as the op chain's scalar tensors and kernels round them (a float64 result
 * of one +, −, ×, ÷ or √ of float32 values, rounded to float32, is the correctly rounded float32 result).
 */
export function adamUpdateInto(
  p: Float32Array,
  m: Float32Array,
  v: Float32Array,
  g: Float32Array,
  attrs: AdamUpdateAttrs,
  out: { p: Float32Array; m: Float32Array; v: Float32Array },
): void {
  const [b1, c1, b2, c2] = [f(attrs.beta1), f(1 - attrs.beta1), f(attrs.beta2), f(1 - attrs.beta2)];
  const [bc, eps, step] = [f(attrs.bc2Sqrt), f(attrs.eps), f(attrs.stepSize)];
  for (let i = 0; i < p.length; i++) {
    const gi = g[i];
    const mi = f(f(m[i] * b1) + f(gi * c1));
    const vi = f(f(v[i] * b2) + f(f(gi * gi) * c2));
    const denom = f(f(f(Math.sqrt(vi)) / bc) + eps);
    out.m[i] = mi;
    out.v[i] = vi;
    out.p[i] = f(p[i] - f(f(mi / denom) * step));
  }
}

type Inputs = { p: tf.TensorInfo; m: tf.TensorInfo; v: tf.TensorInfo; g: tf.TensorInfo };

const wasmKernel: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const { p, m, v, g } = inputs as Inputs;
  const wasm = backend as BackendWasm;
  // Allocate before taking views: growing the heap detaches every typed array over it.
  const outs = [wasm.makeOutput(p.shape, 'float32'), wasm.makeOutput(p.shape, 'float32'), wasm.makeOutput(p.shape, 'float32')];
  const view = (t: tf.TensorInfo) => wasm.typedArrayFromHeap(t) as Float32Array;
  adamUpdateInto(view(p), view(m), view(v), view(g), attrs as unknown as AdamUpdateAttrs, { p: view(outs[0]), m: view(outs[1]), v: view(outs[2]) });
  return outs;
};

interface CpuBackend {
  data: { get(dataId: object): { values: tf.backend_util.BackendValues } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: tf.backend_util.BackendValues): tf.TensorInfo;
}

const cpuKernel: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const { p, m, v, g } = inputs as Inputs;
  const cpu = backend as unknown as CpuBackend;
  const values = (t: tf.TensorInfo) => cpu.data.get(t.dataId).values as Float32Array;
  const size = tf.util.sizeFromShape(p.shape);
  const out = { p: new Float32Array(size), m: new Float32Array(size), v: new Float32Array(size) };
  adamUpdateInto(values(p), values(m), values(v), values(g), attrs as unknown as AdamUpdateAttrs, out);
  return [out.p, out.m, out.v].map((data) => cpu.makeTensorInfo(p.shape, 'float32', data));
};

export const adamUpdateConfigs: readonly tf.KernelConfig[] = [
  { kernelName: ADAM_UPDATE, backendName: 'wasm', kernelFunc: wasmKernel },
  { kernelName: ADAM_UPDATE, backendName: 'cpu', kernelFunc: cpuKernel },
];

for (const config of adamUpdateConfigs) {
  if (tf.getKernel(config.kernelName, config.backendName) == null) tf.registerKernel(config);
}
