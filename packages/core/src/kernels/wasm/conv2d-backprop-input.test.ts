import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../testing/harness';
import { afterEach, describe, expect, test } from 'vitest';
import {
  INPUT_GRAD_ROUTE_FLAG,
  chooseInputGradRoute,
  conv2DBackpropInputConfig,
  replaceWasmConv2DBackpropInput,
} from './conv2d-backprop-input';
import { registerWasmTrainingKernels } from './register';
import { convGradsRef, expectSame, expectWasmMatchesCpu, explicitPadding as explicit, input, runOn } from './test-support';

type Pad = tf.Conv2DBackpropInputAttrs['pad'];
interface Case {
  x: [number, number, number, number];
  k: [number, number];
  co: number;
  stride: number | [number, number];
  pad: Pad;
}

const cases: Case[] = [
  { x: [1, 5, 7, 3], k: [3, 3], co: 4, stride: 1, pad: 'same' },
  { x: [2, 6, 5, 2], k: [1, 1], co: 3, stride: 1, pad: 'valid' },
  // 'same' with stride 2 on odd sizes: tfjs puts the extra padding row at the bottom.
  { x: [2, 9, 7, 3], k: [3, 3], co: 5, stride: 2, pad: 'same' },
  { x: [1, 8, 10, 2], k: [3, 3], co: 3, stride: 2, pad: 'same' },
  // 3×3 stride 2 pad 1 with an odd and an even input: the even one's last row is never read.
  { x: [1, 9, 9, 2], k: [3, 3], co: 3, stride: 2, pad: 1 },
  { x: [2, 8, 6, 3], k: [3, 3], co: 2, stride: 2, pad: 1 },
  // PatchGAN-like 4×4 stride 2 pad 1.
  { x: [2, 8, 8, 3], k: [4, 4], co: 4, stride: 2, pad: 1 },
  { x: [1, 9, 7, 2], k: [4, 4], co: 3, stride: 2, pad: 1 },
  { x: [1, 11, 10, 3], k: [7, 7], co: 2, stride: 1, pad: 'valid' },
  { x: [1, 12, 9, 2], k: [7, 7], co: 3, stride: 1, pad: 3 },
  { x: [1, 13, 11, 2], k: [7, 7], co: 2, stride: 2, pad: 'same' },
  { x: [1, 10, 11, 2], k: [3, 3], co: 2, stride: 3, pad: 'valid' },
  { x: [1, 11, 8, 2], k: [4, 2], co: 3, stride: [2, 3], pad: 'same' },
  // stride 2 'valid': the last input row and column receive nothing.
  { x: [1, 8, 8, 2], k: [3, 3], co: 2, stride: 2, pad: 'valid' },
  // padding wider than the filter reaches: whole rows of dy are cropped.
  { x: [1, 4, 5, 2], k: [1, 1], co: 2, stride: 1, pad: 2 },
  { x: [2, 8, 7, 2], k: [3, 2], co: 4, stride: 2, pad: explicit(2, 0, 0, 1) },
  { x: [1, 7, 9, 3], k: [3, 3], co: 2, stride: 1, pad: explicit(0, 2, 1, 0) },
  { x: [1, 6, 6, 2], k: [3, 3], co: 2, stride: 2, pad: explicit(3, 1, 0, 3) },
];

const name = (c: Case) => `x ${c.x} k ${c.k} co ${c.co} stride ${c.stride} pad ${JSON.stringify(c.pad)}`;
const infoOf = (c: Case) => tf.backend_util.computeConv2DInfo(c.x, [...c.k, c.x[3], c.co], c.stride, 1, c.pad);

function reference(c: Case): Float64Array {
  const info = infoOf(c);
  const [x, w, dy] = [tf.zeros(c.x), input(info.filterShape, 3), input(info.outShape, 2)];
  const { dx } = convGradsRef(x, w, dy, info, false);
  tf.dispose([x, w, dy]);
  return dx;
}

