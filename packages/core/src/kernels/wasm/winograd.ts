import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { WasmKernelChain } from './kernel-chain';

// Winograd F(m×m, 3×3) (Lavin & Gray 2015) for 3×3 stride-1 convolutions on wasm, m = 2 or 4. Per m×m output tile,
//   Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A,   d the (m+2)×(m+2) input window, g the 3×3 filter,
// with the channel sum inside the ⊙: for each of the (m+2)² positions p of the transformed tile, one matrix
// product M_p [tiles, Co] = V_p [tiles, Ci] · U_p [Ci, Co]. F(2×2, 3×3): 16·(HW/4) = 4·HW products of rows where
// the direct conv has 9·HW (2.25× fewer multiplies); F(4×4, 3×3): 36·(HW/16) = 2.25·HW (4× fewer), with larger
// transform coefficients (points 0, ±1, ±2 against 0, ±1), so about ten times F(2,3)'s rounding error.
//   U (filter), V (input) and Y (output): straight-line JS over the wasm heap, in float64, rounded once on each
//     store; U is cached per filter tensor (weights change once per training step and never while translating).
//   Products: wasm's own Conv2D with a 1×1 filter, which is XNNPACK's GEMM on wasm's thread pool.
// Against a float64 conv of the same float32 values, F(2,3) is more accurate than wasm's direct conv (the probe,
// bench/winograd-probe.mjs: max error 0.4–0.8 of the direct conv's) and F(4,3) about eight times less accurate (up to
// 1.4e-5 of the output's largest value): `auto` keeps it to forwards that take no gradient (chooseConv2DRoute).
// Both are as deterministic: every sum runs in a fixed order whatever the thread count.

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
 * Where F(4×4, 3×3) pays over F(2×2, 3×3) (where that fits), in tiles of 4×4 outputs over the batch, measured one
 * thread and two: with a filter already transformed, from 32² outputs (64 tiles: 256 channels 13.9 against 20.6 ms
 * one thread, 8.6 against 11.6 two; a tie at 16²); with a new filter, whose 36 1×1 filters XNNPACK packs on one
 * thread (~2.4 M weights at 256 channels, ~11 ms more than F(2,3)'s 16), from 256 tiles per thread (64² × 256: 70
 * against 95 ms one thread; two threads tie there, and F(4,3) gains from 128² on: 143 against 154 ms at 256² × 64→128).
 */
export const WINOGRAD4_MIN_TILES_SEEN = 64;
export const WINOGRAD4_MIN_TILES_NEW_PER_THREAD = 256;

/** The routes of a conv: F(2×2, 3×3), F(4×4, 3×3), or wasm's own direct conv. */
export type Conv2DRoute = 'winograd' | 'winograd4' | 'direct';

/**
 * The route of a conv, as CONV2D_ROUTE_FLAG says: 'auto' (Winograd where it fits; F(4,3) only where no gradient is
 * being taken — `training` — and it pays for a filter `seen` before or not, on `threads` threads), 'winograd' or
 * 'winograd4' (F(2,3) or F(4,3) wherever it computes: tests), 'direct' (wasm's own everywhere).
 *
 * Why F(4,3) stays out of training: its float32 error is ~10× F(2,3)'s (its transforms' entries reach 8 and 1/24),
 * so in a training step far more rectifier inputs near 0 land on the other side of their kink than the official
 * float32 step's own rounding moves, and gradients drift out of SPEC's tolerance (on an ngf-64 recording, typically
 * 7× and up to 70× the official step's distance from float64, against 1× with F(2,3)). A forward for translation
 * only needs its outputs, and those stay within 1e-5 of the direct conv's.
 */
export function chooseConv2DRoute(info: ConvInfo, seen = false, threads = 1, training = takingGradient()): Conv2DRoute {
  const forced = tf.env().getString(CONV2D_ROUTE_FLAG);
  if (forced !== 'auto' && forced !== 'winograd' && forced !== 'winograd4' && forced !== 'direct') {
    throw new Error(`${CONV2D_ROUTE_FLAG} must be 'auto', 'winograd', 'winograd4' or 'direct', got '${forced}'`);
  }
  if (forced === 'direct') return 'direct';
  if (forced !== 'auto') return winogradComputes(info) ? forced : 'direct';
  if (!winogradFits(info)) return 'direct';
  if (training) return 'winograd';
  const tiles4 = info.batchSize * Math.ceil(info.outHeight / 4) * Math.ceil(info.outWidth / 4);
  const bound = seen ? WINOGRAD4_MIN_TILES_SEEN : WINOGRAD4_MIN_TILES_NEW_PER_THREAD * Math.max(1, threads);
  return tiles4 >= bound ? 'winograd4' : 'winograd';
}

