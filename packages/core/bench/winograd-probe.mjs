// Feasibility probe: Winograd F(2×2,3×3) and F(4×4,3×3) built from tfjs-wasm's own kernels, against wasm's
// Conv2D, for the generator's 3×3 stride-1 convolutions (NHWC, HWIO, on an already reflection-padded input,
// batch 1). Not a kernel: nothing here is registered or used by the packages.
//
// Winograd: Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A per m×m output tile, α = m + 2. For each of the α² positions
// (k, l) of the transformed tile the channel sum is one matrix product V_kl [tiles, Cin] · U_kl [Cin, Cout].
//   filter transform U: precomputed in float64 in JS (weights change once per training step, never in
//     translation), one wasm tensor per position so that XNNPACK's packed-weights cache (keyed on b's id)
//     holds across calls;
//   input transform V and output transform Y: straight-line JS generated from Bᵀ and Aᵀ, looping over the
//     channels on the wasm heap (the arithmetic is float64, rounded once on each store);
//   (route 'dw': the input transform as α + α² depthwise convs instead, which, like Conv2D, use the pool);
//   products: wasm's BatchMatMul one position at a time (its XNNPACK path takes batch 1 only; batched it falls
//     back to a scalar loop) — route 'mm' — or a 1×1 Conv2D per position — route 'c1', which, unlike
//     BatchMatMul, runs on wasm's thread pool.
// Error: against a float64 JS conv of the same float32 inputs, on up to 1024 sampled output pixels.
//
// [QSATTN_DIST=…/dist/index.js] node packages/core/bench/winograd-probe.mjs --threads 1 [--reps 9] [--extra] [--shapes 0,1]
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? fallback : process.argv[i + 1];
};
const threadsWanted = arg('--threads') === undefined ? undefined : Number(arg('--threads'));
const REPS = Number(arg('--reps', 9));

// ---------------------------------------------------------------------------------------------------------
// Winograd matrices (points 0, ±1 for F(2,3); 0, ±1, ±2 for F(4,3); Lavin & Gray 2015).
export const F23 = {
  m: 2,
  BT: [
    [1, 0, -1, 0],
    [0, 1, 1, 0],
    [0, -1, 1, 0],
    [0, 1, 0, -1],
  ],
  G: [
    [1, 0, 0],
    [1 / 2, 1 / 2, 1 / 2],
    [1 / 2, -1 / 2, 1 / 2],
    [0, 0, 1],
  ],
  AT: [
    [1, 1, 1, 0],
    [0, 1, -1, -1],
  ],
};
export const F43 = {
  m: 4,
  BT: [
    [4, 0, -5, 0, 1, 0],
    [0, -4, -4, 1, 1, 0],
    [0, 4, -4, -1, 1, 0],
    [0, -2, -1, 2, 1, 0],
    [0, 2, -1, -2, 1, 0],
    [0, 4, 0, -5, 0, 1],
  ],
  G: [
    [1 / 4, 0, 0],
    [-1 / 6, -1 / 6, -1 / 6],
    [-1 / 6, 1 / 6, -1 / 6],
    [1 / 24, 1 / 12, 1 / 6],
    [1 / 24, -1 / 12, 1 / 6],
    [0, 0, 1],
  ],
  AT: [
    [1, 1, 1, 1, 1, 0],
    [0, 1, -1, 2, -2, 0],
    [0, 1, 1, 4, 4, 0],
    [0, 1, -1, 8, -8, 1],
  ],
};

/** `Σ coefs[i]·names[i]` as source text, zeros skipped, ±1 without a multiply. */
function linear(coefs, names) {
  const terms = [];
  coefs.forEach((c, i) => {
    if (c === 0) return;
    const sign = c < 0 ? '-' : '+';
    const mag = Math.abs(c);
    terms.push(`${sign} ${mag === 1 ? '' : `${mag} * `}${names[i]}`);
  });
  if (terms.length === 0) return '0';
  const text = terms.join(' ');
  return text.startsWith('+ ') ? text.slice(2) : text;
}

/**
 * (H, xBase, rowStride, C, tilesY, tilesX, vBases) → writes V_kl[t·C + c] = (Bᵀ d B)_kl for every tile t and
 * channel c, d the α×α window at (ty·m, tx·m) of the padded NHWC input (H: the whole heap as float32).
 */
