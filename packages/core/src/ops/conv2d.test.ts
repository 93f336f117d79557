import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { checkOp, TEST_BACKENDS, useBackend } from '../testing/harness';
import { conv2dRef, convTranspose2dRef } from '../testing/reference';
import { conv2d } from './conv2d';
import { convTranspose2d } from './conv-transpose2d';

const pair = (v: number | [number, number]): [number, number] => (typeof v === 'number' ? [v, v] : v);

const convCases = [
  { name: '3×3 pad 1', x: [1, 6, 6, 3], k: [3, 3], co: 4, stride: 1, padding: 1, dilation: 1 },
  { name: '7×7 no pad, batch 2', x: [2, 8, 9, 2], k: [7, 7], co: 3, stride: 1, padding: 0, dilation: 1 },
  { name: '4×4 stride 2 pad 1 (PatchGAN)', x: [1, 9, 8, 2], k: [4, 4], co: 3, stride: 2, padding: 1, dilation: 1 },
  { name: '3×3 stride 2, odd size', x: [2, 7, 5, 3], k: [3, 3], co: 2, stride: 2, padding: 1, dilation: 1 },
  { name: 'dilation 2, asymmetric', x: [1, 9, 8, 2], k: [3, 2], co: 2, stride: [1, 2] as [number, number], padding: [2, 1] as [number, number], dilation: 2 },
  { name: '1×1', x: [1, 4, 5, 3], k: [1, 1], co: 5, stride: 1, padding: 0, dilation: 1 },
];

describe.each(TEST_BACKENDS)('conv2d on %s', (backend) => {
  test.each(convCases)('$name', async (c) => {
    await useBackend(backend);
    const options = { stride: pair(c.stride), padding: pair(c.padding), dilation: pair(c.dilation) };
    await checkOp({
      inputs: [c.x, [c.k[0], c.k[1], c.x[3], c.co], [c.co]],
      op: (x, w, b) => conv2d(x as tf.Tensor4D, w as tf.Tensor4D, b as tf.Tensor1D, options),
      reference: (x, w, b) => conv2dRef(x, w, b.values, options),
    });
  });

  test('hand-checked: 2×2 box filter over a ramp', async () => {
    await useBackend(backend);
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
    const w = tf.ones([2, 2, 1, 1]) as tf.Tensor4D;
    const y = conv2d(x, w, tf.tensor1d([0.5]));
    expect(Array.from(await y.data())).toEqual([12.5, 16.5, 24.5, 28.5]);
    tf.dispose([x, w, y]);
  });

  test('rejects a channel mismatch, naming both shapes', async () => {
    await useBackend(backend);
    const x = tf.zeros([1, 4, 4, 3]) as tf.Tensor4D;
    const w = tf.zeros([3, 3, 2, 4]) as tf.Tensor4D;
    expect(() => conv2d(x, w)).toThrow(/3 channels .*\[3, 3, 2, 4\]/);
    tf.dispose([x, w]);
  });
});

const transposeCases = [
  { name: '3×3 stride 2 pad 1 output_padding 1 (no_antialias_up)', x: [1, 4, 5, 3], k: [3, 3], co: 2, stride: 2, padding: 1, outputPadding: 1, dilation: 1 },
  { name: '4×4 stride 2 pad 1, batch 2', x: [2, 3, 4, 2], k: [4, 4], co: 3, stride: 2, padding: 1, outputPadding: 0, dilation: 1 },
  { name: 'stride 1 no pad', x: [1, 3, 3, 2], k: [2, 3], co: 2, stride: 1, padding: 0, outputPadding: 0, dilation: 1 },
  { name: 'stride 3, dilation 2, output_padding 2', x: [1, 3, 2, 2], k: [2, 2], co: 2, stride: 3, padding: 1, outputPadding: 2, dilation: 2 },
];

describe.each(TEST_BACKENDS)('convTranspose2d on %s', (backend) => {
  test.each(transposeCases)('$name', async (c) => {
    await useBackend(backend);
    const options = {
      stride: pair(c.stride),
      padding: pair(c.padding),
      outputPadding: pair(c.outputPadding),
      dilation: pair(c.dilation),
    };
    await checkOp({
      inputs: [c.x, [c.k[0], c.k[1], c.co, c.x[3]], [c.co]],
      op: (x, w, b) => convTranspose2d(x as tf.Tensor4D, w as tf.Tensor4D, b as tf.Tensor1D, options),
      reference: (x, w, b) => convTranspose2dRef(x, w, b.values, options),
    });
  });

  test('rejects output_padding not smaller than stride or dilation', async () => {
    await useBackend(backend);
    const x = tf.zeros([1, 3, 3, 1]) as tf.Tensor4D;
    const w = tf.zeros([3, 3, 1, 1]) as tf.Tensor4D;
    expect(() => convTranspose2d(x, w, null, { stride: 2, outputPadding: 2 })).toThrow(/outputPadding/);
    tf.dispose([x, w]);
  });
});
