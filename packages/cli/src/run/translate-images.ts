import * as tf from '@tensorflow/tfjs-core';
import { compareWithTarget, contentKept, domainChanged, psnr, ssim, toByteImage, toFloatImage, type ByteImage } from '@qsattn/data';
import { preprocessForTest, type TestImage, type TestPreprocess } from './datasets';

/** Anything that translates NHWC images in [−1, 1]: a generator, a model, or the identity. */
export interface Translator {
  translate(x: tf.Tensor4D): tf.Tensor4D;
}

/** The identity translation: the untranslated input, the baseline a model must beat. */
export const IDENTITY: Translator = { translate: (x) => tf.clone(x) };

/** Translates one 8-bit image and writes the result as the official `tensor2im` does (truncated to 8 bits). */
export async function translateImage(translator: Translator, image: ByteImage): Promise<ByteImage> {
  const input = toFloatImage(image);
  const output = tf.tidy(() => translator.translate(tf.tensor4d(input.data, [1, image.height, image.width, image.channels])));
  const [, height, width, channels] = output.shape;
  const data = (await output.data()) as Float32Array; // asynchronous: GPU backends read back no other way
  output.dispose();
  return toByteImage({ width, height, channels: channels as 1 | 3, data });
}

export interface TranslatedImage {
  name: string;
  /** The input after test-time preprocessing (what the model saw). */
  input: ByteImage;
  output: ByteImage;
  /** The ground truth, preprocessed as the input, when the dataset has one. */
  target?: ByteImage;
}

/** Preprocesses each test image as the official test script does, translates it and hands it to `use`. */
export async function translateAll(
  translator: Translator,
  images: readonly TestImage[],
  preprocess: TestPreprocess,
  use: (result: TranslatedImage, index: number) => Promise<void> | void,
): Promise<void> {
  for (const [index, image] of images.entries()) {
    const input = preprocessForTest(await image.load(), preprocess, image.name);
    const target = image.loadTarget === undefined ? undefined : preprocessForTest(await image.loadTarget(), preprocess, `${image.name} (target)`);
    await use({ name: image.name, input, output: await translateImage(translator, input), target }, index);
  }
}

/** Means over a test set of the dataset's measures of one translation. */
export interface Scores {
  /**
   * Against the ground-truth translations (absent without targets), blind to the stripes' phase (see
   * compareWithTarget): object-mask IoU, luma contrast inside the target's object relative to the target's, and
   * the mean absolute change of the background.
   */
  objectIoU?: number;
  stripeContrast?: number;
  backgroundChange?: number;
  /**
   * PSNR (dB) and SSIM to the ground-truth translations (absent without targets). Stripes in another phase than
   * the target's score below the untranslated input here, so these do not say whether a translation is right.
   */
  psnr?: number;
  ssim?: number;
  /** The synthetic dataset's measures: object kept (IoU of masks with the input), stripes shown. */
  contentKept: number;
  domainChanged: number;
}

export const SCORE_NAMES: Record<keyof Scores, string> = {
  objectIoU: 'object IoU with target',
  stripeContrast: 'stripe contrast / target',
  backgroundChange: 'background change',
  psnr: 'PSNR to target (dB)',
  ssim: 'SSIM to target',
  contentKept: 'content kept',
  domainChanged: 'domain changed',
};

/** Accumulates `Scores` image by image. */
export class ScoreSum {
  private sums = { objectIoU: 0, stripeContrast: 0, backgroundChange: 0, psnr: 0, ssim: 0, contentKept: 0, domainChanged: 0 };
  private count = 0;
  private targets = 0;

  add(output: ByteImage, input: ByteImage, target: ByteImage | undefined): void {
    this.count++;
    this.sums.contentKept += contentKept(output, input);
    this.sums.domainChanged += domainChanged(output);
    if (target !== undefined) {
      this.targets++;
      const compared = compareWithTarget(output, input, target);
      this.sums.objectIoU += compared.objectIoU;
      this.sums.stripeContrast += compared.stripeContrast;
      this.sums.backgroundChange += compared.backgroundChange;
      // PSNR is infinite for an exact match; cap it at 100 dB so that a mean stays finite.
      this.sums.psnr += Math.min(100, psnr(output, target));
      this.sums.ssim += ssim(output, target);
    }
  }

  get images(): number {
    return this.count;
  }

  mean(): Scores {
    const n = Math.max(1, this.count);
    const scores: Scores = { contentKept: this.sums.contentKept / n, domainChanged: this.sums.domainChanged / n };
    if (this.targets === this.count && this.count > 0) {
      scores.objectIoU = this.sums.objectIoU / n;
      scores.stripeContrast = this.sums.stripeContrast / n;
      scores.backgroundChange = this.sums.backgroundChange / n;
      scores.psnr = this.sums.psnr / n;
      scores.ssim = this.sums.ssim / n;
    }
    return scores;
  }
}

export interface Evaluation {
  images: number;
  model: Scores;
  identity: Scores;
}

/** Scores a translator and the identity baseline on the same preprocessed test images. */
export async function evaluate(translator: Translator, images: readonly TestImage[], preprocess: TestPreprocess): Promise<Evaluation> {
  const model = new ScoreSum();
  const identity = new ScoreSum();
  await translateAll(translator, images, preprocess, ({ input, output, target }) => {
    model.add(output, input, target);
    identity.add(input, input, target);
  });
  return { images: model.images, model: model.mean(), identity: identity.mean() };
}