function makeInputTransform({ m, BT }) {
  const a = BT.length;
  const lines = [];
  for (let p = 0; p < a * a; p++) lines.push(`const vb${p} = vBases[${p}];`);
  lines.push('let o = 0;');
  lines.push('for (let ty = 0; ty < tilesY; ty++) {');
  lines.push('  for (let tx = 0; tx < tilesX; tx++, o += C) {');
  for (let i = 0; i < a; i++) {
    for (let j = 0; j < a; j++) lines.push(`    const r${i}_${j} = xBase + (ty * ${m} + ${i}) * rowStride + (tx * ${m} + ${j}) * C;`);
  }
  lines.push('    for (let c = 0; c < C; c++) {');
  for (let i = 0; i < a; i++) for (let j = 0; j < a; j++) lines.push(`      const d${i}_${j} = H[r${i}_${j} + c];`);
  // t_kj = Σ_i BT[k][i] d_ij, then v_kl = Σ_j t_kj BT[l][j].
  for (let k = 0; k < a; k++) {
    for (let j = 0; j < a; j++) {
      lines.push(`      const t${k}_${j} = ${linear(BT[k], Array.from({ length: a }, (_, i) => `d${i}_${j}`))};`);
    }
  }
  for (let k = 0; k < a; k++) {
    for (let l = 0; l < a; l++) {
      lines.push(`      H[vb${k * a + l} + o + c] = ${linear(BT[l], Array.from({ length: a }, (_, j) => `t${k}_${j}`))};`);
    }
  }
  lines.push('    }', '  }', '}');
  return new Function('H', 'xBase', 'rowStride', 'C', 'tilesY', 'tilesX', 'vBases', lines.join('\n'));
}

/** (H, mBases, Co, tilesY, tilesX, yBase, W) → Y[(ty·m + p, tx·m + q), co] = (Aᵀ M A)_pq per tile. */
function makeOutputTransform({ m, AT }) {
  const a = AT[0].length;
  const lines = [];
  for (let p = 0; p < a * a; p++) lines.push(`const mb${p} = mBases[${p}];`);
  lines.push('let o = 0;');
  lines.push('for (let ty = 0; ty < tilesY; ty++) {');
  lines.push('  for (let tx = 0; tx < tilesX; tx++, o += Co) {');
  for (let p = 0; p < m; p++) {
    for (let q = 0; q < m; q++) lines.push(`    const y${p}_${q} = yBase + ((ty * ${m} + ${p}) * W + tx * ${m} + ${q}) * Co;`);
  }
  lines.push('    for (let c = 0; c < Co; c++) {');
  for (let k = 0; k < a; k++) for (let l = 0; l < a; l++) lines.push(`      const m${k}_${l} = H[mb${k * a + l} + o + c];`);
  // s_pl = Σ_k AT[p][k] m_kl, then y_pq = Σ_l s_pl AT[q][l].
  for (let p = 0; p < m; p++) {
    for (let l = 0; l < a; l++) {
      lines.push(`      const s${p}_${l} = ${linear(AT[p], Array.from({ length: a }, (_, k) => `m${k}_${l}`))};`);
    }
  }
  for (let p = 0; p < m; p++) {
    for (let q = 0; q < m; q++) {
      lines.push(`      H[y${p}_${q} + c] = ${linear(AT[q], Array.from({ length: a }, (_, l) => `s${p}_${l}`))};`);
    }
  }
  lines.push('    }', '  }', '}');
  return new Function('H', 'mBases', 'Co', 'tilesY', 'tilesX', 'yBase', 'W', lines.join('\n'));
}

