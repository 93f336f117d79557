import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { transposeBlock } from './heap-transpose';
import { chainWasmKernels, type WasmKernelChain } from './kernel-chain';
import { replaceWasmKernel } from './replace-kernel';
import { explicitPad, planInputGrad, spreadByStride } from './transposed-conv';

type ConvInfo = tf.backend_util.Conv2DInfo;

/**
 * The filter of the input gradient's forward conv, W[i,j,ci,co] → W'[kh−1−i,kw−1−j,co,ci], in one pass over the
 * heap: wasm's Reverse and Transpose kernels took 35 and 14 ms for a 3×3×256×256 filter (one thread), more than
 * the conv itself.
 */
export function rotateFilter(chain: WasmKernelChain, filter: tf.TensorInfo): tf.TensorInfo {
  const [kh, kw, ci, co] = filter.shape;
  const out = chain.allocate([kh, kw, co, ci], 'float32');
  // Allocate before taking views: growing the heap detaches every typed array over it.
  const src = chain.backend.typedArrayFromHeap(filter) as Float32Array;
  const dst = chain.backend.typedArrayFromHeap(out) as Float32Array;
  const tap = ci * co;
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      transposeBlock(src, (i * kw + j) * tap, dst, ((kh - 1 - i) * kw + (kw - 1 - j)) * tap, ci, co);
    }
  }
  return out;
}

/**
 * dx = a stride-1 forward conv (XNNPACK) of dy spread by the stride and padded by k−1−pad (cropped where that
 * is negative), with the filter rotated 180° and its channel axes swapped: W[i,j,ci,co] → W'[kh−1−i,kw−1−j,co,ci].
 * Rows of dx that no window of the forward conv read come out zero from the padding.
 */
export function inputGradByConv(
  chain: WasmKernelChain,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  info: ConvInfo
): tf.TensorInfo {
  const { rows, cols } = planInputGrad(info);
  const spread = spreadByStride(chain, dy, info.strideHeight, info.strideWidth, rows, cols);
  return chain.run(
    tf.Conv2D,
    { x: spread, filter: rotateFilter(chain, filter) },
    { strides: 1, dilations: 1, pad: explicitPad(rows, cols), dataFormat: 'NHWC' }
  );
}

/**
 * One axis of the sub-pixel (phase) form of a strided input gradient. Output row h = s·m + a (phase a) only
 * meets the taps i ≡ a + top (mod s), reading dy[m + q_a − t]·w[r_a + s·t]: a stride-1 correlation of dy itself
 * with a sub-filter. All phases share one window of dy offsets lo..lo+size−1 from m, so one conv with s·Ci
 * output channels per axis computes them all; taps a phase lacks in that window are zero.
 */
export interface PhaseAxis {
  stride: number;
  /** Filter taps of the combined window. */
  size: number;
  /** tap[u·stride + a]: the forward filter's tap for window offset u in phase a, or −1 (a zero). */
  tap: Int32Array;
  /** dx rows per phase: ceil(inSize / stride); the interleaved result is sliced back to inSize. */
  rows: number;
  cropBefore: number;
  cropAfter: number;
  padBefore: number;
  padAfter: number;
}

export function planPhaseAxis(
  inSize: number,
  dySize: number,
  filterSize: number,
  stride: number,
  padBefore: number
): PhaseAxis {
  const phases = Array.from({ length: stride }, (_, a) => {
    const r = (a + padBefore) % stride;
    const q = Math.floor((a + padBefore) / stride);
    return { r, q, taps: r < filterSize ? Math.ceil((filterSize - r) / stride) : 0 };
  });
  const used = phases.filter((p) => p.taps > 0);
  const lo = Math.min(...used.map((p) => p.q - p.taps + 1));
  const size = Math.max(...used.map((p) => p.q)) - lo + 1;
  const tap = new Int32Array(size * stride).fill(-1);
  for (let u = 0; u < size; u++) {
    phases.forEach(({ r, q, taps }, a) => {
      const t = q - (lo + u);
      if (t >= 0 && t < taps) tap[u * stride + a] = r + stride * t;
    });
  }
  const rows = Math.ceil(inSize / stride);
  // The conv reads dy rows lo .. lo + rows + size − 2.
  const after = lo + rows + size - 1 - dySize;
  return {
    stride,
    size,
    tap,
    rows,
    cropBefore: Math.max(0, lo),
    cropAfter: Math.max(0, -after),
    padBefore: Math.max(0, -lo),
    padAfter: Math.max(0, after),
  };
}

