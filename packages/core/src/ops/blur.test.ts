import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { checkOp, expectClose, TEST_BACKENDS, testValues, useBackend } from '../testing/harness';
import { depthwiseConvTranspose2dRef, downsampleRef, upsampleRef } from '../testing/reference';
import { blurKernel, downsample, upsample } from './blur';
import { depthwiseConvTranspose2d } from './depthwise-conv-transpose2d';

describe.each(TEST_BACKENDS)('anti-aliased resampling on %s', (backend) => {
  test.each([[[1, 6, 6, 2]], [[2, 5, 7, 3]]])('downsample %j', async (shape) => {
    await useBackend(backend);
    await checkOp({ inputs: [shape], op: (x) => downsample(x as tf.Tensor4D), reference: (x) => downsampleRef(x) });
  });

  test.each([[[1, 3, 3, 2]], [[2, 2, 4, 3]]])('upsample %j is exactly 2H×2W', async (shape) => {
    await useBackend(backend);
    await checkOp({ inputs: [shape], op: (x) => upsample(x as tf.Tensor4D), reference: (x) => upsampleRef(x) });
  });

  test.each([
    { name: 'k 4, stride 2, an asymmetric filter', x: [1, 3, 4, 5], k: 4, stride: 2 },
    { name: 'k 3 (odd: nothing trimmed at the end)', x: [2, 4, 3, 2], k: 3, stride: 2 },
    { name: 'k 5, stride 3', x: [1, 3, 2, 3], k: 5, stride: 3 },
    { name: 'k 2, one pixel', x: [1, 1, 1, 4], k: 2, stride: 2 },
  ])('upsample with any filter: $name', async (c) => {
    await useBackend(backend);
    const filterShape = [c.k, c.k, c.x[3], 1];
    const filterValues = Float64Array.from(testValues(c.k * c.k * c.x[3], 5), (v) => Math.fround(v));
    const filter = tf.tensor4d(Float32Array.from(filterValues), filterShape as [number, number, number, number]);
    await checkOp({
      inputs: [c.x],
      op: (x) => upsample(x as tf.Tensor4D, { filter, stride: c.stride }),
      reference: (x) => upsampleRef(x, { values: filterValues, shape: filterShape }, c.stride),
    });
    filter.dispose();
  });

  test('depthwiseConvTranspose2d, gradients for input and filter', async () => {
    await useBackend(backend);
    await checkOp({
      inputs: [[1, 3, 4, 2], [3, 3, 2, 1]],
      op: (x, f) => depthwiseConvTranspose2d(x as tf.Tensor4D, f as tf.Tensor4D, { stride: 2, padding: 1 }),
      reference: (x, f) => depthwiseConvTranspose2dRef(x, f, 2, 1),
    });
  });

  test("depthwiseConvTranspose2d with filterGradient 'none': the same input gradient, no filter gradient", async () => {
    await useBackend(backend);
    const x = tf.tensor4d(Array.from({ length: 24 }, (_, i) => Math.sin(i)), [1, 3, 4, 2]);
    const f = tf.tensor4d(Array.from({ length: 18 }, (_, i) => Math.cos(i)), [3, 3, 2, 1]);
    const options = { stride: 2, padding: 1 };
    const loss = (mode: 'compute' | 'none') => (input: tf.Tensor, filter: tf.Tensor) =>
      tf.sum(tf.square(depthwiseConvTranspose2d(input as tf.Tensor4D, filter as tf.Tensor4D, { ...options, filterGradient: mode })));
    const [dxCompute] = tf.grads(loss('compute'))([x, f]);
    const { value, grads } = tf.engine().gradients(() => loss('none')(x, f) as tf.Scalar, [x, f], undefined, true);
    expectClose(await grads[0].data(), await dxCompute.data());
    expect(grads[1]).toBeUndefined();
    expect(() => depthwiseConvTranspose2d(x, f, { filterGradient: 'skip' as 'none' })).toThrow(/'compute' or 'none'/);
    tf.dispose([x, f, dxCompute, value, grads[0]]);
  });

  test('a constant image stays constant away from the border', async () => {
    await useBackend(backend);
    const x = tf.fill([1, 8, 8, 1], 2) as tf.Tensor4D;
    const down = downsample(x);
    const up = upsample(x);
    expect(down.shape).toEqual([1, 4, 4, 1]);
    expect(up.shape).toEqual([1, 16, 16, 1]);
    expectClose(await down.data(), new Float32Array(16).fill(2));
    expectClose(await up.data(), new Float32Array(256).fill(2));
    tf.dispose([x, down, up]);
  });
});

test('blur kernels match the official filters', () => {
  expect(Array.from(blurKernel(3))).toEqual([1, 2, 1, 2, 4, 2, 1, 2, 1].map((v) => v / 16));
  const up = blurKernel(4, 4);
  expect(up[0]).toBeCloseTo(4 / 64, 7);
  expect(up[5]).toBeCloseTo((9 * 4) / 64, 7);
  expect(() => blurKernel(8)).toThrow(/1 to 7/);
});
