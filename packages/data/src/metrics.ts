// Full-reference image measures against a target (the synthetic dataset's ground-truth translations).
import { DatasetError } from './errors';
import { checkSameShape, toUnitImage, type ImageInput, type UnitImage } from './image-input';

/** Peak signal-to-noise ratio in dB, with values in [0, 1] (peak 1); Infinity for identical images. */
export function psnr(output: ImageInput, target: ImageInput): number {
  const a = toUnitImage(output, 'output');
  const b = toUnitImage(target, 'target');
  checkSameShape(a, b, ['output', 'target']);
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) sum += (a.data[i] - b.data[i]) ** 2;
  const mse = sum / a.data.length;
  return mse === 0 ? Infinity : -10 * Math.log10(mse);
}

const SSIM_SIGMA = 1.5;
const SSIM_RADIUS = 5; // skimage: int(truncate 3.5 · σ + 0.5)
const SSIM_WEIGHTS = (() => {
  const w = Float64Array.from({ length: 2 * SSIM_RADIUS + 1 }, (_, i) => Math.exp(-0.5 * ((i - SSIM_RADIUS) / SSIM_SIGMA) ** 2));
  const total = w.reduce((s, v) => s + v, 0);
  return w.map((v) => v / total);
})();

/** scipy's mode 'reflect' (d c b a | a b c d | d c b a) for an index that may fall outside [0, n). */
function reflect(i: number, n: number): number {
  const period = 2 * n;
  let j = ((i % period) + period) % period;
  if (j >= n) j = period - 1 - j;
  return j;
}

/** A separable Gaussian blur of one channel plane (scipy.ndimage.gaussian_filter, σ 1.5, truncate 3.5). */
function gaussianBlur(plane: Float64Array, width: number, height: number): Float64Array {
  const tmp = new Float64Array(plane.length);
  const out = new Float64Array(plane.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let k = -SSIM_RADIUS; k <= SSIM_RADIUS; k++) s += SSIM_WEIGHTS[k + SSIM_RADIUS] * plane[y * width + reflect(x + k, width)];
      tmp[y * width + x] = s;
    }
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let k = -SSIM_RADIUS; k <= SSIM_RADIUS; k++) s += SSIM_WEIGHTS[k + SSIM_RADIUS] * tmp[reflect(y + k, height) * width + x];
      out[y * width + x] = s;
    }
  }
  return out;
}

function channelPlane(image: UnitImage, c: number): Float64Array {
  const plane = new Float64Array(image.width * image.height);
  for (let i = 0; i < plane.length; i++) plane[i] = image.data[i * image.channels + c];
  return plane;
}

/**
 * Structural similarity (Wang et al. 2004) as scikit-image's `structural_similarity(…, gaussian_weights=True,
 * sigma=1.5, use_sample_covariance=False, data_range=1, channel_axis=-1)` computes it: a Gaussian-weighted
 * SSIM map per channel, averaged away from a 5-pixel border, then over channels. 1 for identical images.
 */
export function ssim(output: ImageInput, target: ImageInput): number {
  const a = toUnitImage(output, 'output');
  const b = toUnitImage(target, 'target');
  checkSameShape(a, b, ['output', 'target']);
  const { width, height } = a;
  if (width <= 2 * SSIM_RADIUS || height <= 2 * SSIM_RADIUS) {
    throw new DatasetError('bad-option', 'output', `is ${width}×${height}; SSIM needs images of at least 11×11`);
  }
  const c1 = 0.01 ** 2;
  const c2 = 0.03 ** 2;
  let total = 0;
  for (let c = 0; c < a.channels; c++) {
    const x = channelPlane(a, c);
    const y = channelPlane(b, c);
    const product = (p: Float64Array, q: Float64Array): Float64Array => p.map((v, i) => v * q[i]);
    const [mx, my, mxx, myy, mxy] = [x, y, product(x, x), product(y, y), product(x, y)].map((p) => gaussianBlur(p, width, height));
    let sum = 0;
    let count = 0;
    for (let row = SSIM_RADIUS; row < height - SSIM_RADIUS; row++) {
      for (let col = SSIM_RADIUS; col < width - SSIM_RADIUS; col++) {
        const i = row * width + col;
        const vx = mxx[i] - mx[i] * mx[i];
        const vy = myy[i] - my[i] * my[i];
        const cov = mxy[i] - mx[i] * my[i];
        sum += ((2 * mx[i] * my[i] + c1) * (2 * cov + c2)) / ((mx[i] ** 2 + my[i] ** 2 + c1) * (vx + vy + c2));
        count++;
      }
    }
    total += sum / count;
  }
  return total / a.channels;
}
