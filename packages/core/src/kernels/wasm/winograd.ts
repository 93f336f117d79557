import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { WasmKernelChain } from './kernel-chain';

// Winograd F(2×2, 3×3) (Lavin & Gray 2015) for 3×3 stride-1 convolutions on wasm. Per 2×2 output tile,
//   Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A,   d the 4×4 input window, g the 3×3 filter,
// with the channel sum inside the ⊙: for each of the 16 positions p = (k, l) of the transformed tile, one
// matrix product M_p [tiles, Co] = V_p [tiles, Ci] · U_p [Ci, Co]. That is 16·(HW/4) = 4·HW products of rows
// where the direct conv has 9·HW: 2.25× fewer multiplies, the rest (transforms) is additions.
//   U (filter), V (input) and Y (output): straight-line JS over the wasm heap, in float64, rounded once on each
//     store; U is cached per filter tensor (weights change once per training step and never while translating).
//   Products: wasm's own Conv2D with a 1×1 filter, which is XNNPACK's GEMM on wasm's thread pool.
// Against a float64 conv of the same float32 values this is more accurate than wasm's direct conv (the probe,
// bench/winograd-probe.mjs: max error 0.4–0.8 of the direct conv's), and as deterministic: every sum runs in a
// fixed order whatever the thread count.

type ConvInfo = tf.backend_util.Conv2DInfo;

/**
 * Floats per transformed position (V_p or M_p) held at once, 2 MiB: larger maps are done in bands of tile rows,
 * so the transforms of a 256² × 64→128 conv take 2 × 16 × 2 MiB of heap, not 16 × (16 + 32) MiB.
 */
export const WINOGRAD_BAND_FLAG = 'QSATTN_WASM_WINOGRAD_BAND_FLOATS';
tf.env().registerFlag(WINOGRAD_BAND_FLAG, () => 1 << 19);

/**
 * Where F(2×2, 3×3) pays, measured against wasm's direct conv (steady state): at least 32 channels each side and
 * 2²⁰ tile·channel² products. With a cached filter, one thread: 1.9–2.0× at 32–64² maps of 256 channels, 1.8× at
 * 16² × 256, 1.5× at 10² × 256 and 64² × 64, 1.4× at 64² × 32; 1.1× at 32² × 32→64 and none at 32² × 64→32 or one
 * 16² × 64 (below the bound: not worth a new filter's transform), slower at 16 channels (0.84× at 64² × 16→32) and
 * on small maps (0.2–0.5×), where its sixteen products' fixed costs dominate. A filter seen for the first time
 * (every conv of a training step) costs more: XNNPACK packs 16 1×1 filters (~4.5 ns a weight on one thread, not
 * threaded) where the direct conv packs 9 taps, which makes the 64-px generator's 16² × 256 a tie (13.1 vs
 * 13.3 ms; two threads 10.9 vs 8.7) while 32² × 256 stays 1.6× faster.
 */
export const WINOGRAD_MIN_CHANNELS = 32;
export const WINOGRAD_MIN_WORK = 1 << 20;

/** The conv route flag; in Node its default comes from the environment variable of the same name, if set. */
export const CONV2D_ROUTE_FLAG = 'QSATTN_WASM_CONV2D_ROUTE';
tf.env().registerFlag(CONV2D_ROUTE_FLAG, () => (typeof process === 'undefined' ? undefined : process.env?.[CONV2D_ROUTE_FLAG]) || 'auto');

/** Whether F(2×2, 3×3) computes a conv: 3×3, stride 1, undilated, channels last, zero padding. */
export function winogradComputes(info: ConvInfo): boolean {
  const { top, bottom, left, right } = info.padInfo;
  return (
    info.filterHeight === 3 &&
    info.filterWidth === 3 &&
    info.strideHeight === 1 &&
    info.strideWidth === 1 &&
    info.dilationHeight === 1 &&
    info.dilationWidth === 1 &&
    info.dataFormat === 'channelsLast' &&
    Math.min(top, bottom, left, right) >= 0 &&
    info.outHeight >= 1 &&
    info.outWidth >= 1
  );
}