/**
 * Whether the op being run is part of a gradient computation: recorded on a tape (tfjs's own `grads`, or the lean
 * gradients of cut-model, both start one), or run by a backward pass (both run it in a scope named 'backward').
 */
export function takingGradient(): boolean {
  const { state } = tf.engine() as unknown as { state: { gradientDepth: number; scopeStack: { name: string }[] } };
  return state.gradientDepth > 0 || state.scopeStack.some((scope) => scope.name === 'backward');
}

/** The whole heap as floats, through a view of any tensor on it (the module's own HEAP views are not typed). */
const heapOf = (backend: BackendWasm, any: tf.TensorInfo): Float32Array =>
  new Float32Array(backend.typedArrayFromHeap(any).buffer);
const offsetOf = (backend: BackendWasm, info: tf.TensorInfo): number => backend.typedArrayFromHeap(info).byteOffset >> 2;

/** A filter's one cached transform: for tile size m, its (m+2)² 1×1 filters. */
interface FilterTransform {
  m: 2 | 4;
  u: tf.TensorInfo[];
}

/** Transformed filters by filter dataId, per backend (a removed backend's heap goes with it). */
const transformedFilters = new WeakMap<BackendWasm, Map<object, FilterTransform>>();

/**
 * The backend's cache of transformed filters. Its entries are freed with their filter: the backend's disposeData
 * is wrapped (once) to free a filter's transforms when the filter's own data goes, so the cache holds nothing
 * for a filter nobody holds (and leak checks that count the backend's buffers see none of it).
 */
