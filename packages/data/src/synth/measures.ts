// The synthetic dataset's own measures of a translation: was the object kept, did its style change.
import { DatasetError } from '../errors';
import { checkSameShape, toUnitImage, type ImageInput, type UnitImage } from '../image-input';
import { STRIPE_DARK, STRIPE_LIGHT, stripePeriod } from './scene';

/**
 * A pixel counts as background when its green exceeds both red and blue by this much (on [0, 1]): the
 * background is at least 0.12 greener everywhere, objects and stripes are brown or grey (≤ 0).
 */
const GREEN_MARGIN = 0.06;

const luma = (r: number, g: number, b: number): number => 0.299 * r + 0.587 * g + 0.114 * b;

/** The stripes' luma contrast as rendered: what a perfect stripe rendering scores in `domainChanged`. */
const STRIPE_CONTRAST = luma(...STRIPE_LIGHT) - luma(...STRIPE_DARK);

function rgbOnly(image: UnitImage, what: string): void {
  if (image.channels !== 3) {
    throw new DatasetError('bad-option', what, `has ${image.channels} channel(s); the synthetic measures need RGB images`);
  }
}

/**
 * The object mask of a synthetic-style image, recovered from its pixels: 1 where the pixel is not background
 * green (green ≤ max(red, blue) + 0.06), then a 3×3 majority vote to drop isolated pixels.
 */
export function objectMask(image: ImageInput): Uint8Array {
  const im = toUnitImage(image, 'image');
  rgbOnly(im, 'image');
  return maskOf(im);
}

function maskOf(im: UnitImage): Uint8Array {
  const { width, height, data } = im;
  const raw = new Uint8Array(width * height);
  for (let i = 0; i < raw.length; i++) {
    const [r, g, b] = [data[3 * i], data[3 * i + 1], data[3 * i + 2]];
    raw[i] = g - Math.max(r, b) > GREEN_MARGIN ? 0 : 1;
  }
  const mask = new Uint8Array(raw.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let votes = 0;
      let voters = 0;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const [u, v] = [x + dx, y + dy];
          if (u < 0 || v < 0 || u >= width || v >= height) continue;
          votes += raw[v * width + u];
          voters++;
        }
      }
      mask[y * width + x] = 2 * votes > voters ? 1 : 0;
    }
  }
  return mask;
}

/**
 * How well a translation kept the input's content, in [0, 1]: the intersection over union of the object mask
 * recovered (`objectMask`) from the output and from the input. 1 when the object has the same silhouette and
 * place, whatever its colour or texture; near 0 for an unrelated image. (1 when neither image has an object.)
 */
export function contentKept(output: ImageInput, input: ImageInput): number {
  const out = toUnitImage(output, 'output');
  const inp = toUnitImage(input, 'input');
  rgbOnly(out, 'output');
  checkSameShape(out, inp, ['output', 'input']);
  const a = maskOf(out);
  const b = maskOf(inp);
  let intersection = 0;
  let union = 0;
  for (let i = 0; i < a.length; i++) {
    intersection += a[i] & b[i];
    union += a[i] | b[i];
  }
  return union === 0 ? 1 : intersection / union;
}

/** Pairs needed before `domainChanged` trusts a direction. */
const MIN_PAIRS = 16;

/**
 * How strongly the image shows domain B's style, in [0, 1]: zebra stripes of the synthetic period P inside the
 * object. With Y the luma of the pixels inside the object (`objectMask`) and D(l) the mean |Y(p) − Y(p + l)|
 * over pairs of object pixels l apart along a row (or a column), the score is (D(P/2) − D(P)) divided by the
 * rendered stripes' contrast, for the better of the two directions, clamped to [0, 1]. Stripes of period P
 * differ strongly half a period apart and not a whole period apart; a flat object scores 0, and so does
 * unstructured noise (equal at both lags). A rendered B image scores about 0.8 (its anti-aliased stripe
 * edges lower it); an A image about 0. `size` is the synthetic image side that sets P (default: the width).
 */
export function domainChanged(output: ImageInput, size?: number): number {
  const im = toUnitImage(output, 'output');
  rgbOnly(im, 'output');
  const { width, height, data } = im;
  const mask = maskOf(im);
  const y = new Float32Array(width * height);
  for (let i = 0; i < y.length; i++) y[i] = luma(data[3 * i], data[3 * i + 1], data[3 * i + 2]);
  const period = stripePeriod(size ?? width);
  const meanDiff = (lag: number, horizontal: boolean): number | null => {
    let sum = 0;
    let pairs = 0;
    for (let row = 0; row < height; row++) {
      for (let col = 0; col < width; col++) {
        const [r2, c2] = horizontal ? [row, col + lag] : [row + lag, col];
        if (r2 >= height || c2 >= width) continue;
        const [i, j] = [row * width + col, r2 * width + c2];
        if (!mask[i] || !mask[j]) continue;
        sum += Math.abs(y[i] - y[j]);
        pairs++;
      }
    }
    return pairs >= MIN_PAIRS ? sum / pairs : null;
  };
  let best = 0;
  for (const horizontal of [true, false]) {
    const half = meanDiff(period / 2, horizontal);
    const whole = meanDiff(period, horizontal);
    if (half === null || whole === null) continue;
    best = Math.max(best, (half - whole) / STRIPE_CONTRAST);
  }
  return Math.min(1, Math.max(0, best));
}