const byKernel = (c: Case) => () => {
  const info = infoOf(c);
  const inputs = { dy: input(info.outShape, 2), filter: input(info.filterShape, 3) };
  const attrs = { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', inputShape: c.x };
  return tf.engine().runKernel(tf.Conv2DBackpropInput, inputs, attrs as {}) as tf.Tensor;
};

const byTranspose = (c: Case) => () => {
  const info = infoOf(c);
  return tf.conv2dTranspose(
    input(info.outShape, 2) as tf.Tensor4D,
    input(info.filterShape, 3) as tf.Tensor4D,
    c.x,
    c.stride,
    c.pad as 'same'
  );
};

const byGradient = (c: Case) => () => {
  const info = infoOf(c);
  const filter = input(info.filterShape, 3) as tf.Tensor4D;
  const f = (x: tf.Tensor) => tf.conv2d(x as tf.Tensor4D, filter, c.stride, c.pad as 'same');
  return tf.grad(f)(tf.zeros(c.x), input(info.outShape, 2));
};

afterEach(() => tf.env().set(INPUT_GRAD_ROUTE_FLAG, 'auto'));

describe('Conv2DBackpropInput on wasm', () => {
  test('replaces wasm’s own when the wasm backend is set, idempotently', async () => {
    // The harness imports this package before @tensorflow/tfjs-backend-wasm, so wasm registered its own kernel
    // after ours loaded; the setup hook swaps it on the first setBackend('wasm').
    expect(tf.getKernel(tf.Conv2DBackpropInput, 'wasm')).not.toBe(conv2DBackpropInputConfig);
    await useBackend('wasm');
    expect(tf.getKernel(tf.Conv2DBackpropInput, 'wasm')).toBe(conv2DBackpropInputConfig);
    registerWasmTrainingKernels();
    expect(replaceWasmConv2DBackpropInput()).toBe(true);
    expect(tf.getKernel(tf.Conv2DBackpropInput, 'wasm')).toBe(conv2DBackpropInputConfig);
  });

  // The phase form also covers stride 1 (one phase: the rotated filter), so every case runs both routes.
  describe.each(['conv', 'phases'])('%s route', (route) => {
    test.each(cases.map((c) => [name(c), c] as const))('%s matches cpu and float64', async (_, c) => {
      tf.env().set(INPUT_GRAD_ROUTE_FLAG, route);
      const wasm = await expectWasmMatchesCpu(byKernel(c));
      expectSame(wasm, { values: reference(c), shape: c.x });
    });
  });

  test.each([cases[2], cases[6], cases[15]].map((c) => [name(c), c] as const))(
    '%s: conv2dTranspose and the conv2d gradient match cpu',
    async (_, c) => {
      await expectWasmMatchesCpu(byTranspose(c));
      await expectWasmMatchesCpu(byGradient(c));
    }
  );

  test('the wasm route (wasm’s own kernel) still runs and agrees', async () => {
    const ours = await runOn('wasm', byKernel(cases[6]));
    tf.env().set(INPUT_GRAD_ROUTE_FLAG, 'wasm');
    expectSame(await runOn('wasm', byKernel(cases[6])), ours);
  });

  test('hand-checked: one dy pixel of a stride-2 conv lays the filter over its window', async () => {
    // x 4×4, filter 2×2 = [[1,2],[3,4]], stride 2, valid: dy[0,1] = 1 reads x rows 0–1, cols 2–3.
    const result = await runOn(
      'wasm',
      () =>
        tf
          .engine()
          .runKernel(
            tf.Conv2DBackpropInput,
            { dy: tf.tensor4d([0, 1, 0, 0], [1, 2, 2, 1]), filter: tf.tensor4d([1, 2, 3, 4], [2, 2, 1, 1]) },
            { strides: 2, pad: 'valid', dataFormat: 'NHWC', inputShape: [1, 4, 4, 1] } as {}
          ) as tf.Tensor
    );
    expectSame(result, { values: [0, 0, 1, 2, 0, 0, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0], shape: [1, 4, 4, 1] });
  });

  test('hand-checked: two channels, same padding, 3×3 of ones', async () => {
    // dy [1,2,2,1] = [[1,2],[3,4]], filter ones [3,3,2,1]: each dx pixel sums the dy pixels whose window covers it,
    // which with 'same' padding on 2×2 is all four, in both channels.
    const result = await runOn(
      'wasm',
      () =>
        tf
          .engine()
          .runKernel(
            tf.Conv2DBackpropInput,
            { dy: tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]), filter: tf.ones([3, 3, 2, 1]) },
            { strides: 1, pad: 'same', dataFormat: 'NHWC', inputShape: [1, 2, 2, 2] } as {}
          ) as tf.Tensor
    );
    expectSame(result, { values: Array(8).fill(10), shape: [1, 2, 2, 2] });
  });

  test('auto picks the phase form for strides above 1', () => {
    const info = (stride: number) => tf.backend_util.computeConv2DInfo([1, 8, 8, 4], [3, 3, 4, 4], stride, 1, 'same');
    expect(chooseInputGradRoute(info(1))).toBe('conv');
    expect(chooseInputGradRoute(info(2))).toBe('phases');
  });

  test('NCHW goes to wasm’s own kernel and matches cpu', async () => {
    const nchw = () =>
      tf
        .engine()
        .runKernel(
          tf.Conv2DBackpropInput,
          { dy: input([1, 3, 4, 4], 2), filter: input([3, 3, 2, 3], 3) },
          { strides: 2, pad: 'same', dataFormat: 'NCHW', inputShape: [1, 2, 7, 8] } as {}
        ) as tf.Tensor;
    await expectWasmMatchesCpu(nchw);
  });

  test('an unknown route is refused by name', async () => {
    tf.env().set(INPUT_GRAD_ROUTE_FLAG, 'fastest');
    await expect(runOn('wasm', byKernel(cases[0]))).rejects.toThrow(/'auto', 'conv', 'phases' or 'wasm', got 'fastest'/);
  });
});
