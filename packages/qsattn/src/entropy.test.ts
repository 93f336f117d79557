import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { TEST_BACKENDS, expectClose, expectNoLeaks, useBackend } from '../../core/src/testing/harness';
import { rowEntropy, softmaxEntropy } from './entropy';
import { entropy64 } from './testing/reference';

describe.each(TEST_BACKENDS)('rowEntropy on %s', (backend) => {
  test('counts 0·log 0 as 0 (no NaN) and matches −Σ p log p', async () => {
    await useBackend(backend);
    const rows = [
      [1, 0, 0, 0],
      [0.5, 0.5, 0, 0],
      [0.25, 0.25, 0.25, 0.25],
      [0.7, 0.2, 0.1, 0],
    ];
    await expectNoLeaks(async () => {
      const probs = tf.tensor2d(rows);
      const e = rowEntropy(probs);
      probs.dispose();
      expect(e.shape).toEqual([4]);
      const values = await e.data();
      expect(values.every(Number.isFinite)).toBe(true);
      expectClose(values, rows.map(entropy64), { rel: 1e-6, abs: 1e-7 });
      return e;
    });
  });
});

/**
 * Entropy of softmax(z) in float64 as `log S + Σ exp(s)·(−s) / S` with `s = z − max`, `S − 1` summed without
 * the maximum and `log1p` (−Σ p log p loses the near-one-hot rows in float64 too; checked against mpmath).
 */
function softmaxEntropy64(z: number[]): number {
  const m = Math.max(...z);
  const s = z.map((v) => v - m);
  const rest = s.filter((v) => v < 0).reduce((acc, v) => acc + Math.exp(v), s.filter((v) => v === 0).length - 1);
  return Math.log1p(rest) + s.reduce((acc, v) => acc - Math.exp(v) * v, 0) / (1 + rest);
}

describe.each(TEST_BACKENDS)('softmaxEntropy on %s', (backend) => {
  const rows = [
    [0.3, -1.2, 2.5, 0.7, 0.7, -0.4], // spread out
    [1, 1, 1, 1, 1, 1], // uniform: log 6
    [4, 4, 0, -3, -9, -2], // two maxima
    [0, -20, -25, -30, -22, -40], // near one-hot: H ≈ 4e-8, where p_max rounds to 1 in float32
    [12, -40, -45, -60, -75, -50], // H ≈ 1e-22: the official formulation gives 0 or denormals here
    [7, -80, -95, -86, -81, -99], // H ≈ 1e-35
    [0, -200, -300, -250, -220, -400], // every exp underflows: exactly 0, as the official code
  ];

  test('matches float64 across the whole range, with no cancellation', async () => {
    await useBackend(backend);
    await expectNoLeaks(async () => {
      const logits = tf.tensor2d(rows);
      const e = softmaxEntropy(logits);
      logits.dispose();
      const values = await e.data();
      rows.forEach((z, i) => {
        const want = softmaxEntropy64(z);
        // relative accuracy even for the tiniest entropies (float32 denormals lose bits below ~1e-38)
        expect(Math.abs(values[i] - want), `row ${i}: ${values[i]} vs ${want}`).toBeLessThanOrEqual(1e-5 * want + (want < 1e-36 ? 1e-40 : 0));
      });
      return e;
    });
  });

  test('orders rows as the official formulation does where that one resolves them', async () => {
    await useBackend(backend);
    const z = tf.randomNormal([64, 49], 0, 3, 'float32', 7);
    const ours = await softmaxEntropy(z).data();
    const official = await rowEntropy(tf.softmax(z)).data();
    z.dispose();
    expectClose(ours, official, { rel: 1e-5, abs: 1e-6 });
    const order = (v: Float32Array | Int32Array | Uint8Array): number[] => [...v.keys()].sort((a, b) => v[a] - v[b]);
    expect(order(ours)).toEqual(order(official));
  });
});