/** Whether it computes a conv faster than wasm's direct one (WINOGRAD_MIN_CHANNELS, WINOGRAD_MIN_WORK). */
export function winogradFits(info: ConvInfo): boolean {
  const tiles = info.batchSize * Math.ceil(info.outHeight / 2) * Math.ceil(info.outWidth / 2);
  return (
    winogradComputes(info) &&
    Math.min(info.inChannels, info.outChannels) >= WINOGRAD_MIN_CHANNELS &&
    tiles * info.inChannels * info.outChannels >= WINOGRAD_MIN_WORK
  );
}

/**
 * 'winograd' or 'direct' for a conv, as CONV2D_ROUTE_FLAG says: 'auto' (where it fits), 'winograd' (wherever it
 * computes: tests), 'direct' (wasm's own everywhere).
 */
export function chooseConv2DRoute(info: ConvInfo): 'winograd' | 'direct' {
  const forced = tf.env().getString(CONV2D_ROUTE_FLAG);
  if (forced !== 'auto' && forced !== 'winograd' && forced !== 'direct') {
    throw new Error(`${CONV2D_ROUTE_FLAG} must be 'auto', 'winograd' or 'direct', got '${forced}'`);
  }
  if (forced === 'direct') return 'direct';
  if (forced === 'winograd') return winogradComputes(info) ? 'winograd' : 'direct';
  return winogradFits(info) ? 'winograd' : 'direct';
}

/** The whole heap as floats, through a view of any tensor on it (the module's own HEAP views are not typed). */
const heapOf = (backend: BackendWasm, any: tf.TensorInfo): Float32Array =>
  new Float32Array(backend.typedArrayFromHeap(any).buffer);
const offsetOf = (backend: BackendWasm, info: tf.TensorInfo): number => backend.typedArrayFromHeap(info).byteOffset >> 2;

/** Transformed filters by filter dataId, per backend (a removed backend's heap goes with it). */
const transformedFilters = new WeakMap<BackendWasm, Map<object, tf.TensorInfo[]>>();

/**
 * The backend's cache of transformed filters. Its entries are freed with their filter: the backend's disposeData
 * is wrapped (once) to free a filter's transforms when the filter's own data goes, so the cache holds nothing
 * for a filter nobody holds (and leak checks that count the backend's buffers see none of it).
 */
function filterCache(backend: BackendWasm): Map<object, tf.TensorInfo[]> {
  let cache = transformedFilters.get(backend);
  if (cache != null) return cache;
  const entries = new Map<object, tf.TensorInfo[]>();
  const dispose = backend.disposeData.bind(backend);
  backend.disposeData = (dataId: object, force?: boolean): boolean => {
    const done = dispose(dataId, force);
    const u = entries.get(dataId);
    if (u != null && !backend.dataIdMap.has(dataId)) {
      entries.delete(dataId);
      for (const info of u) dispose(info.dataId, true);
    }
    return done;
  };
  transformedFilters.set(backend, entries);
  return entries;
}

/** Frees every transformed filter cached on the current wasm backend (they are freed with their filter anyway). */
export function releaseWinogradFilters(): void {
  if (tf.getBackend() !== 'wasm') return;
  const backend = tf.backend() as BackendWasm;
  const cache = transformedFilters.get(backend);
  if (cache == null) return;
  for (const u of cache.values()) for (const info of u) backend.disposeData(info.dataId);
  cache.clear();
}

/** How many transformed filters are cached on the current wasm backend (tests, diagnostics). */
export function cachedWinogradFilters(): number {
  if (tf.getBackend() !== 'wasm') return 0;
  return transformedFilters.get(tf.backend() as BackendWasm)?.size ?? 0;
}

/**
 * Allocates 16 tensors of `shape` into `made` (where the caller frees them, even if an allocation fails part way)
 * and writes their heap offsets into `offsets`.
 */
function allocate16(backend: BackendWasm, shape: number[], made: tf.TensorInfo[], offsets: Int32Array): void {
  for (let p = 0; p < 16; p++) made.push(backend.makeOutput(shape, 'float32'));
  // Offsets after allocating all: growing the heap detaches every view over it (offsets stay valid).
  made.forEach((info, p) => (offsets[p] = offsetOf(backend, info)));
}

