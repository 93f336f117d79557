import * as tf from '@tensorflow/tfjs-core';
import '../../testing/harness';
import { afterEach, describe, expect, test } from 'vitest';
import {
  DEPTHWISE_INPUT_GRAD_ROUTE_FLAG,
  chooseDepthwiseInputGradRoute,
  planDepthwisePhases,
} from './depthwise-backprop-input';
import { convGradsRef, expectSame, expectWasmMatchesCpu, input, runOn } from './test-support';

type Pad = tf.DepthwiseConv2dNativeBackpropFilterAttrs['pad'];
interface Case {
  x: [number, number, number, number];
  k: [number, number];
  multiplier: number;
  stride: number | [number, number];
  dilation: number;
  pad: Pad;
}

const cases: Case[] = [
  { x: [1, 5, 7, 2], k: [3, 3], multiplier: 1, stride: 1, dilation: 1, pad: 'same' },
  { x: [2, 6, 5, 3], k: [3, 3], multiplier: 2, stride: 2, dilation: 1, pad: 'same' },
  { x: [1, 9, 8, 2], k: [4, 4], multiplier: 2, stride: 2, dilation: 1, pad: 'valid' },
  { x: [1, 11, 10, 2], k: [7, 7], multiplier: 1, stride: 1, dilation: 1, pad: 2 },
  { x: [2, 7, 6, 2], k: [1, 1], multiplier: 2, stride: 2, dilation: 1, pad: 'valid' },
  { x: [1, 4, 5, 2], k: [1, 1], multiplier: 1, stride: 1, dilation: 1, pad: 2 },
  {
    x: [1, 8, 9, 2],
    k: [3, 3],
    multiplier: 1,
    stride: [2, 1],
    dilation: 1,
    pad: [
      [0, 0],
      [1, 2],
      [2, 0],
      [0, 0],
    ],
  },
  { x: [1, 9, 8, 2], k: [3, 3], multiplier: 2, stride: 1, dilation: 2, pad: 'same' },
  { x: [2, 10, 9, 1], k: [2, 3], multiplier: 1, stride: 1, dilation: 2, pad: 'valid' },
  // The anti-aliasing Upsample's transposed conv (4×4, stride 2, padding 2) and the like.
  { x: [2, 10, 12, 3], k: [4, 4], multiplier: 1, stride: 2, dilation: 1, pad: [[0, 0], [2, 2], [2, 2], [0, 0]] },
  { x: [1, 11, 9, 2], k: [4, 5], multiplier: 2, stride: [2, 3], dilation: 1, pad: 'same' },
  { x: [1, 13, 7, 2], k: [6, 2], multiplier: 1, stride: [3, 1], dilation: 1, pad: 'valid' },
  // Stride above the filter: some phases meet no tap and stay zero; others read past dy (zero padding).
  { x: [1, 10, 9, 2], k: [2, 2], multiplier: 1, stride: 3, dilation: 1, pad: [[0, 0], [3, 0], [0, 4], [0, 0]] },
];

const name = (c: Case) =>
  `x ${c.x} k ${c.k} m ${c.multiplier} stride ${c.stride} dilation ${c.dilation} pad ${JSON.stringify(c.pad)}`;
const infoOf = (c: Case) =>
  tf.backend_util.computeConv2DInfo(c.x, [...c.k, c.x[3], c.multiplier], c.stride, c.dilation, c.pad, undefined, true);
const attrsOf = (c: Case) => ({ strides: c.stride, dilations: c.dilation, pad: c.pad });

function reference(c: Case) {
  const info = infoOf(c);
  const [x, w, dy] = [input(c.x, 1), input(info.filterShape, 3), input(info.outShape, 2)];
  const grads = convGradsRef(x, w, dy, info, true);
  tf.dispose([x, w, dy]);
  return { info, grads };
}

const inputGrad = (c: Case) => () => {
  const info = infoOf(c);
  const inputs = { dy: input(info.outShape, 2), filter: input(info.filterShape, 3) };
  const attrs = { ...attrsOf(c), inputShape: c.x };
  return tf.engine().runKernel(tf.DepthwiseConv2dNativeBackpropInput, inputs, attrs as {}) as tf.Tensor;
};

const filterGrad = (c: Case) => () => {
  const info = infoOf(c);
  const inputs = { x: input(c.x, 1), dy: input(info.outShape, 2) };
  const attrs = { ...attrsOf(c), filterShape: info.filterShape };
  return tf.engine().runKernel(tf.DepthwiseConv2dNativeBackpropFilter, inputs, attrs as {}) as tf.Tensor;
};

// The cpu backend's depthwise backprops ignore dilations (and tfjs refuses the gradient of a dilated
// depthwise conv), so dilated cases are checked against the float64 reference alone.
const compare = (c: Case, fn: () => tf.Tensor) => (c.dilation === 1 ? expectWasmMatchesCpu(fn) : runOn('wasm', fn));

