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

/** A translation compared with its ground truth by measures that do not punish a stripe phase. */
export interface TargetMeasures {
  /** IoU of the object masks (`objectMask`) of the output and the target: the object kept in place and shape. */
  objectIoU: number;
  /**
   * The output's luma standard deviation inside the target's object divided by the target's own there: about 1
   * when striped as strongly as the target (in any phase), 0 when flat.
   */
  stripeContrast: number;
  /**
   * The mean absolute change from the input (over RGB, on [0, 1]) of the pixels more than one pixel away from the
   * target's object: 0 when the background is left alone.
   */
  backgroundChange: number;
}

/** `TargetMeasures` of one translation, from the output, the input it was made from, and the target. */
export function compareWithTarget(output: ImageInput, input: ImageInput, target: ImageInput): TargetMeasures {
  const out = toUnitImage(output, 'output');
  const inp = toUnitImage(input, 'input');
  const tgt = toUnitImage(target, 'target');
  for (const [im, what] of [[out, 'output'], [inp, 'input'], [tgt, 'target']] as const) rgbOnly(im, what);
  checkSameShape(out, inp, ['output', 'input']);
  checkSameShape(out, tgt, ['output', 'target']);
  const outMask = maskOf(out);
  const targetMask = maskOf(tgt);
  let intersection = 0;
  let union = 0;
  for (let i = 0; i < outMask.length; i++) {
    intersection += outMask[i] & targetMask[i];
    union += outMask[i] | targetMask[i];
  }
  const near = dilate(targetMask, out.width, out.height);
  let change = 0;
  let background = 0;
  for (let i = 0; i < near.length; i++) {
    if (near[i]) continue;
    for (let c = 0; c < 3; c++) change += Math.abs(out.data[3 * i + c] - inp.data[3 * i + c]);
    background++;
  }
  const targetStd = lumaStd(tgt, targetMask);
  return {
    objectIoU: union === 0 ? 1 : intersection / union,
    stripeContrast: targetStd === 0 ? 1 : lumaStd(out, targetMask) / targetStd,
    backgroundChange: background === 0 ? 0 : change / (3 * background),
  };
}

/** The mask grown by one pixel in every direction (3×3). */
function dilate(mask: Uint8Array, width: number, height: number): Uint8Array {
  const grown = new Uint8Array(mask.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!mask[y * width + x]) continue;
      for (let v = Math.max(0, y - 1); v <= Math.min(height - 1, y + 1); v++) {
        for (let u = Math.max(0, x - 1); u <= Math.min(width - 1, x + 1); u++) grown[v * width + u] = 1;
      }
    }
  }
  return grown;
}

/** The standard deviation of the image's luma over the mask's pixels (0 for an empty mask). */
function lumaStd(im: UnitImage, mask: Uint8Array): number {
  let n = 0;
  let sum = 0;
  let sumSquares = 0;
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) continue;
    const y = luma(im.data[3 * i], im.data[3 * i + 1], im.data[3 * i + 2]);
    n++;
    sum += y;
    sumSquares += y * y;
  }
  if (n === 0) return 0;
  const mean = sum / n;
  return Math.sqrt(Math.max(0, sumSquares / n - mean * mean));
}