function filterCache(backend: BackendWasm): Map<object, FilterTransform> {
  let cache = transformedFilters.get(backend);
  if (cache != null) return cache;
  const entries = new Map<object, FilterTransform>();
  const dispose = backend.disposeData.bind(backend);
  backend.disposeData = (dataId: object, force?: boolean): boolean => {
    const done = dispose(dataId, force);
    const cached = entries.get(dataId);
    if (cached != null && !backend.dataIdMap.has(dataId)) {
      entries.delete(dataId);
      for (const info of cached.u) dispose(info.dataId, true);
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
  for (const { u } of cache.values()) for (const info of u) backend.disposeData(info.dataId);
  cache.clear();
}

/** How many transformed filters (one per filter) are cached on the current wasm backend (tests). */
export function cachedWinogradFilters(): number {
  if (tf.getBackend() !== 'wasm') return 0;
  return transformedFilters.get(tf.backend() as BackendWasm)?.size ?? 0;
}

/** Whether a filter has a Winograd transform cached on `backend` (it has been used before, and is held). */
export function winogradFilterSeen(backend: BackendWasm, filter: tf.TensorInfo): boolean {
  return transformedFilters.get(backend)?.has(filter.dataId) ?? false;
}

/** The threads of a wasm backend's pool (1 for the single-threaded build). */
export function wasmPoolThreads(backend: BackendWasm): number {
  const tfjs = (backend.wasm as unknown as { tfjs?: { getThreadsCount?: () => number } }).tfjs;
  return tfjs?.getThreadsCount?.() ?? 1;
}

/**
 * Allocates one tensor of `shape` per offset into `made` (where the caller frees them, even if an allocation fails
 * part way) and writes their heap offsets into `offsets`.
 */
function allocateEach(backend: BackendWasm, shape: number[], made: tf.TensorInfo[], offsets: Int32Array): void {
  for (let p = 0; p < offsets.length; p++) made.push(backend.makeOutput(shape, 'float32'));
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
function filterTransform2(h: Float32Array, g: number, size: number, u: Int32Array): void {
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

/** U_p = (G g Gᵀ)_p as (m+2)² tensors [1, 1, Ci, Co] of their own (each a 1×1 filter), cached per filter. */
function transformFilter(backend: BackendWasm, filter: tf.TensorInfo, variant: Variant): tf.TensorInfo[] {
  const cache = filterCache(backend);
  const cached = cache.get(filter.dataId);
  if (cached?.m === variant.m) return cached.u;
  const [, , ci, co] = filter.shape;
  const offsets = new Int32Array(variant.positions);
  const u: tf.TensorInfo[] = [];
  try {
    allocateEach(backend, [1, 1, ci, co], u, offsets);
  } catch (err) {
    free(backend, u);
    throw err;
  }
  variant.filterTransform(heapOf(backend, filter), offsetOf(backend, filter), ci * co, offsets);
  // One transform per filter: a filter moving to F(4,3) (its second use) gives its F(2,3) one back.
  if (cached != null) free(backend, cached.u);
  cache.set(filter.dataId, { m: variant.m, u });
  return u;
}

/**
 * V_p[t·C + c] = (Bᵀ d B)_p for the tiles t of tile rows r0 ≤ r < r1 (r = n·tilesY + ty over the batch), d the 4×4
 * window at (2·ty, 2·tx) of image n of the padded input at `x` (NHWC, rows of `row` floats, images of `image`).
 * Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1].
 */
function inputTransform2(
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
function outputTransform2(
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

// F(4×4, 3×3): Bᵀ, G and Aᵀ from points 0, ±1, ±2 (Lavin & Gray 2015):
//   Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1],
//   G = [¼ 0 0; −⅙ −⅙ −⅙; −⅙ ⅙ −⅙; 1⁄24 1⁄12 ⅙; 1⁄24 −1⁄12 ⅙; 0 0 1],
//   Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1].
// Each is written out in straight lines (generated: 36 values per channel), with 24·G's integer coefficients and one
// scale by 1/576 for the filter, so every intermediate is a float64 sum of a few float32 values and small integers.

/** 1/24² — U = (24 G) g (24 G)ᵀ / 576. */
const S = 1 / 576;

/** U_p[e] = (G g_e Gᵀ)_p for every (ci, co) pair e, as filterTransform2, into the 36 arrays at `u`. */
function filterTransform4(h: Float32Array, g: number, size: number, u: Int32Array): void {
  const [u0, u1, u2, u3, u4, u5, u6, u7, u8, u9, u10, u11, u12, u13, u14, u15, u16, u17, u18, u19, u20, u21, u22, u23, u24, u25, u26, u27, u28, u29, u30, u31, u32, u33, u34, u35] = u;
  for (let e = 0; e < size; e++) {
    const a = g + e;
    // Down the columns, t = (24 G) g (6×3); along the rows, U = t (24 G)ᵀ / 576.
    const g00 = h[a], g10 = h[a + 3 * size], g20 = h[a + 6 * size];
    const t00 = 6 * g00, t10 = -4 * g00 - 4 * g10 - 4 * g20, t20 = -4 * g00 + 4 * g10 - 4 * g20, t30 = g00 + 2 * g10 + 4 * g20, t40 = g00 - 2 * g10 + 4 * g20, t50 = 24 * g20;
    const g01 = h[a + size], g11 = h[a + 4 * size], g21 = h[a + 7 * size];
    const t01 = 6 * g01, t11 = -4 * g01 - 4 * g11 - 4 * g21, t21 = -4 * g01 + 4 * g11 - 4 * g21, t31 = g01 + 2 * g11 + 4 * g21, t41 = g01 - 2 * g11 + 4 * g21, t51 = 24 * g21;
    const g02 = h[a + 2 * size], g12 = h[a + 5 * size], g22 = h[a + 8 * size];
    const t02 = 6 * g02, t12 = -4 * g02 - 4 * g12 - 4 * g22, t22 = -4 * g02 + 4 * g12 - 4 * g22, t32 = g02 + 2 * g12 + 4 * g22, t42 = g02 - 2 * g12 + 4 * g22, t52 = 24 * g22;
    h[u0 + e] = (6 * t00) * S;
    h[u1 + e] = (-4 * t00 - 4 * t01 - 4 * t02) * S;
    h[u2 + e] = (-4 * t00 + 4 * t01 - 4 * t02) * S;
    h[u3 + e] = (t00 + 2 * t01 + 4 * t02) * S;
    h[u4 + e] = (t00 - 2 * t01 + 4 * t02) * S;
    h[u5 + e] = (24 * t02) * S;
    h[u6 + e] = (6 * t10) * S;
    h[u7 + e] = (-4 * t10 - 4 * t11 - 4 * t12) * S;
    h[u8 + e] = (-4 * t10 + 4 * t11 - 4 * t12) * S;
    h[u9 + e] = (t10 + 2 * t11 + 4 * t12) * S;
    h[u10 + e] = (t10 - 2 * t11 + 4 * t12) * S;
    h[u11 + e] = (24 * t12) * S;
    h[u12 + e] = (6 * t20) * S;
    h[u13 + e] = (-4 * t20 - 4 * t21 - 4 * t22) * S;
    h[u14 + e] = (-4 * t20 + 4 * t21 - 4 * t22) * S;
    h[u15 + e] = (t20 + 2 * t21 + 4 * t22) * S;
    h[u16 + e] = (t20 - 2 * t21 + 4 * t22) * S;
    h[u17 + e] = (24 * t22) * S;
    h[u18 + e] = (6 * t30) * S;
    h[u19 + e] = (-4 * t30 - 4 * t31 - 4 * t32) * S;
    h[u20 + e] = (-4 * t30 + 4 * t31 - 4 * t32) * S;
    h[u21 + e] = (t30 + 2 * t31 + 4 * t32) * S;
    h[u22 + e] = (t30 - 2 * t31 + 4 * t32) * S;
    h[u23 + e] = (24 * t32) * S;
    h[u24 + e] = (6 * t40) * S;
    h[u25 + e] = (-4 * t40 - 4 * t41 - 4 * t42) * S;
    h[u26 + e] = (-4 * t40 + 4 * t41 - 4 * t42) * S;
    h[u27 + e] = (t40 + 2 * t41 + 4 * t42) * S;
    h[u28 + e] = (t40 - 2 * t41 + 4 * t42) * S;
    h[u29 + e] = (24 * t42) * S;
    h[u30 + e] = (6 * t50) * S;
    h[u31 + e] = (-4 * t50 - 4 * t51 - 4 * t52) * S;
    h[u32 + e] = (-4 * t50 + 4 * t51 - 4 * t52) * S;
    h[u33 + e] = (t50 + 2 * t51 + 4 * t52) * S;
    h[u34 + e] = (t50 - 2 * t51 + 4 * t52) * S;
    h[u35 + e] = (24 * t52) * S;
  }
}

/** V_p[t·C + c] = (Bᵀ d B)_p as inputTransform2, d the 6×6 window at (4·ty, 4·tx), into the 36 arrays at `v`. */
function inputTransform4(
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
  const [v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13, v14, v15, v16, v17, v18, v19, v20, v21, v22, v23, v24, v25, v26, v27, v28, v29, v30, v31, v32, v33, v34, v35] = v;
  const c2 = 2 * c, c3 = 3 * c, c4 = 4 * c, c5 = 5 * c;
  let o = 0;
  for (let r = r0; r < r1; r++) {
    const n = Math.floor(r / tilesY);
    const ty = r - n * tilesY;
    const rowBase = x + n * image + 4 * ty * row;
    for (let tx = 0; tx < tilesX; tx++, o += c) {
      const a0 = rowBase + 4 * tx * c;
      const a1 = a0 + row, a2 = a1 + row, a3 = a2 + row, a4 = a3 + row, a5 = a4 + row;
      for (let k = 0; k < c; k++) {
        const q = o + k;
        // Column by column, t = Bᵀ d; then along the rows, v = t B.
        const d00 = h[a0 + k], d10 = h[a1 + k], d20 = h[a2 + k], d30 = h[a3 + k], d40 = h[a4 + k], d50 = h[a5 + k];
        const t00 = 4 * d00 - 5 * d20 + d40, t10 = -4 * d10 - 4 * d20 + d30 + d40, t20 = 4 * d10 - 4 * d20 - d30 + d40, t30 = -2 * d10 - d20 + 2 * d30 + d40, t40 = 2 * d10 - d20 - 2 * d30 + d40, t50 = 4 * d10 - 5 * d30 + d50;
        const d01 = h[a0 + c + k], d11 = h[a1 + c + k], d21 = h[a2 + c + k], d31 = h[a3 + c + k], d41 = h[a4 + c + k], d51 = h[a5 + c + k];
        const t01 = 4 * d01 - 5 * d21 + d41, t11 = -4 * d11 - 4 * d21 + d31 + d41, t21 = 4 * d11 - 4 * d21 - d31 + d41, t31 = -2 * d11 - d21 + 2 * d31 + d41, t41 = 2 * d11 - d21 - 2 * d31 + d41, t51 = 4 * d11 - 5 * d31 + d51;
        const d02 = h[a0 + c2 + k], d12 = h[a1 + c2 + k], d22 = h[a2 + c2 + k], d32 = h[a3 + c2 + k], d42 = h[a4 + c2 + k], d52 = h[a5 + c2 + k];
        const t02 = 4 * d02 - 5 * d22 + d42, t12 = -4 * d12 - 4 * d22 + d32 + d42, t22 = 4 * d12 - 4 * d22 - d32 + d42, t32 = -2 * d12 - d22 + 2 * d32 + d42, t42 = 2 * d12 - d22 - 2 * d32 + d42, t52 = 4 * d12 - 5 * d32 + d52;
        const d03 = h[a0 + c3 + k], d13 = h[a1 + c3 + k], d23 = h[a2 + c3 + k], d33 = h[a3 + c3 + k], d43 = h[a4 + c3 + k], d53 = h[a5 + c3 + k];
        const t03 = 4 * d03 - 5 * d23 + d43, t13 = -4 * d13 - 4 * d23 + d33 + d43, t23 = 4 * d13 - 4 * d23 - d33 + d43, t33 = -2 * d13 - d23 + 2 * d33 + d43, t43 = 2 * d13 - d23 - 2 * d33 + d43, t53 = 4 * d13 - 5 * d33 + d53;
        const d04 = h[a0 + c4 + k], d14 = h[a1 + c4 + k], d24 = h[a2 + c4 + k], d34 = h[a3 + c4 + k], d44 = h[a4 + c4 + k], d54 = h[a5 + c4 + k];
        const t04 = 4 * d04 - 5 * d24 + d44, t14 = -4 * d14 - 4 * d24 + d34 + d44, t24 = 4 * d14 - 4 * d24 - d34 + d44, t34 = -2 * d14 - d24 + 2 * d34 + d44, t44 = 2 * d14 - d24 - 2 * d34 + d44, t54 = 4 * d14 - 5 * d34 + d54;
        const d05 = h[a0 + c5 + k], d15 = h[a1 + c5 + k], d25 = h[a2 + c5 + k], d35 = h[a3 + c5 + k], d45 = h[a4 + c5 + k], d55 = h[a5 + c5 + k];
        const t05 = 4 * d05 - 5 * d25 + d45, t15 = -4 * d15 - 4 * d25 + d35 + d45, t25 = 4 * d15 - 4 * d25 - d35 + d45, t35 = -2 * d15 - d25 + 2 * d35 + d45, t45 = 2 * d15 - d25 - 2 * d35 + d45, t55 = 4 * d15 - 5 * d35 + d55;
        h[v0 + q] = 4 * t00 - 5 * t02 + t04;
        h[v1 + q] = -4 * t01 - 4 * t02 + t03 + t04;
        h[v2 + q] = 4 * t01 - 4 * t02 - t03 + t04;
        h[v3 + q] = -2 * t01 - t02 + 2 * t03 + t04;
        h[v4 + q] = 2 * t01 - t02 - 2 * t03 + t04;
        h[v5 + q] = 4 * t01 - 5 * t03 + t05;
        h[v6 + q] = 4 * t10 - 5 * t12 + t14;
        h[v7 + q] = -4 * t11 - 4 * t12 + t13 + t14;
        h[v8 + q] = 4 * t11 - 4 * t12 - t13 + t14;
        h[v9 + q] = -2 * t11 - t12 + 2 * t13 + t14;
        h[v10 + q] = 2 * t11 - t12 - 2 * t13 + t14;
        h[v11 + q] = 4 * t11 - 5 * t13 + t15;
        h[v12 + q] = 4 * t20 - 5 * t22 + t24;
        h[v13 + q] = -4 * t21 - 4 * t22 + t23 + t24;
        h[v14 + q] = 4 * t21 - 4 * t22 - t23 + t24;
        h[v15 + q] = -2 * t21 - t22 + 2 * t23 + t24;
        h[v16 + q] = 2 * t21 - t22 - 2 * t23 + t24;
        h[v17 + q] = 4 * t21 - 5 * t23 + t25;
        h[v18 + q] = 4 * t30 - 5 * t32 + t34;
        h[v19 + q] = -4 * t31 - 4 * t32 + t33 + t34;
        h[v20 + q] = 4 * t31 - 4 * t32 - t33 + t34;
        h[v21 + q] = -2 * t31 - t32 + 2 * t33 + t34;
        h[v22 + q] = 2 * t31 - t32 - 2 * t33 + t34;
        h[v23 + q] = 4 * t31 - 5 * t33 + t35;
        h[v24 + q] = 4 * t40 - 5 * t42 + t44;
        h[v25 + q] = -4 * t41 - 4 * t42 + t43 + t44;
        h[v26 + q] = 4 * t41 - 4 * t42 - t43 + t44;
        h[v27 + q] = -2 * t41 - t42 + 2 * t43 + t44;
        h[v28 + q] = 2 * t41 - t42 - 2 * t43 + t44;
        h[v29 + q] = 4 * t41 - 5 * t43 + t45;
        h[v30 + q] = 4 * t50 - 5 * t52 + t54;
        h[v31 + q] = -4 * t51 - 4 * t52 + t53 + t54;
        h[v32 + q] = 4 * t51 - 4 * t52 - t53 + t54;
        h[v33 + q] = -2 * t51 - t52 + 2 * t53 + t54;
        h[v34 + q] = 2 * t51 - t52 - 2 * t53 + t54;
        h[v35 + q] = 4 * t51 - 5 * t53 + t55;
      }
    }
  }
}

/** The 16 outputs of a tile an output edge cuts (outputTransform4), before the ones inside are stored. */
const edgeTile = new Float64Array(16);

/**
 * y[n, 4·ty + a, 4·tx + b, :] = (Aᵀ M A)_ab for the tiles of tile rows r0 ≤ r < r1, as outputTransform2, skipping the
 * rows and columns an output size that is not a multiple of 4 leaves outside.
 */
function outputTransform4(
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
  const [m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m13, m14, m15, m16, m17, m18, m19, m20, m21, m22, m23, m24, m25, m26, m27, m28, m29, m30, m31, m32, m33, m34, m35] = m;
  const row = outWidth * co;
  let o = 0;
  for (let r = r0; r < r1; r++) {
    const n = Math.floor(r / tilesY);
    const ty = r - n * tilesY;
    const rows = Math.min(4, outHeight - 4 * ty);
    for (let tx = 0; tx < tilesX; tx++, o += co) {
      const y0 = y + ((n * outHeight + 4 * ty) * outWidth + 4 * tx) * co;
      const cols = Math.min(4, outWidth - 4 * tx);
      const whole = rows === 4 && cols === 4;
      for (let k = 0; k < co; k++) {
        const q = o + k;
        // Column by column, s = Aᵀ M (4×6); then along the rows, y = s A.
        const q00 = h[m0 + q], q10 = h[m6 + q], q20 = h[m12 + q], q30 = h[m18 + q], q40 = h[m24 + q], q50 = h[m30 + q];
        const s00 = q00 + q10 + q20 + q30 + q40, s10 = q10 - q20 + 2 * q30 - 2 * q40, s20 = q10 + q20 + 4 * q30 + 4 * q40, s30 = q10 - q20 + 8 * q30 - 8 * q40 + q50;
        const q01 = h[m1 + q], q11 = h[m7 + q], q21 = h[m13 + q], q31 = h[m19 + q], q41 = h[m25 + q], q51 = h[m31 + q];
        const s01 = q01 + q11 + q21 + q31 + q41, s11 = q11 - q21 + 2 * q31 - 2 * q41, s21 = q11 + q21 + 4 * q31 + 4 * q41, s31 = q11 - q21 + 8 * q31 - 8 * q41 + q51;
        const q02 = h[m2 + q], q12 = h[m8 + q], q22 = h[m14 + q], q32 = h[m20 + q], q42 = h[m26 + q], q52 = h[m32 + q];
        const s02 = q02 + q12 + q22 + q32 + q42, s12 = q12 - q22 + 2 * q32 - 2 * q42, s22 = q12 + q22 + 4 * q32 + 4 * q42, s32 = q12 - q22 + 8 * q32 - 8 * q42 + q52;
        const q03 = h[m3 + q], q13 = h[m9 + q], q23 = h[m15 + q], q33 = h[m21 + q], q43 = h[m27 + q], q53 = h[m33 + q];
        const s03 = q03 + q13 + q23 + q33 + q43, s13 = q13 - q23 + 2 * q33 - 2 * q43, s23 = q13 + q23 + 4 * q33 + 4 * q43, s33 = q13 - q23 + 8 * q33 - 8 * q43 + q53;
        const q04 = h[m4 + q], q14 = h[m10 + q], q24 = h[m16 + q], q34 = h[m22 + q], q44 = h[m28 + q], q54 = h[m34 + q];
        const s04 = q04 + q14 + q24 + q34 + q44, s14 = q14 - q24 + 2 * q34 - 2 * q44, s24 = q14 + q24 + 4 * q34 + 4 * q44, s34 = q14 - q24 + 8 * q34 - 8 * q44 + q54;
        const q05 = h[m5 + q], q15 = h[m11 + q], q25 = h[m17 + q], q35 = h[m23 + q], q45 = h[m29 + q], q55 = h[m35 + q];
        const s05 = q05 + q15 + q25 + q35 + q45, s15 = q15 - q25 + 2 * q35 - 2 * q45, s25 = q15 + q25 + 4 * q35 + 4 * q45, s35 = q15 - q25 + 8 * q35 - 8 * q45 + q55;
        const y00 = s00 + s01 + s02 + s03 + s04, y01 = s01 - s02 + 2 * s03 - 2 * s04, y02 = s01 + s02 + 4 * s03 + 4 * s04, y03 = s01 - s02 + 8 * s03 - 8 * s04 + s05;
        const y10 = s10 + s11 + s12 + s13 + s14, y11 = s11 - s12 + 2 * s13 - 2 * s14, y12 = s11 + s12 + 4 * s13 + 4 * s14, y13 = s11 - s12 + 8 * s13 - 8 * s14 + s15;
        const y20 = s20 + s21 + s22 + s23 + s24, y21 = s21 - s22 + 2 * s23 - 2 * s24, y22 = s21 + s22 + 4 * s23 + 4 * s24, y23 = s21 - s22 + 8 * s23 - 8 * s24 + s25;
        const y30 = s30 + s31 + s32 + s33 + s34, y31 = s31 - s32 + 2 * s33 - 2 * s34, y32 = s31 + s32 + 4 * s33 + 4 * s34, y33 = s31 - s32 + 8 * s33 - 8 * s34 + s35;
        const at = y0 + k;
        if (whole) {
          h[at] = y00; h[at + co] = y01; h[at + 2 * co] = y02; h[at + 3 * co] = y03;
          h[at + row] = y10; h[at + row + co] = y11; h[at + row + 2 * co] = y12; h[at + row + 3 * co] = y13;
          h[at + 2 * row] = y20; h[at + 2 * row + co] = y21; h[at + 2 * row + 2 * co] = y22; h[at + 2 * row + 3 * co] = y23;
          h[at + 3 * row] = y30; h[at + 3 * row + co] = y31; h[at + 3 * row + 2 * co] = y32; h[at + 3 * row + 3 * co] = y33;
        } else {
          const t = edgeTile;
          t[0] = y00, t[1] = y01, t[2] = y02, t[3] = y03;
          t[4] = y10, t[5] = y11, t[6] = y12, t[7] = y13;
          t[8] = y20, t[9] = y21, t[10] = y22, t[11] = y23;
          t[12] = y30, t[13] = y31, t[14] = y32, t[15] = y33;
          for (let a = 0; a < rows; a++) for (let b = 0; b < cols; b++) h[at + a * row + b * co] = t[4 * a + b];
        }
      }
    }
  }
}

/** One Winograd F(m×m, 3×3): its output tile size, transformed positions and transforms. */
interface Variant {
  m: 2 | 4;
  positions: number;
  filterTransform: typeof filterTransform2;
  inputTransform: typeof inputTransform2;
  outputTransform: typeof outputTransform2;
}

const VARIANTS: Record<'winograd' | 'winograd4', Variant> = {
  winograd: { m: 2, positions: 16, filterTransform: filterTransform2, inputTransform: inputTransform2, outputTransform: outputTransform2 },
  winograd4: { m: 4, positions: 36, filterTransform: filterTransform4, inputTransform: inputTransform4, outputTransform: outputTransform4 },
};

/** The input zero padded into whole (m+2)×(m+2)-window tiles, and how its tiles fall into bands of tile rows. */
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
 * Pads x where the conv pads, and by up to m − 1 more rows or columns of zeros where the output size is not a
 * multiple of m, so that ceil(out/m) tiles of m×m outputs, each reading an (m+2)×(m+2) window, cover it.
 */
function tile(chain: WasmKernelChain, x: tf.TensorInfo, info: ConvInfo, variant: Variant): Tiling {
  const { m, positions } = variant;
  const { batchSize, inChannels: c, outChannels: co, outHeight, outWidth } = info;
  const { top, bottom, left, right } = info.padInfo;
  const tilesY = Math.ceil(outHeight / m);
  const tilesX = Math.ceil(outWidth / m);
  const paddings = [
    [0, 0],
    [top, bottom + tilesY * m - outHeight],
    [left, right + tilesX * m - outWidth],
    [0, 0],
  ];
  const padded = paddings.some(([before, after]) => before > 0 || after > 0)
    ? chain.run(tf.PadV2, { x }, { paddings, constantValue: 0 })
    : x;
  const [, paddedHeight, paddedWidth] = padded.shape;
  if (paddedHeight !== m * tilesY + 2 || paddedWidth !== m * tilesX + 2) {
    throw new Error(`Winograd conv: padded input ${paddedHeight}×${paddedWidth} does not fit ${tilesY}×${tilesX} tiles of ${m}×${m}`);
  }
  // The band flag is for F(2,3)'s 16 positions; F(4,3)'s 36 take proportionally fewer tiles, the same heap.
  const floats = (tf.env().getNumber(WINOGRAD_BAND_FLAG) * 16) / positions;
  const band = Math.max(1, Math.floor(floats / (tilesX * Math.max(c, co))));
  const row = paddedWidth * c;
  return { padded, tilesY, tilesX, row, image: paddedHeight * row, tileRows: batchSize * tilesY, band };
}

/**
 * The conv `info` describes (winogradComputes) by F(2×2, 3×3) (`route` 'winograd') or F(4×4, 3×3) ('winograd4'),
 * its products run by `product` (wasm's own Conv2D: V_p [1, 1, tiles, Ci] through the 1×1 filter U_p).
 */
export function conv2dByWinograd(
  chain: WasmKernelChain,
  x: tf.TensorInfo,
  filter: tf.TensorInfo,
  info: ConvInfo,
  route: 'winograd' | 'winograd4',
  product: (v: tf.TensorInfo, u: tf.TensorInfo) => tf.TensorInfo
): tf.TensorInfo {
  const backend = chain.backend;
  const variant = VARIANTS[route];
  const { batchSize, inChannels: c, outChannels: co, outHeight, outWidth } = info;
  const t = tile(chain, x, info, variant);
  const u = transformFilter(backend, filter, variant);
  const y = chain.allocate([batchSize, outHeight, outWidth, co], 'float32');
  const offsets = new Int32Array(variant.positions);
  for (let r0 = 0; r0 < t.tileRows; r0 += t.band) {
    const r1 = Math.min(t.tileRows, r0 + t.band);
    const tiles = (r1 - r0) * t.tilesX;
    const v: tf.TensorInfo[] = [];
    const m: tf.TensorInfo[] = [];
    try {
      allocateEach(backend, [1, 1, tiles, c], v, offsets);
      variant.inputTransform(heapOf(backend, t.padded), offsetOf(backend, t.padded), t.row, t.image, c, t.tilesY, t.tilesX, r0, r1, offsets);
      for (let p = 0; p < variant.positions; p++) m.push(product(v[p], u[p]));
      free(backend, v);
      m.forEach((info, p) => (offsets[p] = offsetOf(backend, info)));
      variant.outputTransform(heapOf(backend, y), offsets, co, t.tilesY, t.tilesX, r0, r1, offsetOf(backend, y), outHeight, outWidth);
    } finally {
      free(backend, v);
      free(backend, m);
    }
  }
  return y;
}
