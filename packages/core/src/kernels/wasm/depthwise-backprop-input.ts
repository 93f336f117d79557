import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { chainWasmKernels, type WasmKernelChain } from './kernel-chain';
import { explicitPad, planInputGrad, spreadByStride } from './transposed-conv';

type ConvInfo = tf.backend_util.Conv2DInfo;

/**
 * dx[n,h,w,c] = Σ_{i,j,q} dyUp[n, h + top − i·dh, w + left − j·dw, c·m+q] · f[i,j,c,q], where dyUp is dy with
 * stride−1 zeros between its pixels: a forward depthwise conv of dyUp with the spatially flipped filter, then a
 * sum over the m multiplier channels. The zeros waste stride² of the multiplies, but keep the whole kernel in
 * wasm's depthwise conv. Unlike the cpu backend, which ignores them, dilations are honoured.
 */
export function depthwiseInputGradBySpread(
  chain: WasmKernelChain,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  info: ConvInfo
): tf.TensorInfo {
  const [filterHeight, filterWidth, channels, multiplier] = filter.shape;
  const { rows, cols } = planInputGrad(info);
  const spread = spreadByStride(chain, dy, info.strideHeight, info.strideWidth, rows, cols);
  const flipped = chain.run(tf.Reverse, { x: filter }, { dims: [0, 1] });
  const perChannel = chain.run(tf.Reshape, { x: flipped }, { shape: [filterHeight, filterWidth, info.outChannels, 1] });
  const conv = chain.run(
    tf.DepthwiseConv2dNative,
    { x: spread, filter: perChannel },
    { strides: 1, dilations: [info.dilationHeight, info.dilationWidth], pad: explicitPad(rows, cols) }
  );
  if (multiplier === 1) return conv;
  const grouped = chain.run(tf.Reshape, { x: conv }, { shape: [...info.inShape.slice(0, 3), channels, multiplier] });
  return chain.run(tf.Sum, { x: grouped }, { axis: 4, keepDims: false });
}

/**
 * One phase of one axis of a strided input gradient: dx rows h = s·r + phase (r < rows) meet only the taps
 * i ≡ phase + padBefore (mod s), and read dx[s·r + phase] = Σ_u dy[r + offset + u] · f[taps[u]] (u < taps.length):
 * a stride-1 correlation of dy with a sub-filter, no zeros multiplied.
 */
export interface DepthwisePhase {
  phase: number;
  rows: number;
  /** Filter taps in correlation order (the flipped, strided sub-filter); empty when no tap reaches the phase. */
  taps: number[];
  /** The first dy row read (negative: zero padding before dy). */
  offset: number;
}

export function planDepthwisePhases(inSize: number, filterSize: number, stride: number, padBefore: number): DepthwisePhase[] {
  const phases: DepthwisePhase[] = [];
  for (let phase = 0; phase < Math.min(stride, inSize); phase++) {
    const first = (phase + padBefore) % stride;
    const shift = Math.floor((phase + padBefore) / stride);
    const count = first < filterSize ? Math.ceil((filterSize - first) / stride) : 0;
    // Tap first + s·t meets dy row r + shift − t; in correlation order u = count − 1 − t.
    const taps = Array.from({ length: count }, (_, u) => first + stride * (count - 1 - u));
    phases.push({ phase, rows: Math.ceil((inSize - phase) / stride), taps, offset: shift - count + 1 });
  }
  return phases;
}

/** The sub-filter [taps_h, taps_w, C·m, 1] of one phase pair, gathered from f [kh, kw, C, m] on the heap. */
function subFilter(chain: WasmKernelChain, filter: tf.TensorInfo, rowTaps: number[], colTaps: number[]): tf.TensorInfo {
  const [, kw, channels, multiplier] = filter.shape;
  const depth = channels * multiplier;
  const out = chain.allocate([rowTaps.length, colTaps.length, depth, 1], 'float32');
  // Allocate before taking views: growing the heap detaches every typed array over it.
  const src = chain.backend.typedArrayFromHeap(filter) as Float32Array;
  const dst = chain.backend.typedArrayFromHeap(out) as Float32Array;
  rowTaps.forEach((i, u) => {
    colTaps.forEach((j, v) => dst.set(src.subarray((i * kw + j) * depth, (i * kw + j + 1) * depth), (u * colTaps.length + v) * depth));
  });
  return out;
}

