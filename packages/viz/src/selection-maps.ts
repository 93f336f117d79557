// What QS-Attn selects, for any NHWC features: every position's attention entropy, the positions chosen as
// queries (the lowest entropies), and the attention row of one query — computed with @qsattn/qsattn's own
// selection, so the maps show exactly what training uses.
import * as tf from '@tensorflow/tfjs-core';
import { lowestIds, queryAttention, queryEntropies, QUERY_MODES, type LocalWindowOptions, type QueryMode } from '@qsattn/qsattn';

export interface SelectionMapOptions {
  mode: QueryMode;
  /** Queries per image (the model's `numPatches`); at most H·W. */
  numQueries: number;
  /** The neighbourhood of `local` and `local_global` (layout, window size), as given to the model. */
  local?: LocalWindowOptions;
  /**
   * The query whose attention row is shown: a position id (row-major over H then W), or `'lowest'` (default),
   * the lowest-entropy position, the first query chosen.
   */
  query?: number | 'lowest';
}

/** How one query's attention row lies over the feature map. */
export type AttentionExtent =
  /** `global` and `local_global`: a weight for every position (H·W values). */
  | { kind: 'global' }
  /**
   * `local`: one weight per key of the k×k window centred on the query (k² values, row-major over the window).
   * With the `official-code` layout the keys are the official code's pieces of the unfolded window, not the
   * window cells themselves (see @qsattn/qsattn's `LocalLayout`); they are drawn at the cells all the same.
   */
  | { kind: 'window'; windowSize: number; layout: string };

export interface SelectionMap {
  mode: QueryMode;
  height: number;
  width: number;
  /** Attention entropy of every position, `H·W`, row-major (local entropy in `local` and `local_global`). */
  entropy: Float32Array;
  /** The selected query positions, lowest entropy first (what training takes). */
  selected: Int32Array;
  /** The position whose attention row `attention` is. */
  query: number;
  attention: Float32Array;
  extent: AttentionExtent;
}

/**
 * The selection maps of features `[B, H, W, C]`, one per image. Reads the results back asynchronously and frees
 * every tensor it makes; `feat` is left as it is. Call it between training steps, never during one.
 */
export async function selectionMaps(feat: tf.Tensor4D, options: SelectionMapOptions): Promise<SelectionMap[]> {
  const { mode, numQueries } = options;
  if (!(QUERY_MODES as readonly string[]).includes(mode)) throw new Error(`unknown QS mode '${mode}': choose one of ${QUERY_MODES.join(', ')}`);
  if (!Number.isInteger(numQueries) || numQueries <= 0) throw new Error(`numQueries must be a positive integer, got ${numQueries}`);
  if (feat.rank !== 4) throw new Error(`selectionMaps expects NHWC features [B, H, W, C], got shape [${feat.shape.join(', ')}]`);
  const [batch, height, width] = feat.shape;
  const count = height * width;
  const query = options.query ?? 'lowest';
  if (query !== 'lowest' && (!Number.isInteger(query) || query < 0 || query >= count)) {
    throw new RangeError(`query ${query} is not a position of the ${height}×${width} map: give an id in [0, ${count}) or 'lowest'`);
  }
  const entropyTensor = queryEntropies(feat, { mode, local: options.local });
  const entropies = (await entropyTensor.data()) as Float32Array;
  entropyTensor.dispose();
  const maps: SelectionMap[] = [];
  for (let b = 0; b < batch; b++) {
    const entropy = entropies.slice(b * count, (b + 1) * count);
    const selected = lowestIds(entropy, Math.min(numQueries, count));
    const q = query === 'lowest' ? selected[0] : query;
    const rowTensor = tf.tidy(() => tf.reshape(queryAttention(tf.slice(feat, [b, 0, 0, 0], [1, -1, -1, -1]), [[q]], { mode, local: options.local }), [-1]));
    const attention = (await rowTensor.data()) as Float32Array;
    rowTensor.dispose();
    const extent: AttentionExtent =
      mode === 'local'
        ? { kind: 'window', windowSize: options.local?.windowSize ?? 7, layout: options.local?.layout ?? 'official-code' }
        : { kind: 'global' };
    maps.push({ mode, height, width, entropy, selected, query: q, attention: Float32Array.from(attention), extent });
  }
  return maps;
}
