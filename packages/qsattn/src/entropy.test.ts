import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { TEST_BACKENDS, expectClose, expectNoLeaks, useBackend } from '../../core/src/testing/harness';
import { rowEntropy } from './entropy';
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
