import * as tf from '@tensorflow/tfjs-core';
import '../../testing/harness';
import { afterEach, describe, expect, test } from 'vitest';
import { FILTER_GRAD_ROUTE_FLAG, chooseFilterGradRoute } from './conv2d-backprop-filter';
import { convGradsRef, expectSame, expectWasmMatchesCpu, input, runOn } from './test-support';

type Pad = tf.Conv2DBackpropFilterAttrs['pad'];
interface Case {
  x: [number, number, number, number];
  k: [number, number];
  co: number;
  stride: number | [number, number];
  pad: Pad;
}

const cases: Case[] = [
  { x: [1, 5, 7, 3], k: [3, 3], co: 4, stride: 1, pad: 'same' },
  { x: [2, 6, 5, 2], k: [1, 1], co: 3, stride: 2, pad: 'valid' },
  { x: [2, 9, 8, 3], k: [4, 4], co: 5, stride: 2, pad: 'same' },
  { x: [1, 7, 8, 2], k: [4, 4], co: 3, stride: [2, 1], pad: 'same' },
  { x: [1, 11, 10, 2], k: [7, 7], co: 3, stride: 1, pad: 'valid' },
  { x: [1, 7, 9, 3], k: [3, 3], co: 2, stride: 2, pad: 1 },
  // stride 2, 'valid': the last input row and column are never read.
  { x: [1, 8, 8, 2], k: [3, 3], co: 2, stride: 2, pad: 'valid' },
  // padding wider than the filter reaches: whole rows of windows fall in the padding.
  { x: [1, 4, 5, 2], k: [1, 1], co: 2, stride: 1, pad: 2 },
  // few output channels from many (a generator's last conv), and stride 1 with uneven explicit padding.
  { x: [2, 12, 11, 8], k: [7, 7], co: 3, stride: 1, pad: 'valid' },
  {
    x: [1, 7, 6, 9],
    k: [3, 4],
    co: 2,
    stride: 1,
    pad: [
      [0, 0],
      [2, 0],
      [1, 3],
      [0, 0],
    ],
  },
  {
    x: [2, 8, 7, 2],
    k: [3, 2],
    co: 4,
    stride: 2,
    pad: [
      [0, 0],
      [2, 0],
      [0, 1],
      [0, 0],
    ],
  },
];

const name = (c: Case) => `x ${c.x} k ${c.k} co ${c.co} stride ${c.stride} pad ${JSON.stringify(c.pad)}`;
const infoOf = (c: Case) => tf.backend_util.computeConv2DInfo(c.x, [...c.k, c.x[3], c.co], c.stride, 1, c.pad);

function filterGrad(c: Case): tf.Tensor {
  const info = infoOf(c);
  const attrs = { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', filterShape: info.filterShape };
  return tf
    .engine()
    .runKernel(tf.Conv2DBackpropFilter, { x: input(c.x, 1), dy: input(info.outShape, 2) }, attrs as {}) as tf.Tensor;
}

afterEach(() => tf.env().set(FILTER_GRAD_ROUTE_FLAG, 'auto'));

describe.each(['matmul', 'conv', 'swapped'])('Conv2DBackpropFilter on wasm, %s route', (route) => {
  test.each(cases.map((c) => [name(c), c] as const))('%s matches cpu and float64', async (_, c) => {
    tf.env().set(FILTER_GRAD_ROUTE_FLAG, route);
    const wasm = await expectWasmMatchesCpu(() => filterGrad(c));
    const info = infoOf(c);
    const x = input(c.x, 1);
    const w = tf.zeros(info.filterShape);
    const dy = input(info.outShape, 2);
    expectSame(wasm, { values: convGradsRef(x, w, dy, info, false).dw, shape: info.filterShape });
    tf.dispose([x, w, dy]);
  });

  test('hand-checked: dy of ones sums each 2×2 window of 1..9', async () => {
    tf.env().set(FILTER_GRAD_ROUTE_FLAG, route);
    const result = await runOn(
      'wasm',
      () =>
        tf
          .engine()
          .runKernel(
            tf.Conv2DBackpropFilter,
            { x: tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]), dy: tf.ones([1, 2, 2, 1]) },
            { strides: 1, pad: 'valid', dataFormat: 'NHWC', filterShape: [2, 2, 1, 1] } as {}
          ) as tf.Tensor
    );
    expectSame(result, { values: [12, 16, 24, 28], shape: [2, 2, 1, 1] });
  });
});

test('tf.grad through tf.conv2d trains on wasm as on cpu', async () => {
  for (const c of [cases[2], cases[8]]) {
    const grads = () => {
      const info = infoOf(c);
      const [dx, dw] = tf.grads((x: tf.Tensor, w: tf.Tensor) =>
        tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.stride, c.pad)
      )([input(c.x, 1), input(info.filterShape, 3)], input(info.outShape, 2));
      return tf.concat([tf.reshape(dx, [-1]), tf.reshape(dw, [-1])]);
    };
    await expectWasmMatchesCpu(grads);
  }
});

test('auto picks the product for many output channels, the conv for few, the swapped conv for three or fewer', () => {
  const route = (x: [number, number, number, number], k: number, co: number, stride: number, pad: 'same' | 'valid') =>
    chooseFilterGradRoute(tf.backend_util.computeConv2DInfo(x, [k, k, x[3], co], stride, 1, pad));
  expect(route([2, 70, 70, 16], 7, 3, 1, 'valid')).toBe('swapped');
  expect(route([2, 70, 70, 16], 7, 4, 1, 'valid')).toBe('conv');
  expect(route([2, 70, 70, 16], 7, 3, 2, 'valid')).toBe('conv');
  expect(route([2, 70, 70, 4], 7, 3, 1, 'valid')).toBe('conv');
  expect(route([1, 512, 512, 16], 7, 3, 1, 'same')).toBe('conv');
  expect(
    chooseFilterGradRoute(tf.backend_util.computeConv2DInfo([1, 32, 32, 256], [3, 3, 256, 256], 1, 1, 'same'))
  ).toBe('matmul');
  expect(chooseFilterGradRoute(tf.backend_util.computeConv2DInfo([1, 64, 64, 32], [3, 3, 32, 8], 1, 1, 'same'))).toBe(
    'conv'
  );
  expect(
    chooseFilterGradRoute(tf.backend_util.computeConv2DInfo([1, 512, 512, 64], [7, 7, 64, 64], 1, 1, 'same'))
  ).toBe('conv');
});

test('an unknown route and an NCHW input are refused by name', async () => {
  tf.env().set(FILTER_GRAD_ROUTE_FLAG, 'fastest');
  await expect(runOn('wasm', () => filterGrad(cases[0]))).rejects.toThrow(/'auto', 'matmul', 'conv' or 'swapped', got 'fastest'/);
  tf.env().set(FILTER_GRAD_ROUTE_FLAG, 'auto');
  const nchw = () =>
    tf
      .engine()
      .runKernel(tf.Conv2DBackpropFilter, { x: tf.zeros([1, 2, 4, 4]), dy: tf.zeros([1, 2, 4, 4]) }, {
        strides: 1,
        pad: 'same',
        dataFormat: 'NCHW',
        filterShape: [3, 3, 2, 2],
      } as {}) as tf.Tensor;
  await expect(runOn('wasm', nchw)).rejects.toThrow(/supports dataFormat 'NHWC' only, got 'NCHW'/);
});
