// Instance norm and its closed-form gradient as one kernel each for the wasm and cpu backends, in place of the dozen
// elementwise and reduction kernels of the op chain (ops/instance-norm.ts), each of which reads and writes the whole
// tensor (and wasm's Sum transposes it first). The sums are taken in JS in float64, so they carry less rounding
// than wasm's float32 reductions and do not depend on how many threads wasm runs; on wasm the normalisation itself
// runs in XNNPACK (wasmForward).
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { chainWasmKernels } from '../wasm/kernel-chain';

export const INSTANCE_NORM = 'QsattnInstanceNorm';
export const INSTANCE_NORM_GRAD = 'QsattnInstanceNormGrad';

export interface InstanceNormAttrs {
  eps: number;
}

/**
 * Pixels per block of the channel-group loops below: a block of `c` channels stays within 16 KB, so the strided
 * passes over it, four channels at a time, read from L1. Four channels whose sums live in registers are several
 * times faster in V8 than one pass through all channels accumulating into arrays.
 */
function blockElements(c: number): number {
  return Math.max(1, Math.floor(4096 / c)) * c;
}

/**
 * Adds Σ(x − shift) and Σ(x − shift)² over the pixels of one image block [from, to) to `sum`, `squares`, per
 * channel of `c`, in float64.
 */
function accumulateMoments(x: Float32Array, shift: Float64Array, from: number, to: number, c: number, sum: Float64Array, squares: Float64Array): void {
  let k = 0;
  for (; k + 4 <= c; k += 4) {
    let a0 = 0, a1 = 0, a2 = 0, a3 = 0, q0 = 0, q1 = 0, q2 = 0, q3 = 0;
    const t0 = shift[k], t1 = shift[k + 1], t2 = shift[k + 2], t3 = shift[k + 3];
    for (let i = from + k; i < to; i += c) {
      const x0 = x[i] - t0, x1 = x[i + 1] - t1, x2 = x[i + 2] - t2, x3 = x[i + 3] - t3;
      a0 += x0; a1 += x1; a2 += x2; a3 += x3;
      q0 += x0 * x0; q1 += x1 * x1; q2 += x2 * x2; q3 += x3 * x3;
    }
    sum[k] += a0; sum[k + 1] += a1; sum[k + 2] += a2; sum[k + 3] += a3;
    squares[k] += q0; squares[k + 1] += q1; squares[k + 2] += q2; squares[k + 3] += q3;
  }
  for (; k < c; k++) {
    let a0 = 0;
    let q0 = 0;
    for (let i = from + k; i < to; i += c) {
      const x0 = x[i] - shift[k];
      a0 += x0;
      q0 += x0 * x0;
    }
    sum[k] += a0;
    squares[k] += q0;
  }
}

/** Adds Σa and Σa·b over the pixels of one image block [from, to) to `sumA`, `sumAB`, per channel of `c`, in float64. */
function accumulateProducts(a: Float32Array, b: Float32Array, from: number, to: number, c: number, sumA: Float64Array, sumAB: Float64Array): void {
  let k = 0;
  for (; k + 4 <= c; k += 4) {
    let a0 = 0, a1 = 0, a2 = 0, a3 = 0, p0 = 0, p1 = 0, p2 = 0, p3 = 0;
    for (let i = from + k; i < to; i += c) {
      const x0 = a[i], x1 = a[i + 1], x2 = a[i + 2], x3 = a[i + 3];
      a0 += x0; a1 += x1; a2 += x2; a3 += x3;
      p0 += x0 * b[i]; p1 += x1 * b[i + 1]; p2 += x2 * b[i + 2]; p3 += x3 * b[i + 3];
    }
    sumA[k] += a0; sumA[k + 1] += a1; sumA[k + 2] += a2; sumA[k + 3] += a3;
    sumAB[k] += p0; sumAB[k + 1] += p1; sumAB[k + 2] += p2; sumAB[k + 3] += p3;
  }
  for (; k < c; k++) {
    let a0 = 0;
    let p0 = 0;
    for (let i = from + k; i < to; i += c) {
      a0 += a[i];
      p0 += a[i] * b[i];
    }
    sumA[k] += a0;
    sumAB[k] += p0;
  }
}

/**
 * The moments of NHWC `x` [N, H, W, C] per image and channel: `mean` and `invStd` = 1/√(var + eps), each [N·C].
 * They are accumulated in float64 about each channel's first value, which keeps the one-pass variance free of
 * cancellation when the mean is large against the spread.
 */
export function instanceNormStats(
  x: Float32Array,
  shape: readonly number[],
  eps: number,
  mean: Float64Array,
  invStd: Float32Array,
): void {
  const [n, h, w, c] = shape;
  const hw = h * w;
  const block = blockElements(c);
  const shift = new Float64Array(c);
  const sum = new Float64Array(c);
  const squares = new Float64Array(c);
  for (let b = 0; b < n; b++) {
    const base = b * hw * c;
    const end = base + hw * c;
    for (let k = 0; k < c; k++) shift[k] = x[base + k];
    sum.fill(0);
    squares.fill(0);
    for (let from = base; from < end; from += block) accumulateMoments(x, shift, from, Math.min(end, from + block), c, sum, squares);
    for (let k = 0; k < c; k++) {
      const m = sum[k] / hw;
      mean[b * c + k] = shift[k] + m;
      invStd[b * c + k] = 1 / Math.sqrt(Math.max(squares[k] / hw - m * m, 0) + eps);
    }
  }
}

