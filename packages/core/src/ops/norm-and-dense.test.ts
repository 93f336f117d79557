import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { INSTANCE_NORM, INSTANCE_NORM_GRAD } from '../kernels/shared/instance-norm';
import { checkOp, expectClose, TEST_BACKENDS, testValues, useBackend, withoutKernels } from '../testing/harness';
import { instanceNormRef, l2NormalizeRef, leakyReluRef, linearRef } from '../testing/reference';
import { leakyRelu } from './activations';
import { instanceNorm, instanceNormGradByOps, normaliseByOps } from './instance-norm';
import { l2Normalize } from './l2-normalize';
import { linear } from './linear';

describe.each(TEST_BACKENDS)('instanceNorm, linear, leakyRelu, l2Normalize on %s', (backend) => {
  test.each([[[1, 4, 5, 3]], [[2, 3, 3, 2]], [[1, 1, 6, 2]]])('instanceNorm %j', async (shape) => {
    await useBackend(backend);
    await checkOp({ inputs: [shape], op: (x) => instanceNorm(x as tf.Tensor4D), reference: (x) => instanceNormRef(x) });
  });

  test('instanceNorm by the op chain of backends without the kernels', async () => {
    await useBackend(backend);
    await withoutKernels([INSTANCE_NORM, INSTANCE_NORM_GRAD], () =>
      checkOp({ inputs: [[2, 4, 5, 3]], op: (x) => instanceNorm(x as tf.Tensor4D), reference: (x) => instanceNormRef(x) }),
    );
    expect(tf.getKernel(INSTANCE_NORM, backend)).toBeDefined();
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

  test('instanceNorm: one kernel each way, no tensors or buffers left behind', async () => {
    await useBackend(backend);
    expect(tf.getKernel(INSTANCE_NORM, backend)).toBeDefined();
    expect(tf.getKernel(INSTANCE_NORM_GRAD, backend)).toBeDefined();
    const x = tf.tensor4d(Float32Array.from(testValues(2 * 5 * 4 * 3, 3)), [2, 5, 4, 3]);
    const dy = tf.tensor4d(Float32Array.from(testValues(2 * 5 * 4 * 3, 4)), [2, 5, 4, 3]);
    const tensors = tf.memory().numTensors;
    const buffers = tf.engine().backend.numDataIds();
    const { value, grads } = tf.valueAndGrads((t: tf.Tensor) => tf.sum(tf.mul(instanceNorm(t as tf.Tensor4D), dy)))([x]);
    tf.dispose([value, ...grads]);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.engine().backend.numDataIds()).toBe(buffers);
    tf.dispose([x, dy]);
  });

  test.each([
    { name: 'means up to 30 times the spread (cancellation in Σx² − n·mean²)', shape: [2, 9, 7, 5], offset: 4, spread: 0.5 },
    { name: 'the generator\'s scale', shape: [2, 9, 7, 5], offset: 0.3, spread: 2 },
    { name: 'several pixel blocks, channels in fours', shape: [1, 40, 33, 8], offset: 0.3, spread: 2 },
  ])('instanceNorm: the kernels agree with float64 and with the op chain, $name', async ({ shape, offset, spread }) => {
    await useBackend(backend);
    const size = shape.reduce((a, b) => a * b, 1);
    const xs = testValues(size, 11).map((v, i) => Math.fround(offset * ((i % shape[3]) - 2) + spread * v));
    const ref = instanceNormRef({ values: xs, shape });
    const x = tf.tensor4d(Float32Array.from(xs), shape as [number, number, number, number]);
    const dy = tf.tensor4d(Float32Array.from(testValues(size, 12)), shape as [number, number, number, number]);
    const y = instanceNorm(x);
    expectClose(await y.data(), ref.values, { rel: 1e-5, abs: 1e-6 });
    const [byOps, invStd] = normaliseByOps(x, 1e-5);
    expectClose(await y.data(), await byOps.data(), { rel: 1e-5, abs: 1e-6 });
    const dx = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(instanceNorm(t as tf.Tensor4D), dy)))(x);
    // The closed form in float64 from the float64 reference: dx = (dy − mean dy − x̂·mean(dy·x̂)) / σ.
    const dyv = await dy.data();
    const want = new Float64Array(size);
    const [n, h, w, c] = shape;
    for (let b = 0; b < n; b++)
      for (let k = 0; k < c; k++) {
        let m = 0;
        let s = 0;
        let sd = 0;
        let sdx = 0;
        const at = (p: number): number => (b * h * w + p) * c + k;
        for (let p = 0; p < h * w; p++) m += xs[at(p)] / (h * w);
        for (let p = 0; p < h * w; p++) s += (xs[at(p)] - m) ** 2 / (h * w);
        const inv = 1 / Math.sqrt(s + 1e-5);
        for (let p = 0; p < h * w; p++) {
          sd += dyv[at(p)] / (h * w);
          sdx += (dyv[at(p)] * ref.values[at(p)]) / (h * w);
        }
        for (let p = 0; p < h * w; p++) want[at(p)] = (dyv[at(p)] - sd - ref.values[at(p)] * sdx) * inv;
      }
    expectClose(await dx.data(), want, { rel: 1e-4, abs: 1e-6 });
    const dxByOps = instanceNormGradByOps(dy, y, invStd);
    expectClose(await dx.data(), await dxByOps.data(), { rel: 1e-4, abs: 1e-6 });
    tf.dispose([x, dy, y, byOps, invStd, dx, dxByOps]);
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