const free = (backend: BackendWasm, infos: tf.TensorInfo[]): void => {
  for (const info of infos.splice(0)) backend.disposeData(info.dataId);
};

/**
 * U_p[e] = (G g_e Gᵀ)_p for every (ci, co) pair e, g_e the 3×3 taps of the HWIO filter at `g` (taps `size` apart),
 * into the 16 arrays at `u`. G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1].
 */
function filterTransformInto(h: Float32Array, g: number, size: number, u: Int32Array): void {
  const [u0, u1, u2, u3, u4, u5, u6, u7, u8, u9, u10, u11, u12, u13, u14, u15] = u;
  for (let e = 0; e < size; e++) {
    const a = g + e;
    const g00 = h[a], g01 = h[a + size], g02 = h[a + 2 * size];
    const g10 = h[a + 3 * size], g11 = h[a + 4 * size], g12 = h[a + 5 * size];
    const g20 = h[a + 6 * size], g21 = h[a + 7 * size], g22 = h[a + 8 * size];
    // Down the columns: t = G g (4×3).
    const t10 = 0.5 * (g00 + g10 + g20), t11 = 0.5 * (g01 + g11 + g21), t12 = 0.5 * (g02 + g12 + g22);
    const t20 = 0.5 * (g00 - g10 + g20), t21 = 0.5 * (g01 - g11 + g21), t22 = 0.5 * (g02 - g12 + g22);
    // Along the rows: U = t Gᵀ, row k from t's row k (t0 = g's first row, t3 = its last).
    h[u0 + e] = g00;
    h[u1 + e] = 0.5 * (g00 + g01 + g02);
    h[u2 + e] = 0.5 * (g00 - g01 + g02);
    h[u3 + e] = g02;
    h[u4 + e] = t10;
    h[u5 + e] = 0.5 * (t10 + t11 + t12);
    h[u6 + e] = 0.5 * (t10 - t11 + t12);
    h[u7 + e] = t12;
    h[u8 + e] = t20;
    h[u9 + e] = 0.5 * (t20 + t21 + t22);
    h[u10 + e] = 0.5 * (t20 - t21 + t22);
    h[u11 + e] = t22;
    h[u12 + e] = g20;
    h[u13 + e] = 0.5 * (g20 + g21 + g22);
    h[u14 + e] = 0.5 * (g20 - g21 + g22);
    h[u15 + e] = g22;
  }
}

/** U_p = (G g Gᵀ)_p as 16 tensors [1, 1, Ci, Co] of their own (each a 1×1 filter), cached per filter. */
function transformFilter(backend: BackendWasm, filter: tf.TensorInfo): tf.TensorInfo[] {
  const cache = filterCache(backend);
  const cached = cache.get(filter.dataId);
  if (cached != null) return cached;
  const [, , ci, co] = filter.shape;
  const offsets = new Int32Array(16);
  const u: tf.TensorInfo[] = [];
  try {
    allocate16(backend, [1, 1, ci, co], u, offsets);
  } catch (err) {
    free(backend, u);
    throw err;
  }
  filterTransformInto(heapOf(backend, filter), offsetOf(backend, filter), ci * co, offsets);
  cache.set(filter.dataId, u);
  return u;
}

/**
 * V_p[t·C + c] = (Bᵀ d B)_p for the tiles t of tile rows r0 ≤ r < r1 (r = n·tilesY + ty over the batch), d the 4×4
 * window at (2·ty, 2·tx) of image n of the padded input at `x` (NHWC, rows of `row` floats, images of `image`).
 * Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1].
 */
