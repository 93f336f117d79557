import type { ByteImage } from './image';

/**
 * PIL's `Image.resize(size, Image.BICUBIC)` for 8-bit images, bit for bit: a separable convolution with the
 * a = −0.5 cubic kernel widened by the scale factor when shrinking (so it antialiases), coefficients in
 * 22-bit fixed point, a horizontal pass then a vertical pass, each rounded and clipped to 8 bits
 * (Pillow src/libImaging/Resample.c). The official transforms resize through PIL, so this is what makes our
 * crops the same pixels as theirs.
 */
export function resizeBicubic(image: ByteImage, width: number, height: number): ByteImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`resizeBicubic: the size must be positive integers, got ${width}×${height}`);
  }
  let out = image;
  if (width !== image.width) out = resampleAxis(out, width, 'horizontal');
  if (height !== image.height) out = resampleAxis(out, height, 'vertical');
  return out;
}

const PRECISION_BITS = 22;
const HALF = 1 << (PRECISION_BITS - 1);
const ONE = 1 << PRECISION_BITS;
const SUPPORT = 2;

function bicubic(x: number): number {
  const a = -0.5;
  if (x < 0) x = -x;
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

interface Coefficients {
  /** Coefficients per output position, `ksize` each, in fixed point. */
  weights: Int32Array;
  /** First input index and tap count per output position. */
  bounds: Int32Array;
  ksize: number;
}

/** Pillow's `precompute_coeffs` then `normalize_coeffs_8bpc`. */
function coefficients(inSize: number, outSize: number): Coefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = SUPPORT * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const weights = new Int32Array(outSize * ksize);
  const bounds = new Int32Array(outSize * 2);
  const k = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterScale;
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      k[x] = bicubic((x + xmin - center + 0.5) * ss);
      ww += k[x];
    }
    for (let x = 0; x < xmax; x++) {
      const w = ww !== 0 ? k[x] / ww : k[x];
      weights[xx * ksize + x] = w < 0 ? Math.trunc(-0.5 + w * ONE) : Math.trunc(0.5 + w * ONE);
    }
    bounds[2 * xx] = xmin;
    bounds[2 * xx + 1] = xmax;
  }
  return { weights, bounds, ksize };
}

/** Pillow's `clip8`: the 22-bit fixed-point sum shifted down and clamped to 0–255. */
function clip8(sum: number): number {
  const v = Math.floor(sum / ONE);
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

function resampleAxis(image: ByteImage, outSize: number, axis: 'horizontal' | 'vertical'): ByteImage {
  const { width, height, channels: c, data } = image;
  const horizontal = axis === 'horizontal';
  const outWidth = horizontal ? outSize : width;
  const outHeight = horizontal ? height : outSize;
  const { weights, bounds, ksize } = coefficients(horizontal ? width : height, outSize);
  // Step in the source between consecutive taps, and between consecutive positions across the other axis.
  const tapStride = horizontal ? c : width * c;
  const out = new Uint8Array(outWidth * outHeight * c);
  for (let y = 0; y < outHeight; y++) {
    for (let x = 0; x < outWidth; x++) {
      const pos = horizontal ? x : y;
      const first = bounds[2 * pos];
      const taps = bounds[2 * pos + 1];
      const base = horizontal ? (y * width + first) * c : (first * width + x) * c;
      const kOffset = pos * ksize;
      for (let ch = 0; ch < c; ch++) {
        let sum = HALF;
        for (let t = 0; t < taps; t++) sum += data[base + t * tapStride + ch] * weights[kOffset + t];
        out[(y * outWidth + x) * c + ch] = clip8(sum);
      }
    }
  }
  return { width: outWidth, height: outHeight, channels: c, data: out };
}