/**
 * The phase form of dx for strides > 1: no multiply by the zeros the spread dy of inputGradByConv carries
 * (stride² of them), at the cost of a rearranged filter and an interleave of the s_h·s_w phase outputs.
 */
export function inputGradByPhases(
  chain: WasmKernelChain,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  info: ConvInfo
): tf.TensorInfo {
  const { filterHeight: kh, filterWidth: kw, inChannels: ci, outChannels: co, batchSize: n } = info;
  const rows = planPhaseAxis(info.inHeight, info.outHeight, kh, info.strideHeight, info.padInfo.top);
  const cols = planPhaseAxis(info.inWidth, info.outWidth, kw, info.strideWidth, info.padInfo.left);
  const [sh, sw] = [rows.stride, cols.stride];
  // The combined filter [Lh, Lw, Co, (a, b, ci)]: per window offset (u, v) and phase (a, b), the [Ci, Co] block
  // of W's tap transposed into place, or zeros where the phase has no tap there.
  const phaseChannels = sh * sw * ci;
  const combined = chain.allocate([rows.size, cols.size, co, phaseChannels], 'float32');
  // Allocate before taking views: growing the heap detaches every typed array over it.
  const w = chain.backend.typedArrayFromHeap(filter) as Float32Array;
  const out = chain.backend.typedArrayFromHeap(combined) as Float32Array;
  for (let u = 0; u < rows.size; u++) {
    for (let v = 0; v < cols.size; v++) {
      const base = (u * cols.size + v) * co * phaseChannels;
      for (let a = 0; a < sh; a++) {
        for (let b = 0; b < sw; b++) {
          const i = rows.tap[u * sh + a];
          const j = cols.tap[v * sw + b];
          const to = base + (a * sw + b) * ci;
          if (i < 0 || j < 0) {
            for (let o = 0; o < co; o++) out.fill(0, to + o * phaseChannels, to + o * phaseChannels + ci);
          } else {
            transposeBlock(w, (i * kw + j) * ci * co, out, to, ci, co, phaseChannels);
          }
        }
      }
    }
  }
  let source = dy;
  if (rows.cropBefore + rows.cropAfter + cols.cropBefore + cols.cropAfter > 0) {
    const size = [
      n,
      info.outHeight - rows.cropBefore - rows.cropAfter,
      info.outWidth - cols.cropBefore - cols.cropAfter,
      co,
    ];
    source = chain.run(tf.Slice, { x: dy }, { begin: [0, rows.cropBefore, cols.cropBefore, 0], size });
  }
  const pad = [
    [0, 0],
    [rows.padBefore, rows.padAfter],
    [cols.padBefore, cols.padAfter],
    [0, 0],
  ];
  const conv = chain.run(
    tf.Conv2D,
    { x: source, filter: combined },
    { strides: 1, dilations: 1, pad, dataFormat: 'NHWC' }
  );
  // [N, M, M', (a, b, ci)] → [N·M, M', a, (b, ci)] → [N·M, a, M', (b, ci)] = dx rows m·sh + a, cols m'·sw + b.
  const split = chain.run(tf.Reshape, { x: conv }, { shape: [n * rows.rows, cols.rows, sh, sw * ci] });
  const interleaved = chain.run(tf.Transpose, { x: split }, { perm: [0, 2, 1, 3] });
  const dx = chain.run(tf.Reshape, { x: interleaved }, { shape: [n, rows.rows * sh, cols.rows * sw, ci] });
  if (dx.shape[1] === info.inHeight && dx.shape[2] === info.inWidth) return dx;
  return chain.run(tf.Slice, { x: dx }, { begin: [0, 0, 0, 0], size: info.inShape });
}

/** A tfjs flag that forces one route: 'conv', 'phases' (ours) or 'wasm' (wasm's own kernel); 'auto' picks. */
export const INPUT_GRAD_ROUTE_FLAG = 'QSATTN_WASM_CONV2D_INPUT_GRAD_ROUTE';
tf.env().registerFlag(INPUT_GRAD_ROUTE_FLAG, () => 'auto');