/** y = (x − mean)·invStd per image and channel, the statistics as instanceNormStats gives them (the cpu backend's pass). */
export function normaliseInto(x: Float32Array, shape: readonly number[], mean: Float64Array, invStd: Float32Array, y: Float32Array): void {
  const [n, h, w, c] = shape;
  const hw = h * w;
  const block = blockElements(c);
  for (let b = 0; b < n; b++) {
    const base = b * hw * c;
    const end = base + hw * c;
    const s = b * c;
    for (let from = base; from < end; from += block) {
      const to = Math.min(end, from + block);
      let k = 0;
      for (; k + 4 <= c; k += 4) {
        const m0 = mean[s + k], m1 = mean[s + k + 1], m2 = mean[s + k + 2], m3 = mean[s + k + 3];
        const v0 = invStd[s + k], v1 = invStd[s + k + 1], v2 = invStd[s + k + 2], v3 = invStd[s + k + 3];
        for (let i = from + k; i < to; i += c) {
          y[i] = (x[i] - m0) * v0; y[i + 1] = (x[i + 1] - m1) * v1; y[i + 2] = (x[i + 2] - m2) * v2; y[i + 3] = (x[i + 3] - m3) * v3;
        }
      }
      for (; k < c; k++) for (let i = from + k; i < to; i += c) y[i] = (x[i] - mean[s + k]) * invStd[s + k];
    }
  }
}

/**
 * dx = (dy − mean(dy) − x̂·mean(dy·x̂)) · invStd per image and channel, from the norm's output x̂ and its `invStd`
 * [N, 1, 1, C]; the means over H×W are accumulated in float64.
 */
export function instanceNormGradInto(
  dy: Float32Array,
  xHat: Float32Array,
  invStd: Float32Array,
  shape: readonly number[],
  dx: Float32Array,
): void {
  const [n, h, w, c] = shape;
  const hw = h * w;
  const block = blockElements(c);
  const meanDy = new Float64Array(c);
  const meanDyX = new Float64Array(c);
  for (let b = 0; b < n; b++) {
    const base = b * hw * c;
    const end = base + hw * c;
    meanDy.fill(0);
    meanDyX.fill(0);
    for (let from = base; from < end; from += block) accumulateProducts(dy, xHat, from, Math.min(end, from + block), c, meanDy, meanDyX);
    for (let k = 0; k < c; k++) {
      meanDy[k] /= hw;
      meanDyX[k] /= hw;
    }
    const stat = b * c;
    for (let from = base; from < end; from += block) {
      const to = Math.min(end, from + block);
      let k = 0;
      for (; k + 4 <= c; k += 4) {
        const d0 = meanDy[k], d1 = meanDy[k + 1], d2 = meanDy[k + 2], d3 = meanDy[k + 3];
        const e0 = meanDyX[k], e1 = meanDyX[k + 1], e2 = meanDyX[k + 2], e3 = meanDyX[k + 3];
        const s0 = invStd[stat + k], s1 = invStd[stat + k + 1], s2 = invStd[stat + k + 2], s3 = invStd[stat + k + 3];
        for (let i = from + k; i < to; i += c) {
          dx[i] = (dy[i] - d0 - xHat[i] * e0) * s0;
          dx[i + 1] = (dy[i + 1] - d1 - xHat[i + 1] * e1) * s1;
          dx[i + 2] = (dy[i + 2] - d2 - xHat[i + 2] * e2) * s2;
          dx[i + 3] = (dy[i + 3] - d3 - xHat[i + 3] * e3) * s3;
        }
      }
      for (; k < c; k++) {
        for (let i = from + k; i < to; i += c) dx[i] = (dy[i] - meanDy[k] - xHat[i] * meanDyX[k]) * invStd[stat + k];
      }
    }
  }
}

function statsShape(shape: readonly number[]): number[] {
  return [shape[0], 1, 1, shape[3]];
}

function checkRank4(name: string, info: tf.TensorInfo): void {
  if (info.shape.length !== 4 || info.dtype !== 'float32') {
    throw new Error(`${name}: expected a float32 NHWC tensor, got ${info.dtype} [${info.shape.join(', ')}]`);
  }
}

/**
 * The statistics in JS, the normalisation y = x·invStd + (−mean·invStd) as wasm's fused depthwise 1×1 conv (XNNPACK,
 * SIMD: several times faster than a JS pass), one image at a time: each image has its own scale and shift, so an
 * image of a batch is copied out and its result copied back (memcpy, cheap beside the pass).
 */
