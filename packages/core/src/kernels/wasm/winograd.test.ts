import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, test } from 'vitest';
import { expectClose, useBackend } from '../../testing/harness';
import { convGradsRef, explicitPadding as explicit, input, runOn } from './test-support';
import {
  CONV2D_ROUTE_FLAG,
  WINOGRAD_BAND_FLAG,
  cachedWinogradFilters,
  chooseConv2DRoute,
  releaseWinogradFilters,
  takingGradient,
  winogradComputes,
  winogradFits,
} from './winograd';
import './register';

type Pad = tf.Conv2DAttrs['pad'];
interface Case {
  x: [number, number, number, number];
  co: number;
  pad: Pad;
  /** Floats per band, to split small maps into several bands. */
  band?: number;
}

const cases: Case[] = [
  // The generator's ResNet block conv (reflection padded before, so 'valid'), even output.
  { x: [1, 10, 10, 8], co: 8, pad: 'valid' },
  // Its encoder/decoder convs: zero padding 1, and an odd output size both ways.
  { x: [1, 7, 9, 5], co: 6, pad: 1 },
  { x: [2, 6, 5, 3], co: 4, pad: 'same' },
  // Asymmetric and wide padding (the input gradient of a 'valid' conv pads by 2).
  { x: [1, 5, 6, 4], co: 3, pad: explicit(2, 0, 1, 2) },
  { x: [2, 4, 4, 3], co: 2, pad: 2 },
  // One output row or column, a single tile.
  { x: [1, 3, 8, 2], co: 3, pad: 'valid' },
  { x: [1, 2, 2, 2], co: 2, pad: explicit(0, 1, 1, 0) },
  // Several bands of tile rows, crossing from one image of the batch into the next.
  { x: [3, 9, 8, 6], co: 5, pad: 1, band: 4 * 6 * 2 },
  { x: [2, 12, 6, 4], co: 7, pad: 'valid', band: 1 },
];

const name = (c: Case) => `x ${c.x} co ${c.co} pad ${JSON.stringify(c.pad)}${c.band ? ` band ${c.band}` : ''}`;
const infoOf = (c: Case) => tf.backend_util.computeConv2DInfo(c.x, [3, 3, c.x[3], c.co], 1, 1, c.pad);

/** y = conv(x, w) in float64 from its definition: Σ_{i,j,ci} x[n, ho + i − top, wo + j − left, ci] · w[i,j,ci,co]. */
function forward64(c: Case): Float64Array {
  const info = infoOf(c);
  const xv = input(c.x, 1).dataSync();
  const wv = input(info.filterShape, 2).dataSync();
  const [n, h, w, ci] = c.x;
  const { outHeight: oh, outWidth: ow, outChannels: co } = info;
  const y = new Float64Array(n * oh * ow * co);
  for (let b = 0; b < n; b++)
    for (let r = 0; r < oh; r++)
      for (let s = 0; s < ow; s++)
        for (let i = 0; i < 3; i++) {
          const iy = r + i - info.padInfo.top;
          if (iy < 0 || iy >= h) continue;
          for (let j = 0; j < 3; j++) {
            const ix = s + j - info.padInfo.left;
            if (ix < 0 || ix >= w) continue;
            for (let k = 0; k < ci; k++) {
              const xk = xv[((b * h + iy) * w + ix) * ci + k];
              for (let q = 0; q < co; q++) y[((b * oh + r) * ow + s) * co + q] += xk * wv[((i * 3 + j) * ci + k) * co + q];
            }
          }
        }
  return y;
}

afterEach(() => {
  tf.env().set(CONV2D_ROUTE_FLAG, 'auto');
  tf.env().set(WINOGRAD_BAND_FLAG, 1 << 19);
});

/** The two tile sizes, each with its bound against float64 (relative to the output's largest magnitude). */
const variants = [
  { route: 'winograd', name: 'F(2×2, 3×3)', rel: 2e-6 },
  { route: 'winograd4', name: 'F(4×4, 3×3)', rel: 4e-6 },
] as const;

