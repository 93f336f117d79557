import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';
import '../testing/harness';
import { TEST_BACKENDS, expectClose, expectNoLeaks, testValues, useBackend } from '../testing/harness';
import {
  nchwToNhwc,
  nhwcToNchw,
  tfjsConvToTorch,
  tfjsConvTransposeToTorch,
  tfjsDepthwiseToTorch,
  tfjsLinearToTorch,
  torchConvToTfjs,
  torchConvTransposeToTfjs,
  torchDepthwiseToTfjs,
  torchLinearToTfjs,
} from './layout';

/** A tensor whose element at index (a, b, c, d) is the number abcd in base 10 (dims < 10). */
function labelled(shape: [number, number, number, number]): tf.Tensor4D {
  const values: number[] = [];
  for (let a = 0; a < shape[0]; a++)
    for (let b = 0; b < shape[1]; b++)
      for (let c = 0; c < shape[2]; c++)
        for (let d = 0; d < shape[3]; d++) values.push(a * 1000 + b * 100 + c * 10 + d);
  return tf.tensor4d(values, shape);
}

/** Row-major index of `index` in `shape`. */
const at = (shape: number[], index: number[]) => index.reduce((flat, i, d) => flat * shape[d] + i, 0);

/** torch's conv2d (cross-correlation, no padding, stride 1) on NCHW x [1, C, H, W] and weight [O, C/groups, kh, kw]. */
function torchConv(
  x: Float64Array,
  [C, H, W]: number[],
  w: Float64Array,
  [O, Cg, kh, kw]: number[],
  groups = 1,
): Float64Array {
  const [Ho, Wo] = [H - kh + 1, W - kw + 1];
  const y = new Float64Array(O * Ho * Wo);
  for (let o = 0; o < O; o++)
    for (let i = 0; i < Ho; i++)
      for (let j = 0; j < Wo; j++)
        for (let cg = 0; cg < Cg; cg++)
          for (let ky = 0; ky < kh; ky++)
            for (let kx = 0; kx < kw; kx++) {
              const c = Math.floor(o / (O / groups)) * Cg + cg;
              y[at([O, Ho, Wo], [o, i, j])] +=
                x[at([C, H, W], [c, i + ky, j + kx])] * w[at([O, Cg, kh, kw], [o, cg, ky, kx])];
            }
  return y;
}

/** torch's conv_transpose2d (no padding) on x [1, C, H, W] and weight [C, O, kh, kw]. */
function torchConvTranspose(
  x: Float64Array,
  [C, H, W]: number[],
  w: Float64Array,
  [, O, kh, kw]: number[],
  stride: number,
): Float64Array {
  const [Ho, Wo] = [(H - 1) * stride + kh, (W - 1) * stride + kw];
  const y = new Float64Array(O * Ho * Wo);
  for (let c = 0; c < C; c++)
    for (let i = 0; i < H; i++)
      for (let j = 0; j < W; j++)
        for (let o = 0; o < O; o++)
          for (let ky = 0; ky < kh; ky++)
            for (let kx = 0; kx < kw; kx++) {
              y[at([O, Ho, Wo], [o, i * stride + ky, j * stride + kx])] +=
                x[at([C, H, W], [c, i, j])] * w[at([C, O, kh, kw], [c, o, ky, kx])];
            }
  return y;
}

