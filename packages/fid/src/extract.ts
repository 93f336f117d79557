// Feature extraction over many images, in batches, on the active backend.
import * as tf from '@tensorflow/tfjs-core';
import { FidError } from './errors';
import { INCEPTION_INPUT_SIZE, type FidDims, type FidInceptionV3 } from './inception';

/** An 8-bit RGB image, row-major HWC (what `decodeImageFile` of @qsattn/data returns). */
export interface RgbImage {
  width: number;
  height: number;
  channels: number;
  data: Uint8Array;
}

export interface ExtractProgress {
  done: number;
  total: number;
}

export interface ExtractOptions {
  dims?: readonly FidDims[];
  /** Images per forward pass (default 10). */
  batchSize?: number;
  onProgress?: (progress: ExtractProgress) => void;
}

/** Features of many images: per requested size, `count` rows of `dims` float32 values. */
export type FeatureSet = Map<FidDims, Float32Array>;

/**
 * pytorch-fid's get_activations: each image as ToTensor gives it (bytes / 255), resized by the network to
 * 299×299, in batches of `batchSize` (images of different sizes are resized one by one first, which gives the
 * same values as resizing them together).
 */
export async function extractFeatures(
  net: FidInceptionV3,
  count: number,
  load: (index: number) => Promise<RgbImage> | RgbImage,
  options: ExtractOptions = {},
): Promise<FeatureSet> {
  const dims = options.dims ?? [2048];
  const batchSize = options.batchSize ?? 10;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new FidError(`batch size must be a positive integer, got ${batchSize}`);
  const out: FeatureSet = new Map(dims.map((d) => [d, new Float32Array(count * d)]));
  options.onProgress?.({ done: 0, total: count });
  for (let start = 0; start < count; start += batchSize) {
    const end = Math.min(count, start + batchSize);
    const images: RgbImage[] = [];
    for (let i = start; i < end; i++) {
      const image = await load(i);
      if (image.channels !== 3 || image.data.length !== image.width * image.height * 3) {
        throw new FidError(`image ${i}: expected 8-bit RGB data of ${image.width}×${image.height}×3`);
      }
      images.push(image);
    }
    const batch = tf.tidy(() =>
      tf.concat(
        images.map((image) => {
          // ToTensor's byte / 255 in float32 (a float64 quotient rounded to float32 is the float32 quotient)
          const x = tf.tensor4d(Float32Array.from(image.data, (v) => v / 255), [1, image.height, image.width, 3]);
          const same = image.height === INCEPTION_INPUT_SIZE && image.width === INCEPTION_INPUT_SIZE;
          return same ? x : tf.image.resizeBilinear(x, [INCEPTION_INPUT_SIZE, INCEPTION_INPUT_SIZE], false, true);
        }),
        0,
      ),
    );
    const features = net.features(batch, { dims });
    batch.dispose();
    try {
      for (const [k, d] of dims.entries()) out.get(d)!.set((await features[k].data()) as Float32Array, start * d);
    } finally {
      tf.dispose(features);
    }
    options.onProgress?.({ done: end, total: count });
  }
  return out;
}
