// Float64 reference implementations, written from PyTorch's definitions (NHWC layout), for tests only.
// They share no code with the ops they check.

export interface Arr {
  values: Float64Array;
  shape: number[];
}

export const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

function idx4(shape: readonly number[], a: number, b: number, c: number, d: number): number {
  return ((a * shape[1] + b) * shape[2] + c) * shape[3] + d;
}

export interface ConvRefOptions {
  stride: [number, number];
  padding: [number, number];
  dilation: [number, number];
}

/** Direct-sum conv2d: x [N,H,W,Ci], w [kh,kw,Ci,Co] (HWIO), zero padding. */
export function conv2dRef(x: Arr, w: Arr, bias: Float64Array | null, o: ConvRefOptions): Arr {
  const [n, h, wd, ci] = x.shape;
  const [kh, kw, , co] = w.shape;
  const oh = Math.floor((h + 2 * o.padding[0] - o.dilation[0] * (kh - 1) - 1) / o.stride[0]) + 1;
  const ow = Math.floor((wd + 2 * o.padding[1] - o.dilation[1] * (kw - 1) - 1) / o.stride[1]) + 1;
  const shape = [n, oh, ow, co];
  const out = new Float64Array(size(shape));
  for (let b = 0; b < n; b++)
    for (let y = 0; y < oh; y++)
      for (let xx = 0; xx < ow; xx++)
        for (let c = 0; c < co; c++) {
          let acc = bias ? bias[c] : 0;
          for (let i = 0; i < kh; i++) {
            const iy = y * o.stride[0] - o.padding[0] + i * o.dilation[0];
            if (iy < 0 || iy >= h) continue;
            for (let j = 0; j < kw; j++) {
              const ix = xx * o.stride[1] - o.padding[1] + j * o.dilation[1];
              if (ix < 0 || ix >= wd) continue;
              for (let k = 0; k < ci; k++) acc += x.values[idx4(x.shape, b, iy, ix, k)] * w.values[idx4(w.shape, i, j, k, c)];
            }
          }
          out[idx4(shape, b, y, xx, c)] = acc;
        }
  return { values: out, shape };
}

/** Scatter-form conv_transpose2d as PyTorch defines it: x [N,H,W,Ci], w [kh,kw,Co,Ci]. */
export function convTranspose2dRef(
  x: Arr,
  w: Arr,
  bias: Float64Array | null,
  o: ConvRefOptions & { outputPadding: [number, number] },
): Arr {
  const [n, h, wd, ci] = x.shape;
  const [kh, kw, co] = w.shape;
  const oh = (h - 1) * o.stride[0] - 2 * o.padding[0] + o.dilation[0] * (kh - 1) + o.outputPadding[0] + 1;
  const ow = (wd - 1) * o.stride[1] - 2 * o.padding[1] + o.dilation[1] * (kw - 1) + o.outputPadding[1] + 1;
  const shape = [n, oh, ow, co];
  const out = new Float64Array(size(shape));
  for (let b = 0; b < n; b++)
    for (let y = 0; y < oh; y++) for (let xx = 0; xx < ow; xx++) for (let c = 0; c < co; c++) out[idx4(shape, b, y, xx, c)] = bias ? bias[c] : 0;
  for (let b = 0; b < n; b++)
    for (let y = 0; y < h; y++)
      for (let xx = 0; xx < wd; xx++)
        for (let k = 0; k < ci; k++) {
          const v = x.values[idx4(x.shape, b, y, xx, k)];
          for (let i = 0; i < kh; i++) {
            const oy = y * o.stride[0] - o.padding[0] + i * o.dilation[0];
            if (oy < 0 || oy >= oh) continue;
            for (let j = 0; j < kw; j++) {
              const ox = xx * o.stride[1] - o.padding[1] + j * o.dilation[1];
              if (ox < 0 || ox >= ow) continue;
              for (let c = 0; c < co; c++) out[idx4(shape, b, oy, ox, c)] += v * w.values[idx4(w.shape, i, j, c, k)];
            }
          }
        }
  return { values: out, shape };
}

