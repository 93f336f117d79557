import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { TEST_BACKENDS, expectNoLeaks, useBackend } from '../../core/src/testing/harness';
import { ActivationBranches, describeUnit, rectify } from './activation-branches';

const x = (): tf.Tensor4D =>
  tf.tensor4d([0.5, -2e-7, 3, -1, 1e-8, -0.25, 0, 2], [1, 2, 2, 2]);
const dy = (): tf.Tensor4D => tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 2, 2]);

async function valueAndGrad(f: (t: tf.Tensor) => tf.Tensor): Promise<{ value: Float32Array; grad: Float32Array }> {
  const input = x();
  const upstream = dy();
  const { value, grads } = tf.valueAndGrads((t: tf.Tensor) => f(t))([input], upstream);
  const out = { value: (await value.data()) as Float32Array, grad: (await grads[0].data()) as Float32Array };
  tf.dispose([input, upstream, value, ...grads]);
  return out;
}

describe.each(TEST_BACKENDS)('ActivationBranches on %s', (backend) => {
  test.each([0, 0.2])('without choices, values and gradients are bit-identical to the plain op (slope %s)', async (slope) => {
    await useBackend(backend);
    const plain = await valueAndGrad((t) => rectify(t, slope, 'model.3.'));
    const branches = new ActivationBranches();
    const logged = await valueAndGrad((t) => rectify(t, slope, 'model.3.', { branches, pass: 'G(real)' }));
    expect(Array.from(logged.value)).toEqual(Array.from(plain.value));
    expect(Array.from(logged.grad)).toEqual(Array.from(plain.grad));
  });

  test('logs the units within rounding of the kink, with the gradient reaching them', async () => {
    await useBackend(backend);
    const branches = new ActivationBranches([], 2 ** -17);
    await valueAndGrad((t) => rectify(t, 0, 'model.3.', { branches, pass: 'G(real)' }));
    const units = await branches.collect();
    // |x| ≤ 2^-17 · 3: -2e-7 (index 1), 1e-8 (4), 0 (6)
    expect(units.map((u) => u.index)).toEqual([1, 4, 6]);
    expect(units.map((u) => u.upstream)).toEqual([2, 5, 7]);
    expect(units.every((u) => u.site === 'G(real):model.3.' && u.scale === 3 && u.slope === 0)).toBe(true);
    expect(describeUnit(units[0])).toBe('G(real):model.3 (image 0, row 0, column 0, channel 1)');
  });

  test('a chosen unit takes the other branch in the derivative only; the value stays the plain one', async () => {
    await useBackend(backend);
    for (const slope of [0, 0.2]) {
      const plain = await valueAndGrad((t) => rectify(t, slope, 'model.1.'));
      const branches = new ActivationBranches([
        { site: 'D(real):model.1.', index: 1 },
        { site: 'D(real):model.1.', index: 4 },
        { site: 'elsewhere', index: 0 },
      ]);
      const flipped = await valueAndGrad((t) => rectify(t, slope, 'model.1.', { branches, pass: 'D(real)' }));
      expect(Array.from(flipped.value)).toEqual(Array.from(plain.value));
      const want = Array.from(plain.grad);
      want[1] = 2; // −2e-7 now passes its gradient
      want[4] = 5 * slope; // 1e-8 now takes the negative side's slope
      expect(Array.from(flipped.grad)).toEqual(want.map((v) => Math.fround(v)));
    }
  });

  test('a recomputed part of a batch takes the choices at its place in the site tensor, and logs nothing', async () => {
    await useBackend(backend);
    const branches = new ActivationBranches([{ site: 'G(source):model.3.', index: 8 + 1 }]);
    await expectNoLeaks(async () => {
      const { grad } = await valueAndGrad((t) => rectify(t, 0, 'model.3.', { branches, pass: 'G(source)', part: 1 }));
      expect(grad[1]).toBe(2);
      expect(await branches.collect()).toEqual([]);
    });
    expect(describeUnit({ site: 'G(source):model.3.', index: 8 + 1, shape: [1, 2, 2, 2] })).toBe('G(source):model.3 (image 1, row 0, column 0, channel 1)');
  });

  test('what a step logged is freed by collect() or dispose()', async () => {
    await useBackend(backend);
    await expectNoLeaks(async () => {
      const branches = new ActivationBranches();
      await valueAndGrad((t) => rectify(t, 0.2, 'model.1.', { branches, pass: 'D(real)' }));
      await branches.collect();
      const unread = new ActivationBranches();
      await valueAndGrad((t) => rectify(t, 0.2, 'model.1.', { branches: unread, pass: 'D(real)' }));
      unread.dispose();
    });
  });
});