/**
 * The correlation of one phase pair: dy cropped or zero-padded to the rows and columns it reads, through the
 * phase's sub-filter → [N, rows, cols, C·m].
 */
function phaseConv(
  chain: WasmKernelChain,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  rowPhase: DepthwisePhase,
  colPhase: DepthwisePhase
): tf.TensorInfo {
  const [batch, dyHeight, dyWidth, depth] = dy.shape;
  const window = (p: DepthwisePhase, size: number) => {
    const end = p.offset + p.rows + p.taps.length - 1;
    const begin = Math.max(0, p.offset);
    return { begin, size: Math.min(size, end) - begin, before: Math.max(0, -p.offset), after: Math.max(0, end - size) };
  };
  const rows = window(rowPhase, dyHeight);
  const cols = window(colPhase, dyWidth);
  const cropped =
    rows.begin === 0 && cols.begin === 0 && rows.size === dyHeight && cols.size === dyWidth
      ? dy
      : chain.run(tf.Slice, { x: dy }, { begin: [0, rows.begin, cols.begin, 0], size: [batch, rows.size, cols.size, depth] });
  const pad: tf.backend_util.ExplicitPadding = [
    [0, 0],
    [rows.before, rows.after],
    [cols.before, cols.after],
    [0, 0],
  ];
  return chain.run(
    tf.DepthwiseConv2dNative,
    { x: cropped, filter: subFilter(chain, filter, rowPhase.taps, colPhase.taps) },
    { strides: 1, dilations: 1, pad }
  );
}

/**
 * The phase (sub-pixel) form of dx for strides > 1: per pair of row and column phases, one stride-1 depthwise
 * conv of dy itself with the taps that reach it (planDepthwisePhases), written into its rows and columns of dx
 * and summed over the multiplier. It multiplies none of the stride² zeros of depthwiseInputGradBySpread.
 * Phases that no tap reaches (stride > filter), or whose dy window lies wholly outside dy, stay zero.
 */
export function depthwiseInputGradByPhases(
  chain: WasmKernelChain,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  info: ConvInfo
): tf.TensorInfo {
  const [, , channels, multiplier] = filter.shape;
  const { batchSize: batch, inHeight, inWidth, strideHeight, strideWidth } = info;
  const rowPhases = planDepthwisePhases(inHeight, info.filterHeight, strideHeight, info.padInfo.top);
  const colPhases = planDepthwisePhases(inWidth, info.filterWidth, strideWidth, info.padInfo.left);
  const reaches = (p: DepthwisePhase, dySize: number) =>
    p.taps.length > 0 && p.offset + p.rows + p.taps.length - 1 > 0 && p.offset < dySize;
  const parts: { rowPhase: DepthwisePhase; colPhase: DepthwisePhase; conv: tf.TensorInfo }[] = [];
  for (const rowPhase of rowPhases) {
    if (!reaches(rowPhase, info.outHeight)) continue;
    for (const colPhase of colPhases) {
      if (!reaches(colPhase, info.outWidth)) continue;
      parts.push({ rowPhase, colPhase, conv: phaseConv(chain, dy, filter, rowPhase, colPhase) });
    }
  }
  const dx = chain.allocate(info.inShape, 'float32');
  // Allocate before taking views: growing the heap detaches every typed array over it.
  const out = chain.backend.typedArrayFromHeap(dx) as Float32Array;
  if (parts.length < rowPhases.length * colPhases.length) out.fill(0);
  const depth = channels * multiplier;
  for (const { rowPhase, colPhase, conv } of parts) {
    const src = chain.backend.typedArrayFromHeap(conv) as Float32Array;
    for (let n = 0; n < batch; n++) {
      for (let r = 0; r < rowPhase.rows; r++) {
        const h = r * strideHeight + rowPhase.phase;
        let from = ((n * rowPhase.rows + r) * colPhase.rows) * depth;
        for (let c = 0; c < colPhase.rows; c++, from += depth) {
          const to = ((n * inHeight + h) * inWidth + c * strideWidth + colPhase.phase) * channels;
          if (multiplier === 1) {
            for (let k = 0; k < channels; k++) out[to + k] = src[from + k];
          } else {
            for (let k = 0; k < channels; k++) {
              let sum = 0;
              for (let q = 0; q < multiplier; q++) sum += src[from + k * multiplier + q];
              out[to + k] = sum;
            }
          }
        }
      }
    }
  }
  return dx;
}

