import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { checkOp, expectClose, TEST_BACKENDS, useBackend } from '../testing/harness';
import { instanceNormRef, l2NormalizeRef, leakyReluRef, linearRef } from '../testing/reference';
import { leakyRelu } from './activations';
import { instanceNorm } from './instance-norm';
import { l2Normalize } from './l2-normalize';
import { linear } from './linear';

describe.each(TEST_BACKENDS)('instanceNorm, linear, leakyRelu, l2Normalize on %s', (backend) => {
  test.each([[[1, 4, 5, 3]], [[2, 3, 3, 2]], [[1, 1, 6, 2]]])('instanceNorm %j', async (shape) => {
    await useBackend(backend);
    await checkOp({ inputs: [shape], op: (x) => instanceNorm(x as tf.Tensor4D), reference: (x) => instanceNormRef(x) });
  });

  test('instanceNorm: per image and channel, biased variance', async () => {
    await useBackend(backend);
    const x = tf.tensor4d([1, 10, 3, 30], [1, 2, 1, 2]); // channel 0: 1, 3; channel 1: 10, 30
    const y = await instanceNorm(x).data();
    const s = 1 / Math.sqrt(1 + 1e-5);
    const t = 10 / Math.sqrt(100 + 1e-5);
    expectClose(y, [-s, -t, s, t], { rel: 0, abs: 1e-6 });
    x.dispose();
  });

  test.each([
    { x: [5, 4], out: 3 },
    { x: [2, 3, 4], out: 2 },
  ])('linear $x → $out', async (c) => {
    await useBackend(backend);
    const inF = c.x[c.x.length - 1];
    await checkOp({
      inputs: [c.x, [inF, c.out], [c.out]],
      op: (x, w, b) => linear(x, w as tf.Tensor2D, b as tf.Tensor1D),
      reference: (x, w, b) => linearRef(x, w, b.values),
    });
  });

  test('leakyRelu, away from the kink', async () => {
    await useBackend(backend);
    await checkOp({
      inputs: [[3, 7]],
      values: (_, n) => Float64Array.from({ length: n }, (_, i) => (i % 2 === 0 ? 1 : -1) * (0.1 + (i % 5) * 0.3)),
      op: (x) => leakyRelu(x, 0.2),
      reference: (x) => leakyReluRef(x, 0.2),
    });
  });

  test('l2Normalize', async () => {
    await useBackend(backend);
    await checkOp({ inputs: [[4, 6]], op: (x) => l2Normalize(x), reference: (x) => l2NormalizeRef(x) });
    const v = tf.tensor2d([[3, 4]]);
    const n = l2Normalize(v);
    const [a, b] = await n.data();
    expect(a).toBeCloseTo(3 / (5 + 1e-7), 6);
    expect(b).toBeCloseTo(4 / (5 + 1e-7), 6);
    tf.dispose([v, n]);
  });
});