const routes = { conv: inputGradByConv, phases: inputGradByPhases } as const;
type InputGradRoute = keyof typeof routes | 'wasm';

/** The phase form needs each phase's dy window to overlap dy; when padding hides all of dy it does not. */
function phasesFit(info: ConvInfo): boolean {
  const rows = planPhaseAxis(info.inHeight, info.outHeight, info.filterHeight, info.strideHeight, info.padInfo.top);
  const cols = planPhaseAxis(info.inWidth, info.outWidth, info.filterWidth, info.strideWidth, info.padInfo.left);
  return rows.cropBefore + rows.cropAfter < info.outHeight && cols.cropBefore + cols.cropAfter < info.outWidth;
}

/**
 * Measured with one wasm thread (bench/kernels.mjs): both routes beat wasm's own kernel on every shape (3–9×).
 * At stride 1 they run the same conv; at stride 2 the phase form is 1.6–1.8× faster than the spread dy (e.g. 10
 * vs 18 ms for 128×128, 32→64, 3×3), though its combined window still multiplies some zero taps (9 of 16
 * for 3×3, 16 of 36 for 4×4), so it reaches ~15 GFLOP/s where the forward conv does ~33.
 */
export function chooseInputGradRoute(info: ConvInfo): InputGradRoute {
  const forced = tf.env().getString(INPUT_GRAD_ROUTE_FLAG);
  if (forced === 'phases') return phasesFit(info) ? 'phases' : 'conv';
  if (forced === 'conv' || forced === 'wasm') return forced;
  if (forced !== 'auto') {
    throw new Error(`${INPUT_GRAD_ROUTE_FLAG} must be 'auto', 'conv', 'phases' or 'wasm', got '${forced}'`);
  }
  return (info.strideHeight > 1 || info.strideWidth > 1) && phasesFit(info) ? 'phases' : 'conv';
}

/** wasm's own Conv2DBackpropInput, kept when ours replaces it: the 'wasm' route, and the NCHW fallback. */
let wasmOwn: tf.KernelConfig | undefined;

const conv2DBackpropInput: tf.KernelFunc = (args) => {
  const { inputs, attrs, backend } = args;
  const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as tf.Conv2DBackpropInputAttrs;
  const filterShape = filter.shape as [number, number, number, number];
  // As the cpu backend computes it: dilations are always 1 (the kernel has no such attr).
  const info = tf.backend_util.computeConv2DInfo(
    inputShape,
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    tf.backend_util.convertConv2DDataFormat(dataFormat)
  );
  const route = dataFormat === 'NHWC' ? chooseInputGradRoute(info) : 'wasm';
  if (route === 'wasm') {
    if (wasmOwn == null) {
      throw new Error(
        dataFormat === 'NHWC'
          ? `${INPUT_GRAD_ROUTE_FLAG} is 'wasm' but wasm's own Conv2DBackpropInput was never registered`
          : `wasm Conv2DBackpropInput supports dataFormat 'NHWC' only, got '${dataFormat}'`
      );
    }
    return wasmOwn.kernelFunc(args);
  }
  return chainWasmKernels(backend as BackendWasm, (chain) => routes[route](chain, dy, filter, info));
};

/** Registered over wasm's own; its setupFunc runs wasm's, so the 'wasm' route works whenever the backend starts. */
export const conv2DBackpropInputConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropInput,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropInput,
  setupFunc: (backend) => wasmOwn?.setupFunc?.(backend),
};

/**
 * Puts ours in place of wasm's Conv2DBackpropInput and keeps wasm's as the fallback (see replaceWasmKernel). We
 * replace a kernel wasm already has because wasm 4.22's is a scalar C++ loop (1.3–3.6 GFLOP/s in
 * bench/kernels.mjs), ~10× slower than its XNNPACK forward Conv2D that ours runs on, and it is the input
 * gradient of every conv in training and the forward of every transposed conv.
 */
export function replaceWasmConv2DBackpropInput(): boolean {
  return replaceWasmKernel(conv2DBackpropInputConfig, (own) => {
    wasmOwn = own;
  });
}
