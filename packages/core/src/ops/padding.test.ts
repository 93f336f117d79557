import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { checkOp, TEST_BACKENDS, useBackend } from '../testing/harness';
import { reflectionPadRef, replicationPadRef } from '../testing/reference';
import { reflectionPad, reflectionPadGradByOps } from './reflection-pad';
import { REFLECTION_PAD_GRAD } from '../kernels/shared/reflection-pad-grad';
import { testValues } from '../testing/harness';
import { replicationPad } from './replication-pad';

const cases: { name: string; x: number[]; sides: [number, number, number, number] }[] = [
  { name: 'pad 1 all round', x: [1, 4, 5, 2], sides: [1, 1, 1, 1] },
  { name: 'pad 3 (generator stem), batch 2', x: [2, 5, 4, 3], sides: [3, 3, 3, 3] },
  { name: 'asymmetric', x: [1, 6, 7, 1], sides: [2, 0, 1, 3] },
];

describe.each(TEST_BACKENDS)('padding on %s', (backend) => {
  test.each(cases)('reflectionPad $name', async (c) => {
    await useBackend(backend);
    await checkOp({
      inputs: [c.x],
      op: (x) => reflectionPad(x as tf.Tensor4D, c.sides),
      reference: (x) => reflectionPadRef(x, c.sides),
    });
  });

  test.each([...cases, { name: 'wide pads, one side', x: [2, 9, 8, 5], sides: [0, 4, 7, 0] as [number, number, number, number] }])(
    'reflectionPad $name: the fused gradient kernel equals the op chain bit for bit',
    async (c) => {
      await useBackend(backend);
      expect(tf.getKernel(REFLECTION_PAD_GRAD, backend)).toBeDefined();
      const [n, h, w, ch] = c.x;
      const [left, right, top, bottom] = c.sides;
      const dy = tf.tensor4d(Float32Array.from(testValues(n * (h + top + bottom) * (w + left + right) * ch, 7)), [n, h + top + bottom, w + left + right, ch]);
      const x = tf.zeros([n, h, w, ch]) as tf.Tensor4D;
      const fused = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(reflectionPad(t as tf.Tensor4D, c.sides), dy)))(x);
      const byOps = reflectionPadGradByOps(dy, { left, right, top, bottom });
      expect(fused.shape).toEqual(byOps.shape);
      const [a, b] = [fused.dataSync(), byOps.dataSync()];
      expect(a.every((v, i) => v === b[i])).toBe(true);
      tf.dispose([dy, x, fused, byOps]);
    },
  );

  test.each(cases)('replicationPad $name', async (c) => {
    await useBackend(backend);
    await checkOp({
      inputs: [c.x],
      op: (x) => replicationPad(x as tf.Tensor4D, c.sides),
      reference: (x) => replicationPadRef(x, c.sides),
    });
  });

  test('hand-checked rows', async () => {
    await useBackend(backend);
    const x = tf.tensor4d([1, 2, 3], [1, 1, 3, 1]);
    expect(Array.from(await reflectionPad(x, [2, 1, 0, 0]).data())).toEqual([3, 2, 1, 2, 3, 2]);
    expect(Array.from(await replicationPad(x, [2, 1, 0, 0]).data())).toEqual([1, 1, 1, 2, 3, 3]);
    // The border's gradient lands on the mirrored source: d/dx of sum(reflectionPad(x, [2,1,0,0])).
    const g = tf.grad((t: tf.Tensor) => tf.sum(reflectionPad(t as tf.Tensor4D, [2, 1, 0, 0])))(x);
    expect(Array.from(await g.data())).toEqual([1, 3, 2]);
    const r = tf.grad((t: tf.Tensor) => tf.sum(replicationPad(t as tf.Tensor4D, [2, 1, 0, 0])))(x);
    expect(Array.from(await r.data())).toEqual([3, 1, 2]);
    tf.dispose([x, g, r]);
  });

  test('reflection padding must be smaller than the input', async () => {
    await useBackend(backend);
    const x = tf.zeros([1, 3, 3, 1]) as tf.Tensor4D;
    expect(() => reflectionPad(x, 3)).toThrow(/smaller than the input size 3×3/);
    x.dispose();
  });
});