/** Depthwise (groups = C, one output per channel) conv and transposed conv; filter [kh,kw,C,1]. */
export function depthwiseConv2dRef(x: Arr, f: Arr, stride: number, padding: number): Arr {
  const [n, h, wd, c] = x.shape;
  const [kh, kw] = f.shape;
  const oh = Math.floor((h + 2 * padding - kh) / stride) + 1;
  const ow = Math.floor((wd + 2 * padding - kw) / stride) + 1;
  const shape = [n, oh, ow, c];
  const out = new Float64Array(size(shape));
  for (let b = 0; b < n; b++)
    for (let y = 0; y < oh; y++)
      for (let xx = 0; xx < ow; xx++)
        for (let ch = 0; ch < c; ch++) {
          let acc = 0;
          for (let i = 0; i < kh; i++)
            for (let j = 0; j < kw; j++) {
              const iy = y * stride - padding + i;
              const ix = xx * stride - padding + j;
              if (iy >= 0 && iy < h && ix >= 0 && ix < wd) acc += x.values[idx4(x.shape, b, iy, ix, ch)] * f.values[idx4(f.shape, i, j, ch, 0)];
            }
          out[idx4(shape, b, y, xx, ch)] = acc;
        }
  return { values: out, shape };
}

export function depthwiseConvTranspose2dRef(x: Arr, f: Arr, stride: number, padding: number): Arr {
  const [n, h, wd, c] = x.shape;
  const [kh, kw] = f.shape;
  const oh = (h - 1) * stride - 2 * padding + kh;
  const ow = (wd - 1) * stride - 2 * padding + kw;
  const shape = [n, oh, ow, c];
  const out = new Float64Array(size(shape));
  for (let b = 0; b < n; b++)
    for (let y = 0; y < h; y++)
      for (let xx = 0; xx < wd; xx++)
        for (let ch = 0; ch < c; ch++)
          for (let i = 0; i < kh; i++)
            for (let j = 0; j < kw; j++) {
              const oy = y * stride - padding + i;
              const ox = xx * stride - padding + j;
              if (oy >= 0 && oy < oh && ox >= 0 && ox < ow) {
                out[idx4(shape, b, oy, ox, ch)] += x.values[idx4(x.shape, b, y, xx, ch)] * f.values[idx4(f.shape, i, j, ch, 0)];
              }
            }
  return { values: out, shape };
}

/** Padding by an index map: `source(i, n)` gives the input index for padded position i (i may be < 0). */
function padBy(x: Arr, [left, right, top, bottom]: number[], source: (i: number, n: number) => number): Arr {
  const [n, h, w, c] = x.shape;
  const shape = [n, h + top + bottom, w + left + right, c];
  const out = new Float64Array(size(shape));
  for (let b = 0; b < n; b++)
    for (let y = 0; y < shape[1]; y++)
      for (let xx = 0; xx < shape[2]; xx++)
        for (let ch = 0; ch < c; ch++) {
          out[idx4(shape, b, y, xx, ch)] = x.values[idx4(x.shape, b, source(y - top, h), source(xx - left, w), ch)];
        }
  return { values: out, shape };
}

export const reflectionPadRef = (x: Arr, sides: number[]): Arr =>
  padBy(x, sides, (i, n) => (i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i));

export const replicationPadRef = (x: Arr, sides: number[]): Arr =>
  padBy(x, sides, (i, n) => Math.min(Math.max(i, 0), n - 1));