for (const v of variants) {
  describe(`Winograd ${v.name} conv on wasm`, () => {
    for (const c of cases) {
      test(`forward against float64: ${name(c)}`, async () => {
        await useBackend('wasm');
        tf.env().set(CONV2D_ROUTE_FLAG, v.route);
        if (c.band) tf.env().set(WINOGRAD_BAND_FLAG, c.band);
        expect(chooseConv2DRoute(infoOf(c))).toBe(v.route);
        const got = await runOn('wasm', () => tf.conv2d(input(c.x, 1) as tf.Tensor4D, input(infoOf(c).filterShape, 2) as tf.Tensor4D, 1, c.pad));
        expect(got.shape).toEqual(infoOf(c).outShape);
        expectClose(got.values, forward64(c), { rel: v.rel, abs: 0 });
      });
    }

    for (const c of cases) {
      test(`both gradients against float64 (dx is a Winograd conv of dy): ${name(c)}`, async () => {
        await useBackend('wasm');
        tf.env().set(CONV2D_ROUTE_FLAG, v.route);
        if (c.band) tf.env().set(WINOGRAD_BAND_FLAG, c.band);
        const info = infoOf(c);
        const [x, w, dy] = [input(c.x, 1), input(info.filterShape, 2), input(info.outShape, 3)];
        const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, c.pad))([x, w], dy);
        const want = convGradsRef(x, w, dy, info, false);
        expectClose(dx.dataSync(), want.dx, { rel: v.rel, abs: 0 });
        expectClose(dw.dataSync(), want.dw, { rel: 2e-6, abs: 0 });
        tf.dispose([x, w, dy, dx, dw]);
      });
    }
  });
}

