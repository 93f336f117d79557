// Test-only helpers for the wasm training kernels: leak-checked runs on one backend, and float64 references
// of the convolution gradients written from the forward definition (they share no code with the kernels).
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { expectClose, testValues, useBackend, type TestBackend } from '../../testing/harness';

export interface Result {
  values: Float32Array | Int32Array;
  shape: number[];
}

/**
 * Runs `fn` on `backend` (it should build its inputs inside, so tidy frees them) and reads the result outside
 * the tidy. Fails if a tensor or a backend buffer outlives the call.
 */
export async function runOn(backend: TestBackend, fn: () => tf.Tensor): Promise<Result> {
  await useBackend(backend);
  const tensors = tf.memory().numTensors;
  const buffers = tf.engine().backend.numDataIds();
  const out = tf.tidy(fn);
  const result = { values: out.dataSync() as Float32Array | Int32Array, shape: out.shape };
  out.dispose();
  expect(tf.memory().numTensors).toBe(tensors);
  expect(tf.engine().backend.numDataIds()).toBe(buffers);
  return result;
}

export function expectSame(actual: Result, expected: { values: ArrayLike<number>; shape: number[] }): void {
  expect(actual.shape).toEqual(expected.shape);
  expectClose(actual.values, expected.values);
}

/** Runs `fn` on wasm and on cpu and expects the same result. */
export async function expectWasmMatchesCpu(fn: () => tf.Tensor): Promise<Result> {
  const wasm = await runOn('wasm', fn);
  expectSame(wasm, await runOn('cpu', fn));
  return wasm;
}

/** NHWC explicit padding: `t`, `b` rows above and below, `l`, `r` columns left and right. */
export const explicitPadding = (t: number, b: number, l: number, r: number): tf.backend_util.ExplicitPadding => [
  [0, 0],
  [t, b],
  [l, r],
  [0, 0],
];

export const input = (shape: number[], seed: number): tf.Tensor =>
  tf.tensor(Float32Array.from(testValues(tf.util.sizeFromShape(shape), seed)), shape);

export interface ConvGrads {
  dx: Float64Array;
  dw: Float64Array;
}

/**
 * Both gradients of y[n,ho,wo,g·m+q] = Σ x[n, ho·sh + i·dh − top, wo·sw + j·dw − left, ·] · w[i,j,·,·] by
 * scattering dy over the forward sum. `depthwise`: w is [kh,kw,C,m] and input channel c feeds only outputs
 * c·m..c·m+m−1; otherwise w is [kh,kw,Ci,Co]. Pads and sizes come from tfjs's computeConv2DInfo.
 */
export function convGradsRef(
  x: tf.Tensor,
  w: tf.Tensor,
  dy: tf.Tensor,
  info: tf.backend_util.Conv2DInfo,
  depthwise: boolean
): ConvGrads {
  const xv = Float64Array.from(x.dataSync());
  const wv = Float64Array.from(w.dataSync());
  const dyv = Float64Array.from(dy.dataSync());
  const [n, h, wd, ci] = x.shape;
  const [kh, kw, , wo4] = w.shape;
  const [, oh, ow, co] = dy.shape;
  const dx = new Float64Array(xv.length);
  const dw = new Float64Array(wv.length);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < oh; y++)
      for (let xx = 0; xx < ow; xx++)
        for (let i = 0; i < kh; i++) {
          const iy = y * info.strideHeight + i * info.dilationHeight - info.padInfo.top;
          if (iy < 0 || iy >= h) continue;
          for (let j = 0; j < kw; j++) {
            const ix = xx * info.strideWidth + j * info.dilationWidth - info.padInfo.left;
            if (ix < 0 || ix >= wd) continue;
            for (let c = 0; c < ci; c++) {
              const xi = ((b * h + iy) * wd + ix) * ci + c;
              const outs = depthwise ? wo4 : co;
              for (let q = 0; q < outs; q++) {
                const o = depthwise ? c * wo4 + q : q;
                const g = dyv[((b * oh + y) * ow + xx) * co + o];
                const wi = ((i * kw + j) * ci + c) * wo4 + q;
                dx[xi] += g * wv[wi];
                dw[wi] += g * xv[xi];
              }
            }
          }
        }
  return { dx, dw };
}