function inputTransform(
  h: Float32Array,
  x: number,
  row: number,
  image: number,
  c: number,
  tilesY: number,
  tilesX: number,
  r0: number,
  r1: number,
  v: Int32Array
): void {
  const [v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13, v14, v15] = v;
  let o = 0;
  for (let r = r0; r < r1; r++) {
    const n = Math.floor(r / tilesY);
    const ty = r - n * tilesY;
    const rowBase = x + n * image + 2 * ty * row;
    for (let tx = 0; tx < tilesX; tx++, o += c) {
      const a0 = rowBase + 2 * tx * c;
      const a1 = a0 + row;
      const a2 = a1 + row;
      const a3 = a2 + row;
      for (let k = 0; k < c; k++) {
        const d00 = h[a0 + k], d01 = h[a0 + c + k], d02 = h[a0 + 2 * c + k], d03 = h[a0 + 3 * c + k];
        const d10 = h[a1 + k], d11 = h[a1 + c + k], d12 = h[a1 + 2 * c + k], d13 = h[a1 + 3 * c + k];
        const d20 = h[a2 + k], d21 = h[a2 + c + k], d22 = h[a2 + 2 * c + k], d23 = h[a2 + 3 * c + k];
        const d30 = h[a3 + k], d31 = h[a3 + c + k], d32 = h[a3 + 2 * c + k], d33 = h[a3 + 3 * c + k];
        // Down the columns: t = Bᵀ d.
        const t00 = d00 - d20, t01 = d01 - d21, t02 = d02 - d22, t03 = d03 - d23;
        const t10 = d10 + d20, t11 = d11 + d21, t12 = d12 + d22, t13 = d13 + d23;
        const t20 = d20 - d10, t21 = d21 - d11, t22 = d22 - d12, t23 = d23 - d13;
        const t30 = d10 - d30, t31 = d11 - d31, t32 = d12 - d32, t33 = d13 - d33;
        // Along the rows: v = t B.
        const i = o + k;
        h[v0 + i] = t00 - t02;
        h[v1 + i] = t01 + t02;
        h[v2 + i] = t02 - t01;
        h[v3 + i] = t01 - t03;
        h[v4 + i] = t10 - t12;
        h[v5 + i] = t11 + t12;
        h[v6 + i] = t12 - t11;
        h[v7 + i] = t11 - t13;
        h[v8 + i] = t20 - t22;
        h[v9 + i] = t21 + t22;
        h[v10 + i] = t22 - t21;
        h[v11 + i] = t21 - t23;
        h[v12 + i] = t30 - t32;
        h[v13 + i] = t31 + t32;
        h[v14 + i] = t32 - t31;
        h[v15 + i] = t31 - t33;
      }
    }
  }
}

/**
 * y[n, 2·ty + a, 2·tx + b, :] = (Aᵀ M A)_ab for the tiles of tile rows r0 ≤ r < r1, skipping the row and column
 * an odd output size leaves outside. Aᵀ = [1 1 1 0; 0 1 −1 −1].
 */
function outputTransform(
  h: Float32Array,
  m: Int32Array,
  co: number,
  tilesY: number,
  tilesX: number,
  r0: number,
  r1: number,
  y: number,
  outHeight: number,
  outWidth: number
): void {
  const [m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m13, m14, m15] = m;
  const row = outWidth * co;
  let o = 0;
  for (let r = r0; r < r1; r++) {
    const n = Math.floor(r / tilesY);
    const ty = r - n * tilesY;
    const lower = 2 * ty + 1 < outHeight;
    for (let tx = 0; tx < tilesX; tx++, o += co) {
      const y0 = y + ((n * outHeight + 2 * ty) * outWidth + 2 * tx) * co;
      const right = 2 * tx + 1 < outWidth;
      for (let k = 0; k < co; k++) {
        const i = o + k;
        const q00 = h[m0 + i], q01 = h[m1 + i], q02 = h[m2 + i], q03 = h[m3 + i];
        const q10 = h[m4 + i], q11 = h[m5 + i], q12 = h[m6 + i], q13 = h[m7 + i];
        const q20 = h[m8 + i], q21 = h[m9 + i], q22 = h[m10 + i], q23 = h[m11 + i];
        const q30 = h[m12 + i], q31 = h[m13 + i], q32 = h[m14 + i], q33 = h[m15 + i];
        // Down the columns: s = Aᵀ M.
        const s00 = q00 + q10 + q20, s01 = q01 + q11 + q21, s02 = q02 + q12 + q22, s03 = q03 + q13 + q23;
        const s10 = q10 - q20 - q30, s11 = q11 - q21 - q31, s12 = q12 - q22 - q32, s13 = q13 - q23 - q33;
        // Along the rows: y = s A.
        h[y0 + k] = s00 + s01 + s02;
        if (right) h[y0 + co + k] = s01 - s02 - s03;
        if (lower) {
          h[y0 + row + k] = s10 + s11 + s12;
          if (right) h[y0 + row + co + k] = s11 - s12 - s13;
        }
      }
    }
  }
}

