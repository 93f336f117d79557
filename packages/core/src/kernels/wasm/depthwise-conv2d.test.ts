import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../testing/harness';
import { describe, expect, test } from 'vitest';
import { depthwiseConv2dNativeConfig, fastDepthwiseWindow } from './depthwise-conv2d';
import { expectSame, expectWasmMatchesCpu, input, runOn } from './test-support';

type Pad = tf.DepthwiseConv2dNativeAttrs['pad'];
interface Case {
  x: [number, number, number, number];
  k: [number, number];
  multiplier: number;
  stride: number | [number, number];
  dilation: number;
  pad: Pad;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** y[n,ho,wo,c·m+q] = Σ_{i,j} x[n, ho·sh + i·dh − top, wo·sw + j·dw − left, c] · w[i,j,c,q] in float64. */
function forward64(x: tf.Tensor, w: tf.Tensor, info: tf.backend_util.Conv2DInfo): Float64Array {
  const xv = x.dataSync();
  const wv = w.dataSync();
  const [n, h, wd, ci] = x.shape;
  const [kh, kw, , m] = w.shape;
  const { outHeight: oh, outWidth: ow } = info;
  const y = new Float64Array(n * oh * ow * ci * m);
  for (let b = 0; b < n; b++)
    for (let r = 0; r < oh; r++)
      for (let s = 0; s < ow; s++)
        for (let c = 0; c < ci; c++)
          for (let q = 0; q < m; q++) {
            let sum = 0;
            for (let i = 0; i < kh; i++) {
              const iy = r * info.strideHeight + i * info.dilationHeight - info.padInfo.top;
              if (iy < 0 || iy >= h) continue;
              for (let j = 0; j < kw; j++) {
                const ix = s * info.strideWidth + j * info.dilationWidth - info.padInfo.left;
                if (ix < 0 || ix >= wd) continue;
                sum += xv[((b * h + iy) * wd + ix) * ci + c] * wv[((i * kw + j) * ci + c) * m + q];
              }
            }
            y[(((b * oh + r) * ow + s) * ci + c) * m + q] = sum;
          }
  return y;
}

const cases: Case[] = [
  // The Upsample's filter, as its gradient runs it (stride 2) and as the phase form runs its sub-filters.
  { x: [2, 9, 10, 3], k: [4, 4], multiplier: 1, stride: 2, dilation: 1, pad: [[0, 0], [2, 2], [2, 2], [0, 0]] },
  { x: [1, 7, 8, 2], k: [4, 4], multiplier: 2, stride: 1, dilation: 1, pad: 'same' },
  { x: [1, 9, 8, 2], k: [4, 4], multiplier: 1, stride: [2, 1], dilation: 1, pad: 'valid' },
  { x: [1, 11, 10, 2], k: [4, 4], multiplier: 1, stride: 1, dilation: 2, pad: 'same' },
  { x: [2, 6, 7, 3], k: [2, 1], multiplier: 1, stride: 1, dilation: 1, pad: 'valid' },
  { x: [1, 6, 7, 2], k: [2, 3], multiplier: 2, stride: 2, dilation: 1, pad: 1 },
  { x: [1, 5, 9, 2], k: [1, 5], multiplier: 1, stride: 1, dilation: 1, pad: 'same' },
  // Sizes that are fast already, or have no fast window, go to wasm's own kernel unchanged.
  { x: [1, 7, 7, 2], k: [3, 3], multiplier: 1, stride: 2, dilation: 1, pad: 'same' },
  { x: [1, 9, 9, 2], k: [7, 7], multiplier: 1, stride: 1, dilation: 1, pad: 'same' },
  // A rounding mode whose output reads past the padding: the embedding would not fit, so wasm's own runs.
  { x: [1, 8, 8, 2], k: [4, 4], multiplier: 1, stride: 3, dilation: 1, pad: 1, dimRoundingMode: 'ceil' },
];

const name = (c: Case) =>
  `x ${c.x} k ${c.k} m ${c.multiplier} stride ${c.stride} dilation ${c.dilation} pad ${JSON.stringify(c.pad)}` +
  (c.dimRoundingMode ? ` ${c.dimRoundingMode}` : '');
const infoOf = (c: Case) =>
  tf.backend_util.computeConv2DInfo(c.x, [...c.k, c.x[3], c.multiplier], c.stride, c.dilation, c.pad, c.dimRoundingMode, true);

const conv = (c: Case, x: tf.Tensor, w: tf.Tensor) =>
  tf.engine().runKernel(tf.DepthwiseConv2dNative, { x, filter: w }, {
    strides: c.stride,
    dilations: c.dilation,
    pad: c.pad,
    dimRoundingMode: c.dimRoundingMode,
  } as {}) as tf.Tensor;

test('the fast window: the fewest taps among 3, 4, 9 and 25 that hold the filter, else the filter', () => {
  expect(fastDepthwiseWindow(4, 4)).toEqual([5, 5]);
  expect(fastDepthwiseWindow(2, 1)).toEqual([3, 1]);
  expect(fastDepthwiseWindow(1, 2)).toEqual([1, 3]);
  expect(fastDepthwiseWindow(2, 3)).toEqual([3, 3]);
  expect(fastDepthwiseWindow(1, 5)).toEqual([1, 9]);
  expect(fastDepthwiseWindow(2, 4)).toEqual([5, 5]);
  for (const fast of [[1, 1], [2, 2], [3, 3], [1, 3], [3, 1], [5, 5], [6, 6], [7, 7], [1, 9]]) {
    expect(fastDepthwiseWindow(fast[0], fast[1])).toEqual(fast);
  }
});

test('DepthwiseConv2dNative is ours once the wasm backend is set', async () => {
  await useBackend('wasm');
  expect(tf.getKernel(tf.DepthwiseConv2dNative, 'wasm')).toBe(depthwiseConv2dNativeConfig);
});

describe('DepthwiseConv2dNative on wasm', () => {
  test.each(cases.map((c) => [name(c), c] as const))('%s matches cpu and float64', async (_, c) => {
    const info = infoOf(c);
    const fn = () => conv(c, input(c.x, 1), input(info.filterShape, 2));
    // The cpu backend ignores dilations of depthwise convs: dilated cases are checked against float64 alone.
    const wasm = c.dilation === 1 ? await expectWasmMatchesCpu(fn) : await runOn('wasm', fn);
    const [x, w] = [input(c.x, 1), input(info.filterShape, 2)];
    expectSame(wasm, { values: forward64(x, w, info), shape: info.outShape });
    tf.dispose([x, w]);
  });

  test('a NaN input reaches the outputs whose window holds it, and at most those one zero tap further', async () => {
    const c = cases[1]; // 4×4 'same' (rows r−1 … r+2 of output row r), run as 5×5 (rows r−1 … r+3)
    const info = infoOf(c);
    const poisoned = () => {
      const values = input(c.x, 1).dataSync().slice();
      values[(3 * c.x[2] + 4) * c.x[3]] = Number.NaN; // row 3, column 4, channel 0
      return conv(c, tf.tensor4d(values, c.x), input(info.filterShape, 2));
    };
    const wasm = await runOn('wasm', poisoned);
    const cpu = await runOn('cpu', poisoned);
    const [, oh, ow, co] = info.outShape;
    const holds = (r: number, s: number, o: number, reach: number) =>
      o < c.multiplier && r - 1 <= 3 && 3 <= r + 2 + reach && s - 1 <= 4 && 4 <= s + 2 + reach;
    for (let r = 0; r < oh; r++) {
      for (let s = 0; s < ow; s++) {
        for (let o = 0; o < co; o++) {
          const at = (r * ow + s) * co + o;
          expect(Number.isNaN(cpu.values[at])).toBe(holds(r, s, o, 0));
          if (holds(r, s, o, 0)) expect(wasm.values[at]).toBeNaN();
          else if (!holds(r, s, o, 1)) expect(Math.abs(wasm.values[at] - cpu.values[at])).toBeLessThan(1e-5);
        }
      }
    }
  });

  test('tf.grad through a 4×4 depthwise conv trains on wasm as on cpu', async () => {
    const c = cases[0];
    await expectWasmMatchesCpu(() => {
      const info = infoOf(c);
      const f = (x: tf.Tensor, w: tf.Tensor) =>
        tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.stride as number, c.pad as tf.backend_util.ExplicitPadding);
      const [dx, dw] = tf.grads(f)([input(c.x, 1), input(info.filterShape, 2)], input(info.outShape, 3));
      return tf.concat([tf.reshape(dx, [-1]), tf.reshape(dw, [-1])]);
    });
  });
});
