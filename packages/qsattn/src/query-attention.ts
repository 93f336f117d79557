// The differentiable half of query selection: the attention rows of the already-chosen queries, and the
// attention-weighted values. Only these rows reach the loss, so computing them alone gives the same values
// and gradients as the official code, which backpropagates through the whole HW×HW softmax.
import * as tf from '@tensorflow/tfjs-core';
import { gatherWindows, localKeys, localValues, resolveLocalWindow, type LocalWindowOptions } from './local-windows';
import { checkQueryMode, type QueryMode } from './query-mode';
import { gatherRowsPerImage, toTokens } from './tokens';

export interface QueryAttentionOptions {
  mode: QueryMode;
  /** The neighbourhood of `local` mode (and of `local_global`'s selection). */
  local?: LocalWindowOptions;
}

/** Dot products of query rows `[B, P, C]` with every token `[B, HW, C]` → `[B, P, HW]` (no scaling, as the official code). */
export function globalLogits(tokens: tf.Tensor3D, queries: tf.Tensor3D): tf.Tensor3D {
  // An explicit transpose: wasm's matMul is much slower with transposeB.
  return tf.tidy(() => tf.matMul(queries, tf.transpose(tokens, [0, 2, 1])));
}

/** Dot products of each position's token with its k² local keys → `[B, P, k²]`. */
export function localLogits(
  feat: tf.Tensor4D,
  positions: readonly ArrayLike<number>[],
  local: LocalWindowOptions = {},
): tf.Tensor3D {
  const { layout, windowSize } = resolveLocalWindow(local);
  return tf.tidy(() => {
    const keys = localKeys(gatherWindows(feat, positions, windowSize), layout);
    const centres = tf.expandDims(gatherRowsPerImage(toTokens(feat), positions), 2);
    return tf.sum(tf.mul(keys, centres), -1) as tf.Tensor3D;
  });
}

/**
 * The attention of the selected queries `ids` (per image, in selection order), with gradient.
 * `global`, `local_global`: rows of softmax(T·Tᵀ), `[B, n, HW]`. `local`: softmax over each query's k²
 * keys, `[B·n, 1, k²]` (the official shape).
 */
export function queryAttention(feat: tf.Tensor4D, ids: readonly ArrayLike<number>[], options: QueryAttentionOptions): tf.Tensor3D {
  checkQueryMode(options.mode);
  return tf.tidy(() => {
    if (options.mode === 'local') {
      const logits = localLogits(feat, ids, options.local);
      const [batch, n, cells] = logits.shape;
      return tf.reshape(tf.softmax(logits), [batch * n, 1, cells]);
    }
    const tokens = toTokens(feat);
    return tf.softmax(globalLogits(tokens, gatherRowsPerImage(tokens, ids)));
  });
}

/**
 * Applies a key pass's attention to `feat` (the key's own features, or the query image's): `[B·n, C]`.
 * `local` reads `feat`'s neighbourhoods at the key's selected `ids`; the other modes weigh all tokens.
 */
export function attendQueries(
  feat: tf.Tensor4D,
  attn: tf.Tensor3D,
  ids: readonly ArrayLike<number>[],
  options: QueryAttentionOptions,
): tf.Tensor2D {
  checkQueryMode(options.mode);
  const [batch, height, width, channels] = feat.shape;
  return tf.tidy(() => {
    if (options.mode === 'local') {
      const { layout, windowSize } = resolveLocalWindow(options.local);
      const values = localValues(gatherWindows(feat, ids, windowSize), layout);
      if (attn.shape[0] !== values.shape[0] || attn.shape[2] !== values.shape[1]) {
        throw new Error(`local attention [${attn.shape.join(', ')}] does not fit values [${values.shape.join(', ')}]`);
      }
      return tf.reshape(tf.matMul(attn, values), [values.shape[0], channels]);
    }
    if (attn.shape[0] !== batch || attn.shape[2] !== height * width) {
      throw new Error(`global attention [${attn.shape.join(', ')}] does not fit ${batch} image(s) of ${height * width} tokens`);
    }
    return tf.reshape(tf.matMul(attn, toTokens(feat)), [batch * attn.shape[1], channels]);
  });
}