afterEach(() => tf.env().set(DEPTHWISE_INPUT_GRAD_ROUTE_FLAG, 'auto'));

describe.each(['spread', 'phases'])('DepthwiseConv2dNativeBackpropInput on wasm, %s route', (route) => {
  test.each(cases.map((c) => [name(c), c] as const))('%s matches cpu and float64', async (_, c) => {
    tf.env().set(DEPTHWISE_INPUT_GRAD_ROUTE_FLAG, route);
    const wasm = await compare(c, inputGrad(c));
    expectSame(wasm, { values: reference(c).grads.dx, shape: c.x });
  });
});

describe('DepthwiseConv2dNativeBackpropInput routes', () => {
  test('phases for strides whose every phase has two taps or more, undilated; the spread form otherwise', () => {
    const route = (k: number, stride: number, dilation = 1) =>
      chooseDepthwiseInputGradRoute(
        tf.backend_util.computeConv2DInfo([1, 16, 16, 2], [k, k, 2, 1], stride, dilation, 'same', undefined, true)
      );
    expect(route(4, 2)).toBe('phases');
    expect(route(6, 3)).toBe('phases');
    expect(route(3, 2)).toBe('spread');
    expect(route(4, 1)).toBe('spread');
    expect(route(4, 1, 2)).toBe('spread');
    tf.env().set(DEPTHWISE_INPUT_GRAD_ROUTE_FLAG, 'diagonal');
    expect(() => route(4, 2)).toThrow(/must be 'auto', 'spread' or 'phases', got 'diagonal'/);
  });

  test('the phase plan of a 3-tap, stride-2 axis: dx[2m] = dy[m−1]·f2 + dy[m]·f0, dx[2m+1] = dy[m]·f1', () => {
    expect(planDepthwisePhases(9, 3, 2, 0)).toEqual([
      { phase: 0, rows: 5, taps: [2, 0], offset: -1 },
      { phase: 1, rows: 4, taps: [1], offset: 0 },
    ]);
  });
});

describe('DepthwiseConv2dNativeBackpropInput on wasm', () => {
  test('hand-checked: one dy pixel spreads the filter over its window', async () => {
    const run = (stride: number, dyValues: number[], xShape: [number, number, number, number]) =>
      runOn(
        'wasm',
        () =>
          tf
            .engine()
            .runKernel(
              tf.DepthwiseConv2dNativeBackpropInput,
              { dy: tf.tensor4d(dyValues, [1, 2, 2, 1]), filter: tf.tensor4d([1, 2, 3, 4], [2, 2, 1, 1]) },
              { strides: stride, dilations: 1, pad: 'valid', inputShape: xShape } as {}
            ) as tf.Tensor
      );
    expectSame(await run(1, [1, 0, 0, 0], [1, 3, 3, 1]), { values: [1, 2, 0, 3, 4, 0, 0, 0, 0], shape: [1, 3, 3, 1] });
    const strided = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 3, 4];
    expectSame(await run(2, [0, 0, 0, 1], [1, 4, 4, 1]), { values: strided, shape: [1, 4, 4, 1] });
  });
});

describe('DepthwiseConv2dNativeBackpropFilter on wasm', () => {
  test.each(cases.map((c) => [name(c), c] as const))('%s matches cpu and float64', async (_, c) => {
    const wasm = await compare(c, filterGrad(c));
    const { info, grads } = reference(c);
    expectSame(wasm, { values: grads.dw, shape: info.filterShape });
  });

  test('hand-checked: multiplier 2 with dy of ones and of a single pixel', async () => {
    const result = await runOn(
      'wasm',
      () =>
        tf
          .engine()
          .runKernel(
            tf.DepthwiseConv2dNativeBackpropFilter,
            {
              x: tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]),
              dy: tf.tensor4d([1, 1, 1, 0, 1, 0, 1, 0], [1, 2, 2, 2]),
            },
            { strides: 1, dilations: 1, pad: 'valid', filterShape: [2, 2, 1, 2] } as {}
          ) as tf.Tensor
    );
    // Channel 0 of dy is all ones (window sums of 1..9); channel 1 is one at the first pixel (its window).
    expectSame(result, { values: [12, 1, 16, 2, 24, 4, 28, 5], shape: [2, 2, 1, 2] });
  });
});

test('tf.grad through tf.depthwiseConv2d trains on wasm as on cpu', async () => {
  for (const c of [cases[1], cases[6]]) {
    await expectWasmMatchesCpu(() => {
      const info = infoOf(c);
      const conv = (x: tf.Tensor, w: tf.Tensor) =>
        tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.stride as [number, number], c.pad);
      const [dx, dw] = tf.grads(conv)([input(c.x, 1), input(info.filterShape, 3)], input(info.outShape, 2));
      return tf.concat([tf.reshape(dx, [-1]), tf.reshape(dw, [-1])]);
    });
  }
});