const wasmForward: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const { x } = inputs as { x: tf.TensorInfo };
  checkRank4(INSTANCE_NORM, x);
  const [n, h, w, c] = x.shape;
  const wasm = backend as BackendWasm;
  // Allocate before taking views: growing the heap detaches every typed array over it.
  const invStdInfo = wasm.makeOutput(statsShape(x.shape), 'float32');
  const view = (t: tf.TensorInfo): Float32Array => wasm.typedArrayFromHeap(t) as Float32Array;
  const mean = new Float64Array(n * c);
  instanceNormStats(view(x), x.shape, (attrs as unknown as InstanceNormAttrs).eps, mean, view(invStdInfo));
  const invStd = view(invStdInfo).slice();
  const y = chainWasmKernels(wasm, (chain) => {
    const out = n === 1 ? undefined : chain.allocate(x.shape, 'float32');
    const size = h * w * c;
    for (let b = 0; b < n; b++) {
      const image = n === 1 ? x : chain.allocate([1, h, w, c], 'float32');
      const scale = chain.allocate([1, 1, c, 1], 'float32');
      const shift = chain.allocate([c], 'float32');
      if (image !== x) view(image).set(view(x).subarray(b * size, (b + 1) * size));
      const scaleValues = view(scale);
      const shiftValues = view(shift);
      for (let k = 0; k < c; k++) {
        scaleValues[k] = invStd[b * c + k];
        shiftValues[k] = -mean[b * c + k] * invStd[b * c + k];
      }
      const normalised = chain.run(
        tf.FusedDepthwiseConv2D,
        { x: image, filter: scale, bias: shift },
        { strides: 1, pad: 'valid', dilations: 1, dataFormat: 'NHWC', activation: 'linear' } as unknown as tf.NamedAttrMap,
      );
      if (out == null) return normalised;
      view(out).set(view(normalised), b * size);
    }
    return out!;
  });
  return [y, invStdInfo];
};

const wasmGrad: tf.KernelFunc = ({ inputs, backend }) => {
  const { dy, xHat, invStd } = inputs as { dy: tf.TensorInfo; xHat: tf.TensorInfo; invStd: tf.TensorInfo };
  checkRank4(INSTANCE_NORM_GRAD, dy);
  const wasm = backend as BackendWasm;
  const dx = wasm.makeOutput(dy.shape, 'float32');
  const view = (t: tf.TensorInfo): Float32Array => wasm.typedArrayFromHeap(t) as Float32Array;
  instanceNormGradInto(view(dy), view(xHat), view(invStd), dy.shape, view(dx));
  return dx;
};

interface CpuBackend {
  data: { get(dataId: object): { values: tf.backend_util.BackendValues } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: tf.backend_util.BackendValues): tf.TensorInfo;
}

const cpuValues = (cpu: CpuBackend, t: tf.TensorInfo): Float32Array => cpu.data.get(t.dataId).values as Float32Array;

const cpuForward: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const { x } = inputs as { x: tf.TensorInfo };
  checkRank4(INSTANCE_NORM, x);
  const cpu = backend as unknown as CpuBackend;
  const y = new Float32Array(tf.util.sizeFromShape(x.shape));
  const mean = new Float64Array(x.shape[0] * x.shape[3]);
  const invStd = new Float32Array(x.shape[0] * x.shape[3]);
  instanceNormStats(cpuValues(cpu, x), x.shape, (attrs as unknown as InstanceNormAttrs).eps, mean, invStd);
  normaliseInto(cpuValues(cpu, x), x.shape, mean, invStd, y);
  return [cpu.makeTensorInfo(x.shape, 'float32', y), cpu.makeTensorInfo(statsShape(x.shape), 'float32', invStd)];
};

const cpuGrad: tf.KernelFunc = ({ inputs, backend }) => {
  const { dy, xHat, invStd } = inputs as { dy: tf.TensorInfo; xHat: tf.TensorInfo; invStd: tf.TensorInfo };
  checkRank4(INSTANCE_NORM_GRAD, dy);
  const cpu = backend as unknown as CpuBackend;
  const dx = new Float32Array(tf.util.sizeFromShape(dy.shape));
  instanceNormGradInto(cpuValues(cpu, dy), cpuValues(cpu, xHat), cpuValues(cpu, invStd), dy.shape, dx);
  return cpu.makeTensorInfo(dy.shape, 'float32', dx);
};

export const instanceNormConfigs: readonly tf.KernelConfig[] = [
  { kernelName: INSTANCE_NORM, backendName: 'wasm', kernelFunc: wasmForward },
  { kernelName: INSTANCE_NORM, backendName: 'cpu', kernelFunc: cpuForward },
  { kernelName: INSTANCE_NORM_GRAD, backendName: 'wasm', kernelFunc: wasmGrad },
  { kernelName: INSTANCE_NORM_GRAD, backendName: 'cpu', kernelFunc: cpuGrad },
];

for (const config of instanceNormConfigs) {
  if (tf.getKernel(config.kernelName, config.backendName) == null) tf.registerKernel(config);
}
