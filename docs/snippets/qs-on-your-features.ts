// QS-Attn on features of your own: any NHWC tensor from any tfjs model. This file is the docs' example code
// and runs as it is, in the docs page (examples/qs-module) and in the test suite.
import * as tf from '@tensorflow/tfjs-core';
import { attendQueries, queryAttention, selectQueries, type QueryMode } from '@qsattn/qsattn';
import { attentionPanel, entropyPanel, selectionMaps, type Raster } from '@qsattn/viz';

/**
 * Stand-in features for an image `[H, W, 3]` in [0, 1]: at a quarter of its size, its colour and its horizontal
 * and vertical differences (5 channels). Use a layer of your own network instead.
 */
export function imageFeatures(image: tf.Tensor3D): tf.Tensor4D {
  return tf.tidy(() => {
    const [h, w] = image.shape;
    const small = tf.image.resizeBilinear(tf.expandDims(image, 0) as tf.Tensor4D, [Math.max(4, h >> 2), Math.max(4, w >> 2)]);
    const dx = tf.sub(small, tf.concat([tf.slice(small, [0, 0, 1, 0], [-1, -1, -1, -1]), tf.slice(small, [0, 0, -1 + small.shape[2], 0], [-1, -1, 1, -1])], 2));
    const dy = tf.sub(small, tf.concat([tf.slice(small, [0, 1, 0, 0], [-1, -1, -1, -1]), tf.slice(small, [0, -1 + small.shape[1], 0, 0], [-1, 1, -1, -1])], 1));
    const gray = (t: tf.Tensor4D): tf.Tensor4D => tf.mean(t, 3, true);
    // Scaled so that the attention rows are far from uniform, as a trained network's are.
    return tf.mul(tf.concat([small, gray(dx as tf.Tensor4D), gray(dy as tf.Tensor4D)], 3), 8) as tf.Tensor4D;
  });
}

export interface QsResult {
  /** The selected query positions of the first image (row-major over the feature map). */
  ids: Int32Array;
  /** Shape of the attended values the PatchNCE loss would take: `[B·n, C]`. */
  attendedShape: number[];
  entropy: Raster;
  attention: Raster;
}

/** Selects queries on `feat` as QS-Attn does, applies their attention, and draws the selection over `image`. */
export async function qsOnFeatures(feat: tf.Tensor4D, image: Raster, mode: QueryMode, numQueries: number): Promise<QsResult> {
  // 1. The n positions of lowest attention entropy, per image (not differentiable, as in the paper).
  const ids = selectQueries(feat, { mode, numQueries });
  // 2. Their attention rows (differentiable), and the attended values that the contrastive loss compares.
  const attended = tf.tidy(() => attendQueries(feat, queryAttention(feat, ids, { mode }), ids, { mode }));
  const attendedShape = attended.shape;
  attended.dispose();
  // 3. The same selection as pictures: entropy with the selected queries, one query's attention row.
  const [map] = await selectionMaps(feat, { mode, numQueries });
  return { ids: ids[0], attendedShape, entropy: entropyPanel(image, map), attention: attentionPanel(image, map) };
}
