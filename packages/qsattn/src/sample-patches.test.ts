import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@qsattn/core';
import { describe, expect, test } from 'vitest';
import { TEST_BACKENDS, expectNoLeaks, useBackend } from '../../core/src/testing/harness';
import { gatherPatches, randomPatchIds } from './sample-patches';

describe('randomPatchIds', () => {
  test('is reproducible from the seed: the first min(n, HW) entries of a permutation', () => {
    const a = randomPatchIds(100, 16, new Rng(42));
    expect(a).toEqual(randomPatchIds(100, 16, new Rng(42)));
    expect(a).toEqual(new Rng(42).permutation(100).slice(0, 16));
    expect(a).not.toEqual(randomPatchIds(100, 16, new Rng(43)));
    expect(new Set(a).size).toBe(16);
    expect([...randomPatchIds(9, 64, new Rng(1))].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  test('rejects numPatches <= 0', () => {
    expect(() => randomPatchIds(10, 0, new Rng(1))).toThrow(/numPatches must be a positive integer/);
    expect(() => randomPatchIds(10, -3, new Rng(1))).toThrow(/numPatches/);
  });
});

describe.each(TEST_BACKENDS)('gatherPatches on %s', (backend) => {
  test('takes the same positions from every image, image-major, row-major over H then W', async () => {
    await useBackend(backend);
    // Channel c of position (b, h, w) holds 1000·b + 10·(h·W + w) + c.
    const values = Float32Array.from({ length: 2 * 3 * 4 * 2 }, (_, i) => {
      const c = i % 2;
      const p = Math.floor(i / 2) % 12;
      const b = Math.floor(i / 24);
      return 1000 * b + 10 * p + c;
    });
    const feat = tf.tensor4d(values, [2, 3, 4, 2]);
    await expectNoLeaks(async () => {
      const x = gatherPatches(feat, [5, 0, 11]);
      expect(x.shape).toEqual([6, 2]);
      expect([...(await x.data())]).toEqual([50, 51, 0, 1, 110, 111, 1050, 1051, 1000, 1001, 1110, 1111]);
      return x;
    });
    expect(() => gatherPatches(feat, [12])).toThrow(/outside \[0, 12\)/);
    feat.dispose();
  });
});
