// The query selection of a recorded official step, and how ours is judged against it (SPEC "Conformance fixtures":
// entropies equal in float32 come out of the official sort in an unspecified order, so selections are not compared
// id for id).
import * as tf from '@tensorflow/tfjs-core';
import { lowestIds, queryEntropies, type QueryMode } from '@qsattn/qsattn';
import type { Comparison } from './tolerances';

/** float32's smallest normal number: recorded probabilities below it (denormals) carry too few bits to compare. */
const FLOAT32_MIN_NORMAL = 2 ** -126;
/** log of float32's smallest denormal: a recorded 0 means the probability underflowed below it. */
const LOG_UNDERFLOW = Math.log(2 ** -149);

/**
 * The positions whose rows of `softmax(T·Tᵀ)` the recorded attention `[B, n, HW]` holds, per image in recorded
 * order: the official `global` and `local_global` modes record the attention of their selected queries but not
 * the ids. `feat` holds the recorded source features (NHWC values) the attention was computed from.
 *
 * Every candidate row is recomputed in float64 as log-probabilities, which never underflow, and compared with the
 * recorded row in log space over its normal (not denormal) entries: near-one-hot rows, which all look alike as
 * probabilities, still differ in their small entries, which carry the query's logits. A recorded 0 counts against
 * a candidate whose probability there would not have underflowed. Each recorded row goes to the nearest
 * candidate, distinct rows to distinct positions, the closest matches first. Rows whose every entry but the peak
 * is below float32's range cannot be told apart, and are interchangeable: their attention carries no gradient.
 */
export function recoverGlobalSelection(feat: { shape: number[]; values: Float32Array }, attn: { shape: number[]; values: Float32Array }): Int32Array[] {
  const [batch, height, width, channels] = feat.shape;
  const count = height * width;
  const [attnBatch, n, attnCount] = attn.shape;
  if (attnBatch !== batch || attnCount !== count) {
    throw new Error(`recorded attention [${attn.shape.join(', ')}] does not fit ${batch} image(s) of ${count} positions`);
  }
  return Array.from({ length: batch }, (_, b) => {
    const tokens = feat.values.subarray(b * count * channels, (b + 1) * count * channels);
    // log softmax(T·Tᵀ) in float64, row by row: [HW, HW]
    const logRows = new Float64Array(count * count);
    for (let q = 0; q < count; q++) {
      const row = logRows.subarray(q * count, (q + 1) * count);
      let max = -Infinity;
      for (let j = 0; j < count; j++) {
        let dot = 0;
        for (let c = 0; c < channels; c++) dot += tokens[q * channels + c] * tokens[j * channels + c];
        row[j] = dot;
        max = Math.max(max, dot);
      }
      let sum = 0;
      for (let j = 0; j < count; j++) sum += Math.exp(row[j] - max);
      const lse = max + Math.log(sum);
      for (let j = 0; j < count; j++) row[j] -= lse;
    }
    const recorded = attn.values.subarray(b * n * count, (b + 1) * n * count);
    /** Largest log-space difference of recorded row i and candidate q, or `bound` as soon as it is reached. */
    const distance = (i: number, q: number, bound: number): number => {
      let m = 0;
      for (let j = 0; j < count && m < bound; j++) {
        const r = recorded[i * count + j];
        const logP = logRows[q * count + j];
        if (r >= FLOAT32_MIN_NORMAL) m = Math.max(m, Math.abs(Math.log(r) - logP));
        else if (r === 0) m = Math.max(m, logP - LOG_UNDERFLOW);
      }
      return m;
    };
    const nearest = (i: number, taken?: Uint8Array): { q: number; d: number } => {
      let best = { q: -1, d: Infinity };
      for (let q = 0; q < count; q++) {
        if (taken?.[q]) continue;
        const d = distance(i, q, best.d);
        if (d < best.d) best = { q, d };
      }
      return best;
    };
    const closeness = Array.from({ length: n }, (_, i) => nearest(i).d);
    const taken = new Uint8Array(count);
    const ids = new Int32Array(n);
    for (const i of [...closeness.keys()].sort((x, y) => closeness[x] - closeness[y])) {
      const { q } = nearest(i, taken);
      taken[q] = 1;
      ids[i] = q;
    }
    return ids;
  });
}

export interface SelectionCheck extends Comparison {
  /** Our own selection, per image, in ascending entropy. */
  ours: Int32Array[];
}

/**
 * Our selection on `feat` against the recorded one, by entropy (ours, on our features): every row we select has an
 * entropy no larger than the largest of the recorded selection, and vice versa, within SPEC's forward tolerance
 * (1e-4 of the largest entropy of the image's rows, or 1e-5). The error is the largest gap between the two
 * selections' largest entropies.
 */
export async function checkSelection(
  feat: tf.Tensor4D,
  recorded: readonly Int32Array[],
  options: { mode: QueryMode; local?: Parameters<typeof queryEntropies>[1]['local'] },
): Promise<SelectionCheck> {
  const entropies = queryEntropies(feat, { mode: options.mode, local: options.local });
  const values = (await entropies.data()) as Float32Array;
  entropies.dispose();
  const [batch, height, width] = feat.shape;
  const count = height * width;
  let error = 0;
  let tolerance = Infinity;
  const ours = recorded.map((want, b) => {
    const row = values.subarray(b * count, (b + 1) * count);
    const mine = lowestIds(row, want.length);
    const largest = (ids: Iterable<number>): number => Array.from(ids, (i) => row[i]).reduce((m, v) => Math.max(m, v), -Infinity);
    const gap = Math.abs(largest(mine) - largest(want));
    error = Number.isNaN(gap) ? Infinity : Math.max(error, gap);
    tolerance = Math.min(tolerance, Math.max(1e-5, 1e-4 * largest(row.keys())));
    return mine;
  });
  if (ours.length !== batch) throw new Error(`recorded selection has ${ours.length} image(s), features ${batch}`);
  return { error, tolerance, ok: error <= tolerance, ours };
}