export function instanceNormRef(x: Arr, eps = 1e-5): Arr {
  const [n, h, w, c] = x.shape;
  const out = new Float64Array(x.values.length);
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++) {
      let mean = 0;
      for (let y = 0; y < h; y++) for (let xx = 0; xx < w; xx++) mean += x.values[idx4(x.shape, b, y, xx, ch)];
      mean /= h * w;
      let variance = 0;
      for (let y = 0; y < h; y++) for (let xx = 0; xx < w; xx++) variance += (x.values[idx4(x.shape, b, y, xx, ch)] - mean) ** 2;
      variance /= h * w;
      const inv = 1 / Math.sqrt(variance + eps);
      for (let y = 0; y < h; y++)
        for (let xx = 0; xx < w; xx++) {
          const i = idx4(x.shape, b, y, xx, ch);
          out[i] = (x.values[i] - mean) * inv;
        }
    }
  return { values: out, shape: [...x.shape] };
}

/** The official blur filters, built from their definition. */
export function blurFilterRef(taps: number[], channels: number, scale: number): Arr {
  const k = taps.length;
  const total = taps.reduce((a, b) => a + b, 0) ** 2;
  const values = new Float64Array(k * k * channels);
  for (let i = 0; i < k; i++)
    for (let j = 0; j < k; j++) for (let c = 0; c < channels; c++) values[(i * k + j) * channels + c] = (taps[i] * taps[j] * scale) / total;
  return { values, shape: [k, k, channels, 1] };
}

export function downsampleRef(x: Arr): Arr {
  return depthwiseConv2dRef(reflectionPadRef(x, [1, 1, 1, 1]), blurFilterRef([1, 2, 1], x.shape[3], 1), 2, 0);
}

/** The official `Upsample` from its definition: replicate pad 1, transposed conv, drop row/column 0 (and the last for even k). */
export function upsampleRef(x: Arr, filter: Arr = blurFilterRef([1, 3, 3, 1], x.shape[3], 4), stride = 2): Arr {
  const k = filter.shape[0];
  const full = depthwiseConvTranspose2dRef(replicationPadRef(x, [1, 1, 1, 1]), filter, stride, 1 + Math.floor((k - 1) / 2));
  const trim = k % 2 === 1 ? 0 : 1;
  const [n, h, w, c] = full.shape;
  const shape = [n, h - 1 - trim, w - 1 - trim, c];
  const out = new Float64Array(size(shape));
  for (let b = 0; b < n; b++)
    for (let y = 0; y < shape[1]; y++)
      for (let xx = 0; xx < shape[2]; xx++) for (let ch = 0; ch < c; ch++) out[idx4(shape, b, y, xx, ch)] = full.values[idx4(full.shape, b, y + 1, xx + 1, ch)];
  return { values: out, shape };
}

export function linearRef(x: Arr, w: Arr, bias: Float64Array | null): Arr {
  const [inF, outF] = w.shape;
  const rows = x.values.length / inF;
  const out = new Float64Array(rows * outF);
  for (let r = 0; r < rows; r++)
    for (let o = 0; o < outF; o++) {
      let acc = bias ? bias[o] : 0;
      for (let i = 0; i < inF; i++) acc += x.values[r * inF + i] * w.values[i * outF + o];
      out[r * outF + o] = acc;
    }
  return { values: out, shape: [...x.shape.slice(0, -1), outF] };
}

export function l2NormalizeRef(x: Arr, eps = 1e-7): Arr {
  const d = x.shape[x.shape.length - 1];
  const out = new Float64Array(x.values.length);
  for (let r = 0; r < x.values.length / d; r++) {
    let ss = 0;
    for (let i = 0; i < d; i++) ss += x.values[r * d + i] ** 2;
    const norm = Math.sqrt(ss) + eps;
    for (let i = 0; i < d; i++) out[r * d + i] = x.values[r * d + i] / norm;
  }
  return { values: out, shape: [...x.shape] };
}

export function leakyReluRef(x: Arr, slope: number): Arr {
  return { values: x.values.map((v) => (v > 0 ? v : v * slope)), shape: [...x.shape] };
}