describe('Winograd convs on wasm', () => {
  test('a filter is transformed once while it lives, and its transform is freed with it', async () => {
    await useBackend('wasm');
    tf.env().set(CONV2D_ROUTE_FLAG, 'winograd');
    releaseWinogradFilters();
    const buffers = tf.engine().backend.numDataIds();
    const [x, w] = [input([1, 6, 6, 4], 1), input([3, 3, 4, 4], 2)];
    const first = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'valid');
    expect(cachedWinogradFilters()).toBe(1);
    const again = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'valid');
    expect(cachedWinogradFilters()).toBe(1);
    expect(Buffer.from(again.dataSync().buffer).equals(Buffer.from(first.dataSync().buffer))).toBe(true);
    tf.dispose([first, again, w]);
    expect(cachedWinogradFilters()).toBe(0);
    x.dispose();
    expect(tf.engine().backend.numDataIds()).toBe(buffers);
  });

  test('a filter still held keeps its transform until releaseWinogradFilters', async () => {
    await useBackend('wasm');
    tf.env().set(CONV2D_ROUTE_FLAG, 'winograd');
    const [x, w] = [input([1, 4, 4, 2], 1), input([3, 3, 2, 3], 2)];
    tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same').dispose();
    expect(cachedWinogradFilters()).toBe(1);
    releaseWinogradFilters();
    expect(cachedWinogradFilters()).toBe(0);
    tf.dispose([x, w]);
  });

  test("'auto' takes it where it pays, wasm's direct conv elsewhere, and 'direct' everywhere", async () => {
    await useBackend('wasm');
    const info = (x: [number, number, number, number], co: number, k = 3, stride = 1, pad: Pad = 'valid') =>
      tf.backend_util.computeConv2DInfo(x, [k, k, x[3], co], stride, 1, pad);
    // The 256-px generator's ResNet blocks (64² × 256) and its 128-px map convs: F(4,3) on one thread; on two, a
    // new filter takes F(2,3) at 64² and F(4,3) at 128², and one seen before F(4,3) from 32² outputs.
    expect(chooseConv2DRoute(info([1, 66, 66, 256], 256))).toBe('winograd4');
    expect(chooseConv2DRoute(info([1, 66, 66, 256], 256), false, 2)).toBe('winograd');
    expect(chooseConv2DRoute(info([1, 66, 66, 256], 256), true, 2)).toBe('winograd4');
    expect(chooseConv2DRoute(info([1, 128, 128, 128], 256, 3, 1, 1), false, 2)).toBe('winograd4');
    expect(chooseConv2DRoute(info([1, 34, 34, 256], 256))).toBe('winograd');
    expect(chooseConv2DRoute(info([1, 34, 34, 256], 256), true)).toBe('winograd4');
    // The 64-px generator's blocks (16² × 256): F(2,3), seen or not.
    expect(chooseConv2DRoute(info([1, 18, 18, 256], 256))).toBe('winograd');
    expect(chooseConv2DRoute(info([1, 18, 18, 256], 256), true)).toBe('winograd');
    // Under a gradient computation, F(2,3) wherever Winograd fits.
    expect(chooseConv2DRoute(info([1, 66, 66, 256], 256), true, 1, true)).toBe('winograd');
    expect(chooseConv2DRoute(info([1, 128, 128, 128], 256, 3, 1, 1), false, 1, true)).toBe('winograd');
    expect(chooseConv2DRoute(info([1, 18, 18, 64], 64), true, 1, true)).toBe('direct');
    // Too small to pay: few channels, or a small map.
    expect(chooseConv2DRoute(info([1, 64, 64, 16], 32, 3, 1, 1))).toBe('direct');
    expect(chooseConv2DRoute(info([1, 18, 18, 64], 64))).toBe('direct');
    expect(winogradComputes(info([1, 18, 18, 64], 64))).toBe(true);
    expect(winogradFits(info([4, 18, 18, 64], 64))).toBe(true);
    expect(winogradFits(info([1, 32, 32, 32], 64, 3, 1, 1))).toBe(false);
    expect(winogradFits(info([1, 64, 64, 32], 32, 3, 1, 1))).toBe(true);
    // Not a conv it computes: other sizes, strides, dilations.
    expect(winogradComputes(info([1, 66, 66, 256], 256, 3, 2))).toBe(false);
    expect(winogradComputes(info([1, 66, 66, 256], 256, 7))).toBe(false);
    expect(winogradComputes(tf.backend_util.computeConv2DInfo([1, 66, 66, 256], [3, 3, 256, 256], 1, 2, 'same'))).toBe(false);
    tf.env().set(CONV2D_ROUTE_FLAG, 'direct');
    expect(chooseConv2DRoute(info([1, 66, 66, 256], 256))).toBe('direct');
    tf.env().set(CONV2D_ROUTE_FLAG, 'fast');
    expect(() => chooseConv2DRoute(info([1, 66, 66, 256], 256))).toThrow(
      "QSATTN_WASM_CONV2D_ROUTE must be 'auto', 'winograd', 'winograd4' or 'direct', got 'fast'",
    );
  });

  test('takingGradient: on in a recorded forward and in the backward pass, off outside them', async () => {
    await useBackend('wasm');
    const seen: Record<string, boolean> = {};
    const probe = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const x = args[0] as tf.Tensor;
      seen.forward = takingGradient();
      return {
        value: x.clone(),
        gradFunc: (dy: tf.Tensor) => {
          seen.backward = takingGradient();
          return dy.clone();
        },
      };
    }) as (x: tf.Tensor) => tf.Tensor;
    seen.outside = takingGradient();
    const x = tf.ones([2]);
    tf.grad((a: tf.Tensor) => tf.sum(probe(a)))(x).dispose();
    expect(seen).toEqual({ outside: false, forward: true, backward: true });
    probe(x).dispose();
    expect(seen.forward).toBe(false);
    x.dispose();
  });

  test("'auto' moves a filter to F(4,3) on its second use, giving its F(2,3) transform back", async () => {
    await useBackend('wasm');
    releaseWinogradFilters();
    const c: Case = { x: [2, 34, 34, 64], co: 32, pad: 'valid' };
    // 128 tiles of 4×4: below the new-filter bound on any thread count, above the seen one.
    expect(chooseConv2DRoute(infoOf(c))).toBe('winograd');
    expect(chooseConv2DRoute(infoOf(c), true)).toBe('winograd4');
    const want = forward64(c);
    const [x, w] = [input(c.x, 1), input(infoOf(c).filterShape, 2)];
    const buffers = tf.engine().backend.numDataIds();
    const first = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, c.pad);
    expect(tf.engine().backend.numDataIds() - buffers).toBe(1 + 16);
    const second = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, c.pad);
    expect(tf.engine().backend.numDataIds() - buffers).toBe(2 + 36);
    expect(cachedWinogradFilters()).toBe(1);
    expectClose(first.dataSync(), want, { rel: 2e-6, abs: 0 });
    // F(4,3)'s error grows with the sum's length (9·64 here): ~10× F(2,3)'s, ~5e-6 relative to the output's largest.
    expectClose(second.dataSync(), want, { rel: 2e-5, abs: 0 });
    tf.dispose([first, second, w]);
    expect(cachedWinogradFilters()).toBe(0);
    x.dispose();
    expect(tf.engine().backend.numDataIds()).toBe(buffers - 2);
  });

  test('at full size it agrees with the direct conv and is no less accurate against float64', async () => {
    await useBackend('wasm');
    const c: Case = { x: [1, 18, 18, 64], co: 64, pad: 'valid' };
    const want = forward64(c);
    const run = (route: string) => {
      tf.env().set(CONV2D_ROUTE_FLAG, route);
      return runOn('wasm', () => tf.conv2d(input(c.x, 1) as tf.Tensor4D, input(infoOf(c).filterShape, 2) as tf.Tensor4D, 1, c.pad));
    };
    const worst = (values: ArrayLike<number>) => {
      let e = 0;
      for (let i = 0; i < want.length; i++) e = Math.max(e, Math.abs(values[i] - want[i]));
      return e;
    };
    const winograd = await run('winograd');
    const direct = await run('direct');
    expect(worst(winograd.values)).toBeLessThanOrEqual(worst(direct.values));
    expectClose(winograd.values, direct.values, { rel: 1e-6, abs: 0 });
  });
});
