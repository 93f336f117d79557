import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '@qsattn/core';
import { checkIdsPerImage, gatherRowsPerImage, toTokens } from './tokens';

/**
 * Random patch ids for a layer of `numTokens` positions: the first `min(numPatches, numTokens)` entries of
 * a random permutation, as the official `torch.randperm(HW)[:num_patches]`.
 */
export function randomPatchIds(numTokens: number, numPatches: number, rng: Rng): Int32Array {
  if (!Number.isInteger(numPatches) || numPatches <= 0) throw new Error(`numPatches must be a positive integer, got ${numPatches}`);
  return rng.permutation(numTokens).slice(0, Math.min(numPatches, numTokens));
}

/** The tokens at `ids` (the same positions in every image) → `[B·n, C]`, image-major. */
export function gatherPatches(feat: tf.Tensor4D, ids: ArrayLike<number>): tf.Tensor2D {
  const [batch, height, width, channels] = feat.shape;
  checkIdsPerImage([ids], 1, height * width, 'gatherPatches');
  return tf.tidy(() => {
    const picked = gatherRowsPerImage(toTokens(feat), Array.from({ length: batch }, () => ids));
    return tf.reshape(picked, [batch * ids.length, channels]);
  });
}