/** A tfjs flag that forces one route ('spread' or 'phases'); 'auto', the default, picks by shape. */
export const DEPTHWISE_INPUT_GRAD_ROUTE_FLAG = 'QSATTN_WASM_DEPTHWISE_INPUT_GRAD_ROUTE';
tf.env().registerFlag(DEPTHWISE_INPUT_GRAD_ROUTE_FLAG, () => 'auto');

const routes = { spread: depthwiseInputGradBySpread, phases: depthwiseInputGradByPhases } as const;
type DepthwiseInputGradRoute = keyof typeof routes;

/**
 * Phases where there is a stride, no dilation (the phase plan assumes consecutive taps), and every phase of a
 * strided axis has two taps or more. Measured with one wasm thread (bench/kernels.mjs): the Upsample's 4×4
 * stride-2 transposed conv 0.51 vs 0.92 ms (2×18×18×64 dy) and 1.54 vs 2.23 ms (2×34×34×32 dy); but with 3×3 at
 * stride 2 the phases are 2 and 1 taps wide, and four small convs plus the interleave into dx (1.3–1.7 ms for
 * 2×32×32×32 dy) lose to one conv of the spread dy (0.75–1.2 ms). Stride 1 has one phase, the spread form itself.
 */
export function chooseDepthwiseInputGradRoute(info: ConvInfo): DepthwiseInputGradRoute {
  const dilated = info.dilationHeight > 1 || info.dilationWidth > 1;
  const forced = tf.env().getString(DEPTHWISE_INPUT_GRAD_ROUTE_FLAG);
  if (forced === 'spread') return 'spread';
  if (forced === 'phases') return dilated ? 'spread' : 'phases';
  if (forced !== 'auto') {
    throw new Error(`${DEPTHWISE_INPUT_GRAD_ROUTE_FLAG} must be 'auto', 'spread' or 'phases', got '${forced}'`);
  }
  const wide = (filterSize: number, stride: number) => stride === 1 || filterSize >= 2 * stride;
  const strided = info.strideHeight > 1 || info.strideWidth > 1;
  const phasesWide = wide(info.filterHeight, info.strideHeight) && wide(info.filterWidth, info.strideWidth);
  return strided && !dilated && phasesWide ? 'phases' : 'spread';
}

const depthwiseConv2dNativeBackpropInput: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const { strides, dilations, pad, dimRoundingMode, inputShape } =
    attrs as unknown as tf.DepthwiseConv2dNativeBackpropInputAttrs;
  const filterShape = filter.shape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(
    inputShape,
    filterShape,
    strides,
    dilations,
    pad,
    dimRoundingMode,
    true
  );
  const route = routes[chooseDepthwiseInputGradRoute(info)];
  return chainWasmKernels(backend as BackendWasm, (chain) => route(chain, dy, filter, info));
};

export const depthwiseConv2dNativeBackpropInputConfig: tf.KernelConfig = {
  kernelName: tf.DepthwiseConv2dNativeBackpropInput,
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dNativeBackpropInput,
};