/** U_kl = (G g Gᵀ)_kl for every (ci, co), in float64; g is HWIO [3,3,C,Co]. Returns α² Float32Arrays [C·Co]. */
function filterTransform({ G }, g, C, Co) {
  const a = G.length;
  const n = C * Co;
  const out = Array.from({ length: a * a }, () => new Float32Array(n));
  const tmp = new Float64Array(a * 3);
  for (let e = 0; e < n; e++) {
    // tmp[k][j] = Σ_i G[k][i] g[i][j]
    for (let k = 0; k < a; k++) {
      for (let j = 0; j < 3; j++) {
        let s = 0;
        for (let i = 0; i < 3; i++) s += G[k][i] * g[(i * 3 + j) * n + e];
        tmp[k * 3 + j] = s;
      }
    }
    for (let k = 0; k < a; k++) {
      for (let l = 0; l < a; l++) {
        let s = 0;
        for (let j = 0; j < 3; j++) s += tmp[k * 3 + j] * G[l][j];
        out[k * a + l][e] = s;
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
const backend = () => tf.backend();
const heapF32 = (b) => new Float32Array(b.wasm.HEAPU8.buffer);
const baseOf = (b, info) => b.typedArrayFromHeap(info).byteOffset / 4;
const kernel = (name) => tf.getKernel(name, 'wasm').kernelFunc;

/**
 * A Winograd conv for one shape and filter: returns run() → { y (TensorInfo, caller frees), ms: {input,
 * products, output} } and dispose().
 */
export function makeWinograd(variant, route, xShape, g, Co) {
  const [, Hp, Wp, C] = xShape;
  const H = Hp - 2;
  const W = Wp - 2;
  const { m } = variant;
  const a = m + 2;
  if (H % m !== 0 || W % m !== 0) throw new Error(`${H}×${W} is not a multiple of ${m}`);
  const tilesY = H / m;
  const tilesX = W / m;
  const T = tilesY * tilesX;
  // One pair of generated functions per variant, shared by every conv (each new one would be JIT-compiled anew).
  variant.transforms ??= { input: makeInputTransform(variant), output: makeOutputTransform(variant) };
  const { input: inputTransform, output: outputTransform } = variant.transforms;
  // Tensors of this conv live on the backend only, outside the engine (and any tidy of a caller's).
  const upload = (values, shape) => {
    const info = backend().makeOutput(shape, 'float32');
    backend().typedArrayFromHeap(info).set(values);
    return info;
  };
  const free = (infos) => infos.forEach((info) => backend().disposeData(info.dataId));
  // The filter transform and its upload, timed (median of 3): once per training step, per conv, in training.
  const filterTimes = [];
  let uInfo;
  for (let rep = 0; rep < 3; rep++) {
    if (uInfo !== undefined) free(uInfo);
    const start = performance.now();
    uInfo = filterTransform(variant, g, C, Co).map((u) => upload(u, route === 'mm' ? [C, Co] : [1, 1, C, Co]));
    filterTimes.push(performance.now() - start);
  }
  // The same transform as one wasm product, kron(G, G) [α², 9] · g [9, Cin·Cout] (float32, XNNPACK), then
  // copied out into one tensor per position: what a training step would pay per conv when the weights change.
  const kron = new Float32Array(a * a * 9);
  for (let k = 0; k < a; k++) {
    for (let l = 0; l < a; l++) {
      for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) kron[(k * a + l) * 9 + i * 3 + j] = variant.G[k][i] * variant.G[l][j];
    }
  }
  const kronInfo = upload(kron, [a * a, 9]);
  const gInfo = upload(g, [9, C * Co]);
  const matMulTimes = [];
  let matMulError = 0;
  for (let rep = 0; rep < 3; rep++) {
    const b = backend();
    const start = performance.now();
    const all = kernel('BatchMatMul')({ inputs: { a: kronInfo, b: gInfo }, attrs: { transposeA: false, transposeB: false }, backend: b });
    const parts = Array.from({ length: a * a }, () => b.makeOutput([C, Co], 'float32'));
    const heap = heapF32(b);
    const from = baseOf(b, all);
    parts.forEach((part, p) => heap.copyWithin(baseOf(b, part), from + p * C * Co, from + (p + 1) * C * Co));
    matMulTimes.push(performance.now() - start);
    if (rep === 0) {
      parts.forEach((part, p) => {
        const got = b.typedArrayFromHeap(part);
        const want = b.typedArrayFromHeap(uInfo[p]);
        for (let e = 0; e < got.length; e++) matMulError = Math.max(matMulError, Math.abs(got[e] - want[e]));
      });
    }
    free([all, ...parts]);
  }
  free([kronInfo, gInfo]);
  // Route 'dw': the input transform as depthwise convs, Bᵀ's rows down the columns (α×1, stride m×1), then
  // along the rows (1×α, stride 1×m): V_kl = colpass_l(rowpass_k(x)), each already [1, tilesY, tilesX, C].
  const BT = variant.BT;
  const tapFilter = (coefs, shape) =>
    upload(Float32Array.from({ length: coefs.length * C }, (_, e) => coefs[Math.floor(e / C)]), shape);
  const rowFilters = route === 'dw' ? BT.map((row) => tapFilter(row, [a, 1, C, 1])) : [];
  const colFilters = route === 'dw' ? BT.map((row) => tapFilter(row, [1, a, C, 1])) : [];
  const depthwise = kernel('DepthwiseConv2dNative');
  const dwAttrs = (strides) => ({ strides, pad: 'valid', dilations: [1, 1], dimRoundingMode: undefined });
  const batchMatMul = kernel('BatchMatMul');
  const conv2d = kernel('Conv2D');
  const convAttrs = { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined };

  function run(x) {
    const b = backend();
    const t0 = performance.now();
    let V;
    if (route === 'dw') {
      V = [];
      for (let k = 0; k < a; k++) {
        const rows = depthwise({ inputs: { x, filter: rowFilters[k] }, attrs: dwAttrs([m, 1]), backend: b });
        for (let l = 0; l < a; l++) {
          V.push(depthwise({ inputs: { x: rows, filter: colFilters[l] }, attrs: dwAttrs([1, m]), backend: b }));
        }
        b.disposeData(rows.dataId);
      }
    } else {
      V = Array.from({ length: a * a }, () => b.makeOutput(route === 'mm' ? [T, C] : [1, 1, T, C], 'float32'));
      inputTransform(
        heapF32(b),
        baseOf(b, x),
        Wp * C,
        C,
        tilesY,
        tilesX,
        V.map((v) => baseOf(b, v))
      );
    }
    const t1 = performance.now();
    const M = V.map((v, p) =>
      route === 'mm'
        ? batchMatMul({ inputs: { a: v, b: uInfo[p] }, attrs: { transposeA: false, transposeB: false }, backend: b })
        : conv2d({ inputs: { x: v, filter: uInfo[p] }, attrs: convAttrs, backend: b })
    );
    const t2 = performance.now();
    for (const v of V) b.disposeData(v.dataId);
    const y = b.makeOutput([1, H, W, Co], 'float32');
    outputTransform(
      heapF32(b),
      M.map((mm) => baseOf(b, mm)),
      Co,
      tilesY,
      tilesX,
      baseOf(b, y),
      W
    );
    const t3 = performance.now();
    for (const mm of M) b.disposeData(mm.dataId);
    return { y, ms: { input: t1 - t0, products: t2 - t1, output: t3 - t2 } };
  }
  return { run, dispose: () => free([...uInfo, ...rowFilters, ...colFilters]), tiles: T, positions: a * a, filterMs: median(filterTimes), filterMatMulMs: median(matMulTimes), filterMatMulError: matMulError };
}

// ---------------------------------------------------------------------------------------------------------
/** A reproducible uniform [0, 1) stream (mulberry32). */
function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DATA = {
  // Zero-mean activations.
  uniform: (r) => 2 * r() - 1,
  // Post-ReLU: max(0, N(0, 1)) (Box–Muller), mean 0.4, half zeros.
  relu: (r) => Math.max(0, Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r())),
  // A large mean against a small spread: 4 + U(−1, 1).
  mean4: (r) => 4 + 2 * r() - 1,
};

/** Reflection padding by 1 of an [H, W, C] map, as the generator's ReflectionPad2d(1) does. */
function reflectPad(src, H, W, C) {
  const out = new Float32Array((H + 2) * (W + 2) * C);
  const mirror = (i, n) => (i < 0 ? -i : i >= n ? 2 * n - 2 - i : i);
  for (let y = 0; y < H + 2; y++) {
    const sy = mirror(y - 1, H);
    for (let x = 0; x < W + 2; x++) {
      const sx = mirror(x - 1, W);
      out.set(src.subarray((sy * W + sx) * C, (sy * W + sx + 1) * C), (y * (W + 2) + x) * C);
    }
  }
  return out;
}

/** Float64 conv of the float32 values at the sampled output pixels: [pixels.length, Co]. */
function reference(xp, Wp, C, g, Co, pixels, W) {
  const out = new Float64Array(pixels.length * Co);
  const acc = new Float64Array(Co);
  pixels.forEach((pix, n) => {
    const oy = Math.floor(pix / W);
    const ox = pix % W;
    acc.fill(0);
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        const xo = ((oy + i) * Wp + ox + j) * C;
        const go = (i * 3 + j) * C * Co;
        for (let c = 0; c < C; c++) {
          const xv = xp[xo + c];
          if (xv === 0) continue;
          const gr = go + c * Co;
          for (let o = 0; o < Co; o++) acc[o] += xv * g[gr + o];
        }
      }
    }
    out.set(acc, n * Co);
  });
  return out;
}

