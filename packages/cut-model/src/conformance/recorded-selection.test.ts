import * as tf from '@tensorflow/tfjs-core';
import { queryAttention, queryEntropies } from '@qsattn/qsattn';
import { describe, expect, test } from 'vitest';
import { TEST_BACKENDS, useBackend } from '../../../core/src/testing/harness';
import { checkSelection, recoverGlobalSelection } from './recorded-selection';

/** Features whose attention rows range from spread out to near-one-hot (a few tokens of large norm). */
function features(seed: number, scale: number): tf.Tensor4D {
  return tf.tidy(() => {
    const base = tf.randomNormal([2, 4, 5, 6], 0, 1, 'float32', seed);
    const norms = tf.reshape(tf.linspace(0.2, scale, 20), [1, 4, 5, 1]);
    return tf.mul(base, norms) as tf.Tensor4D;
  });
}

describe.each(TEST_BACKENDS)('the recorded selection on %s', (backend) => {
  test.each([1.5, 4, 9])('global ids are recovered from recorded attention rows (feature scale %s)', async (scale) => {
    await useBackend(backend);
    const feat = features(3, scale);
    const ids = [Int32Array.from([7, 0, 19, 3, 11, 16, 5, 8]), Int32Array.from([12, 1, 18, 4, 9, 6, 15, 2])];
    const attn = queryAttention(feat, ids, { mode: 'global' });
    const recovered = recoverGlobalSelection(
      { shape: feat.shape, values: feat.dataSync() as Float32Array },
      { shape: attn.shape, values: attn.dataSync() as Float32Array },
    );
    expect(recovered.map((r) => Array.from(r))).toEqual(ids.map((r) => Array.from(r)));
    tf.dispose([feat, attn]);
  });

  test('a recording that does not fit the features is refused', async () => {
    await useBackend(backend);
    expect(() =>
      recoverGlobalSelection({ shape: [1, 2, 2, 3], values: new Float32Array(12) }, { shape: [1, 2, 5], values: new Float32Array(10) }),
    ).toThrow(/does not fit 1 image\(s\) of 4 positions/);
  });

  test.each(['global', 'local', 'local_global'] as const)('%s: our selection is judged by entropy, not id for id', async (mode) => {
    await useBackend(backend);
    const feat = features(5, 3);
    const entropies = queryEntropies(feat, { mode });
    const values = entropies.dataSync();
    entropies.dispose();
    const order = (b: number): number[] => [...Array(20).keys()].sort((i, j) => values[b * 20 + i] - values[b * 20 + j]);
    // The same set in another order: ok.
    const same = [0, 1].map((b) => Int32Array.from(order(b).slice(0, 6).reverse()));
    const ok = await checkSelection(feat, same, { mode });
    expect(ok.ok).toBe(true);
    expect(ok.error).toBe(0);
    expect(ok.ours.map((r) => Array.from(r))).toEqual([0, 1].map((b) => order(b).slice(0, 6)));
    // The highest-entropy row in place of the sixth lowest: out.
    const worse = [0, 1].map((b) => Int32Array.from([...order(b).slice(0, 5), order(b)[19]]));
    const bad = await checkSelection(feat, worse, { mode });
    expect(bad.ok).toBe(false);
    const gap = (b: number): number => values[b * 20 + order(b)[19]] - values[b * 20 + order(b)[5]];
    expect(bad.error).toBeCloseTo(Math.max(gap(0), gap(1)), 5);
    feat.dispose();
  });
});