/** The input zero padded into whole 4×4-window tiles, and how its tiles fall into bands of tile rows. */
interface Tiling {
  padded: tf.TensorInfo;
  tilesY: number;
  tilesX: number;
  /** Floats per padded row and image. */
  row: number;
  image: number;
  /** Tile rows over the whole batch, and per band. */
  tileRows: number;
  band: number;
}

/**
 * Pads x where the conv pads, and by one more row or column of zeros where the output size is odd, so that
 * ceil(out/2) tiles of 2×2 outputs, each reading a 4×4 window, cover it.
 */
function tile(chain: WasmKernelChain, x: tf.TensorInfo, info: ConvInfo): Tiling {
  const { batchSize, inChannels: c, outChannels: co, outHeight, outWidth } = info;
  const { top, bottom, left, right } = info.padInfo;
  const tilesY = (outHeight + 1) >> 1;
  const tilesX = (outWidth + 1) >> 1;
  const paddings = [
    [0, 0],
    [top, bottom + (outHeight & 1)],
    [left, right + (outWidth & 1)],
    [0, 0],
  ];
  const padded = paddings.some(([before, after]) => before > 0 || after > 0)
    ? chain.run(tf.PadV2, { x }, { paddings, constantValue: 0 })
    : x;
  const [, paddedHeight, paddedWidth] = padded.shape;
  if (paddedHeight !== 2 * tilesY + 2 || paddedWidth !== 2 * tilesX + 2) {
    throw new Error(`Winograd conv: padded input ${paddedHeight}×${paddedWidth} does not fit ${tilesY}×${tilesX} tiles`);
  }
  const band = Math.max(1, Math.floor(tf.env().getNumber(WINOGRAD_BAND_FLAG) / (tilesX * Math.max(c, co))));
  const row = paddedWidth * c;
  return { padded, tilesY, tilesX, row, image: paddedHeight * row, tileRows: batchSize * tilesY, band };
}

/**
 * The conv `info` describes (winogradFits) by F(2×2, 3×3), its products run by `product` (wasm's own Conv2D:
 * V_p [1, 1, tiles, Ci] through the 1×1 filter U_p).
 */
export function conv2dByWinograd(
  chain: WasmKernelChain,
  x: tf.TensorInfo,
  filter: tf.TensorInfo,
  info: ConvInfo,
  product: (v: tf.TensorInfo, u: tf.TensorInfo) => tf.TensorInfo
): tf.TensorInfo {
  const backend = chain.backend;
  const { batchSize, inChannels: c, outChannels: co, outHeight, outWidth } = info;
  const t = tile(chain, x, info);
  const u = transformFilter(backend, filter);
  const y = chain.allocate([batchSize, outHeight, outWidth, co], 'float32');
  const offsets = new Int32Array(16);
  for (let r0 = 0; r0 < t.tileRows; r0 += t.band) {
    const r1 = Math.min(t.tileRows, r0 + t.band);
    const tiles = (r1 - r0) * t.tilesX;
    const v: tf.TensorInfo[] = [];
    const m: tf.TensorInfo[] = [];
    try {
      allocate16(backend, [1, 1, tiles, c], v, offsets);
      inputTransform(heapOf(backend, t.padded), offsetOf(backend, t.padded), t.row, t.image, c, t.tilesY, t.tilesX, r0, r1, offsets);
      for (let p = 0; p < 16; p++) m.push(product(v[p], u[p]));
      free(backend, v);
      m.forEach((info, p) => (offsets[p] = offsetOf(backend, info)));
      outputTransform(heapOf(backend, y), offsets, co, t.tilesY, t.tilesX, r0, r1, offsetOf(backend, y), outHeight, outWidth);
    } finally {
      free(backend, v);
      free(backend, m);
    }
  }
  return y;
}