/** Max abs error, max abs error over the reference's max magnitude, and the share outside 1e-5 + 1e-4·|ref|. */
function compare(got, ref, pixels, Co) {
  let maxErr = 0;
  let maxRef = 0;
  let outside = 0;
  let sumErr2 = 0;
  let sumRef2 = 0;
  pixels.forEach((pix, n) => {
    for (let o = 0; o < Co; o++) {
      const r = ref[n * Co + o];
      const e = Math.abs(got[pix * Co + o] - r);
      maxErr = Math.max(maxErr, e);
      maxRef = Math.max(maxRef, Math.abs(r));
      sumErr2 += e * e;
      sumRef2 += r * r;
      if (e > 1e-5 + 1e-4 * Math.abs(r)) outside++;
    }
  });
  return {
    maxAbs: +maxErr.toExponential(2),
    maxRel: +(maxErr / maxRef).toExponential(2),
    rmsRel: +Math.sqrt(sumErr2 / sumRef2).toExponential(2),
    outsideTol: +(outside / (pixels.length * Co)).toExponential(2),
  };
}

const median = (v) => [...v].sort((p, q) => p - q)[Math.floor(v.length / 2)];

// ---------------------------------------------------------------------------------------------------------
// Imported (by cut-model/bench/winograd-generator.mjs) for makeWinograd: then nothing below runs.
const isMain = import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) await main();