describe.each(TEST_BACKENDS)('layout conversions (%s)', (backend) => {
  beforeAll(() => useBackend(backend));

  test('conv weight [o, i, y, x] lands at [y, x, i, o], and back', () => {
    const torch = labelled([4, 3, 2, 5]);
    const tfjs = torchConvToTfjs(torch);
    expect(tfjs.shape).toEqual([2, 5, 3, 4]);
    const values = tfjs.arraySync();
    for (let o = 0; o < 4; o++)
      for (let i = 0; i < 3; i++)
        for (let y = 0; y < 2; y++)
          for (let x = 0; x < 5; x++) expect(values[y][x][i][o]).toBe(o * 1000 + i * 100 + y * 10 + x);
    const back = tfjsConvToTorch(tfjs);
    expect(back.arraySync()).toEqual(torch.arraySync());
    tf.dispose([torch, tfjs, back]);
  });

  test('conv transpose weight [i, o, y, x] lands at [y, x, o, i], and back', () => {
    const torch = labelled([3, 4, 2, 2]);
    const tfjs = torchConvTransposeToTfjs(torch);
    const values = tfjs.arraySync();
    expect(tfjs.shape).toEqual([2, 2, 4, 3]);
    for (let i = 0; i < 3; i++)
      for (let o = 0; o < 4; o++)
        for (let y = 0; y < 2; y++)
          for (let x = 0; x < 2; x++) expect(values[y][x][o][i]).toBe(i * 1000 + o * 100 + y * 10 + x);
    const back = tfjsConvTransposeToTorch(tfjs);
    expect(back.arraySync()).toEqual(torch.arraySync());
    tf.dispose([torch, tfjs, back]);
  });

  test('depthwise filter [c, 0, y, x] lands at [y, x, c, 0], and back', () => {
    const torch = labelled([5, 1, 3, 3]);
    const tfjs = torchDepthwiseToTfjs(torch);
    const values = tfjs.arraySync();
    expect(tfjs.shape).toEqual([3, 3, 5, 1]);
    for (let c = 0; c < 5; c++)
      for (let y = 0; y < 3; y++) for (let x = 0; x < 3; x++) expect(values[y][x][c][0]).toBe(c * 1000 + y * 10 + x);
    const back = tfjsDepthwiseToTorch(tfjs);
    expect(back.arraySync()).toEqual(torch.arraySync());
    tf.dispose([torch, tfjs, back]);
  });

  test('linear [o, i] lands at [i, o], and activations NCHW [b, c, y, x] at NHWC [b, y, x, c]', () => {
    const linear = tf.tensor2d([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const converted = torchLinearToTfjs(linear);
    expect(converted.arraySync()).toEqual([
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
    const linearBack = tfjsLinearToTorch(converted);
    expect(linearBack.arraySync()).toEqual(linear.arraySync());
    const nchw = labelled([2, 3, 4, 5]);
    const nhwc = nchwToNhwc(nchw);
    const values = nhwc.arraySync();
    expect(nhwc.shape).toEqual([2, 4, 5, 3]);
    for (let b = 0; b < 2; b++)
      for (let c = 0; c < 3; c++)
        for (let y = 0; y < 4; y++)
          for (let x = 0; x < 5; x++) expect(values[b][y][x][c]).toBe(b * 1000 + c * 100 + y * 10 + x);
    const nchwBack = nhwcToNchw(nhwc);
    expect(nchwBack.arraySync()).toEqual(nchw.arraySync());
    tf.dispose([linear, converted, linearBack, nchw, nhwc, nchwBack]);
  });

  test('converted weights compute what torch computes: conv2d, conv_transpose2d, depthwise, linear', () => {
    const [C, H, W, O] = [3, 5, 6, 4];
    const x = testValues(C * H * W, 1);
    const xNhwc = tf.tidy(() => nchwToNhwc(tf.tensor4d(Float32Array.from(x), [1, C, H, W])));

    const w = testValues(O * C * 3 * 2, 2);
    const conv = tf.tidy(() =>
      nhwcToNchw(tf.conv2d(xNhwc, torchConvToTfjs(tf.tensor4d(Float32Array.from(w), [O, C, 3, 2])), 1, 'valid')),
    );
    expectClose(conv.dataSync(), torchConv(x, [C, H, W], w, [O, C, 3, 2]));

    const wt = testValues(C * O * 3 * 3, 3);
    const transposed = tf.tidy(() => {
      const filter = torchConvTransposeToTfjs(tf.tensor4d(Float32Array.from(wt), [C, O, 3, 3]));
      return nhwcToNchw(tf.conv2dTranspose(xNhwc, filter, [1, (H - 1) * 2 + 3, (W - 1) * 2 + 3, O], 2, 'valid'));
    });
    expectClose(transposed.dataSync(), torchConvTranspose(x, [C, H, W], wt, [C, O, 3, 3], 2));

    const wd = testValues(C * 3 * 3, 4);
    const depthwise = tf.tidy(() =>
      nhwcToNchw(
        tf.depthwiseConv2d(xNhwc, torchDepthwiseToTfjs(tf.tensor4d(Float32Array.from(wd), [C, 1, 3, 3])), 1, 'valid'),
      ),
    );
    expectClose(depthwise.dataSync(), torchConv(x, [C, H, W], wd, [C, 1, 3, 3], C));

    const wl = testValues(2 * C, 5);
    const linear = tf.tidy(() =>
      tf.matMul(
        tf.tensor2d(Float32Array.from(x.subarray(0, C)), [1, C]),
        torchLinearToTfjs(tf.tensor2d(Float32Array.from(wl), [2, C])),
      ),
    );
    expectClose(
      linear.dataSync(),
      [0, 1].map((o) => [0, 1, 2].reduce((s, i) => s + x[i] * wl[o * C + i], 0)),
    );
    tf.dispose([xNhwc, conv, transposed, depthwise, linear]);
  });

  test('wrong ranks and depthwise shapes are refused with the expected layout', () => {
    const matrix = tf.zeros([3, 4]);
    const grouped = tf.zeros([4, 2, 3, 3]);
    expect(() => torchConvToTfjs(matrix)).toThrowError(
      'torchConvToTfjs expects a rank-4 tensor [out, in, kh, kw], got shape [3, 4]',
    );
    expect(() => nchwToNhwc(matrix)).toThrowError('nchwToNhwc expects a rank-4 tensor [B, C, H, W], got shape [3, 4]');
    expect(() => torchLinearToTfjs(grouped)).toThrowError(
      'torchLinearToTfjs expects a rank-2 tensor [out, in], got shape [4, 2, 3, 3]',
    );
    expect(() => torchDepthwiseToTfjs(grouped)).toThrowError(
      /expects \[C, 1, kh, kw\] \(one input channel per group\), got shape \[4, 2, 3, 3\]/,
    );
    tf.dispose([matrix, grouped]);
  });

  test('leaks no tensors', async () => {
    const w = tf.zeros([2, 3, 3, 3]);
    const d = tf.zeros([2, 1, 3, 3]);
    const l = tf.zeros([2, 3]);
    const fns = [
      torchConvToTfjs,
      tfjsConvToTorch,
      torchConvTransposeToTfjs,
      tfjsConvTransposeToTorch,
      nchwToNhwc,
      nhwcToNchw,
    ];
    await expectNoLeaks(() => [
      ...fns.map((f) => f(w)),
      torchDepthwiseToTfjs(d),
      torchLinearToTfjs(l),
      tfjsLinearToTorch(l),
    ]);
    tf.dispose([w, d, l]);
  });
});