async function main() {
  const SHAPES = [
    // [H, W, Cin, Cout]
    [16, 16, 256, 256],
    [32, 32, 256, 256],
    [64, 64, 256, 256],
    [64, 64, 64, 64],
    [16, 16, 64, 64],
  ];
  // --extra: the 256 px generator's encoder/decoder 3×3 convs (128 px maps 128↔256, 256 px maps 64↔128).
  if (process.argv.includes('--extra')) SHAPES.push([128, 128, 128, 256], [128, 128, 256, 128], [256, 256, 64, 128], [256, 256, 128, 64]);
  const only = arg('--shapes');
  // --shape HxWxCxCo: one other shape instead (a quick check of the code on a small one).
  const custom = arg('--shape');
  const shapes =
    custom !== undefined
      ? [custom.split('x').map(Number)]
      : only === undefined
        ? SHAPES
        : only.split(',').map((i) => SHAPES[Number(i)]);

  const VARIANTS = [
    { name: 'F2-mm', wino: F23, route: 'mm' },
    { name: 'F2-c1', wino: F23, route: 'c1' },
    { name: 'F4-mm', wino: F43, route: 'mm' },
    { name: 'F4-c1', wino: F43, route: 'c1' },
    { name: 'F2-dw', wino: F23, route: 'dw' },
    { name: 'F4-dw', wino: F43, route: 'dw' },
  ];

  // QSATTN_DIST: the built @qsattn/core to take selectBackend (and its wasm kernels) from; default ../dist/index.js.
  const { selectBackend, CONV2D_ROUTE_FLAG } = await import(process.env.QSATTN_DIST ?? '../dist/index.js');
  const choice = await selectBackend('wasm', threadsWanted === undefined ? {} : { threads: threadsWanted });
  // The baseline is wasm's direct conv, not the Winograd kernel this probe led to (kernels/wasm/winograd.ts).
  tf.env().set(CONV2D_ROUTE_FLAG, 'direct');
  console.log(JSON.stringify({ backend: choice.name, threads: choice.threads, reps: REPS }));

  for (const [H, W, C, Co] of shapes) {
    const shape = `${H}x${W}x${C}->${Co}`;
    const flops = 2 * H * W * 9 * C * Co;
    const Hp = H + 2;
    const Wp = W + 2;
    const r = rng(H * 7919 + C * 31 + Co);
    // Zero-mean weights of a kaiming-like scale (the output's scale does not matter to relative errors).
    const gScale = Math.sqrt(3 / (9 * C));
    const g = Float32Array.from({ length: 9 * C * Co }, () => (2 * r() - 1) * gScale);
    const filter = tf.tensor(g, [3, 3, C, Co], 'float32');
    const filterInfo = { dataId: filter.dataId, shape: filter.shape, dtype: 'float32' };
    const conv2d = kernel('Conv2D');
    const convAttrs = { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined };
    const runConv = (x) => conv2d({ inputs: { x, filter: filterInfo }, attrs: convAttrs, backend: backend() });
    const winos = VARIANTS.map((v) => ({ ...v, impl: makeWinograd(v.wino, v.route, [1, Hp, Wp, C], g, Co) }));

    // Sampled output pixels for the error check: all of them up to 1024, else 1024 at random.
    const pixels =
      H * W <= 1024 ? Array.from({ length: H * W }, (_, i) => i) : Array.from({ length: 1024 }, () => Math.floor(r() * H * W));

    // Errors, on each kind of data.
    for (const [dataName, draw] of Object.entries(DATA)) {
      const xs = Float32Array.from({ length: H * W * C }, () => draw(r));
      const xp = reflectPad(xs, H, W, C);
      const x = tf.tensor(xp, [1, Hp, Wp, C], 'float32');
      const xInfo = { dataId: x.dataId, shape: x.shape, dtype: 'float32' };
      const ref = reference(xp, Wp, C, g, Co, pixels, W);
      const read = (info) => {
        const v = backend().typedArrayFromHeap(info).slice();
        backend().disposeData(info.dataId);
        return v;
      };
      const errors = { Conv2D: compare(read(runConv(xInfo)), ref, pixels, Co) };
      for (const w of winos) errors[w.name] = compare(read(w.impl.run(xInfo).y), ref, pixels, Co);
      for (const [variant, e] of Object.entries(errors)) console.log(JSON.stringify({ shape, data: dataName, variant, ...e }));
      x.dispose();
    }

    // Times: warm-ups, then REPS rounds that run every variant once each, in turn (alternating A/B).
    const xp = reflectPad(
      Float32Array.from({ length: H * W * C }, () => 2 * r() - 1),
      H,
      W,
      C
    );
    const x = tf.tensor(xp, [1, Hp, Wp, C], 'float32');
    const xInfo = { dataId: x.dataId, shape: x.shape, dtype: 'float32' };
    // The reflection padding before each conv, for scale (a Winograd input transform could read through it).
    const unpadded = tf.tensor(xp.subarray(0, H * W * C), [1, H, W, C], 'float32');
    const unpaddedInfo = { dataId: unpadded.dataId, shape: unpadded.shape, dtype: 'float32' };
    const mirrorPad = kernel('MirrorPad');
    const padAttrs = { paddings: [[0, 0], [1, 1], [1, 1], [0, 0]], mode: 'reflect' };
    const times = { Conv2D: [], MirrorPad: [] };
    for (const w of winos) times[w.name] = { total: [], input: [], products: [], output: [] };
    for (let round = -2; round < REPS; round++) {
      globalThis.gc?.();
      const t0 = performance.now();
      backend().disposeData(runConv(xInfo).dataId);
      if (round >= 0) times.Conv2D.push(performance.now() - t0);
      const tp = performance.now();
      backend().disposeData(mirrorPad({ inputs: { x: unpaddedInfo }, attrs: padAttrs, backend: backend() }).dataId);
      if (round >= 0) times.MirrorPad.push(performance.now() - tp);
      for (const w of winos) {
        globalThis.gc?.();
        const s = performance.now();
        const { y, ms } = w.impl.run(xInfo);
        const total = performance.now() - s;
        backend().disposeData(y.dataId);
        if (round < 0) continue;
        const t = times[w.name];
        t.total.push(total);
        t.input.push(ms.input);
        t.products.push(ms.products);
        t.output.push(ms.output);
      }
    }
    const convMs = median(times.Conv2D);
    console.log(
      JSON.stringify({ shape, variant: 'Conv2D', ms: +convMs.toFixed(2), gflops: +(flops / convMs / 1e6).toFixed(1) })
    );
    console.log(JSON.stringify({ shape, variant: 'MirrorPad', ms: +median(times.MirrorPad).toFixed(2) }));
    for (const w of winos) {
      const t = times[w.name];
      const total = median(t.total);
      const productFlops = 2 * w.impl.positions * w.impl.tiles * C * Co;
      const products = median(t.products);
      console.log(
        JSON.stringify({
          shape,
          variant: w.name,
          ms: +total.toFixed(2),
          inputMs: +median(t.input).toFixed(2),
          productsMs: +products.toFixed(2),
          outputMs: +median(t.output).toFixed(2),
          productGflops: +(productFlops / products / 1e6).toFixed(1),
          effectiveGflops: +(flops / total / 1e6).toFixed(1),
          speedup: +(convMs / total).toFixed(2),
          filterTransformMs: +w.impl.filterMs.toFixed(2),
        filterByMatMulMs: +w.impl.filterMatMulMs.toFixed(2),
        filterByMatMulMaxDiff: +w.impl.filterMatMulError.toExponential(2),
        })
      );
    }
    tf.dispose([x, unpadded, filter]);
    for (const w of winos) w.impl.dispose();
    const mem = tf.memory();
    console.log(JSON.stringify({ shape, tensorsLeft: mem.numTensors, heapBytes: backend().wasm.HEAPU8.length }));
  }

}
