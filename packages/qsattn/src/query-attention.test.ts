import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { TEST_BACKENDS, checkOp, expectClose, testValues, useBackend, type RefArray } from '../../core/src/testing/harness';
import type { LocalLayout } from './local-windows';
import { attendQueries, queryAttention } from './query-attention';
import { selectQueries } from './select-queries';
import { globalAttend64, localAttend64, type Features } from './testing/reference';
import { toTokens } from './tokens';

const asFeatures = (a: RefArray): Features => ({ values: a.values, shape: a.shape as Features['shape'] });
// Fixed selections (the gradient is taken with the selection held fixed, as in the official code).
const IDS = [Int32Array.from([3, 17, 0, 9, 11, 5]), Int32Array.from([19, 2, 8, 14, 6, 10])];

describe.each(TEST_BACKENDS)('query attention on %s', (backend) => {
  test('global: x_q = A[sel]·T_q, against float64 and finite differences in both feature maps', async () => {
    await useBackend(backend);
    await checkOp({
      inputs: [[2, 4, 5, 3], [2, 4, 5, 3]],
      op: (featK, featQ) =>
        tf.tidy(() => {
          const attn = queryAttention(featK as tf.Tensor4D, IDS, { mode: 'global' });
          return attendQueries(featQ as tf.Tensor4D, attn, IDS, { mode: 'global' });
        }),
      reference: (featK, featQ) => ({
        values: Float64Array.from(IDS.flatMap((ids, b) => globalAttend64(asFeatures(featQ), b, [...ids], asFeatures(featK)).flat())),
        shape: [12, 3],
      }),
    });
  });

  test.each(['official-code', 'paper-window'] as LocalLayout[])('local (%s): against float64 and finite differences', async (layout) => {
    await useBackend(backend);
    const local = { layout, windowSize: 3 };
    await checkOp({
      inputs: [[2, 4, 5, 3], [2, 4, 5, 3]],
      op: (featK, featQ) =>
        tf.tidy(() => {
          const attn = queryAttention(featK as tf.Tensor4D, IDS, { mode: 'local', local });
          return attendQueries(featQ as tf.Tensor4D, attn, IDS, { mode: 'local', local });
        }),
      reference: (featK, featQ) => ({
        values: Float64Array.from(IDS.flatMap((ids, b) => localAttend64(asFeatures(featQ), b, [...ids], 3, layout, asFeatures(featK)).flat())),
        shape: [12, 3],
      }),
    });
  });

  test('recomputing only the selected rows gives the values and gradients of the full HW×HW computation', async () => {
    await useBackend(backend);
    const shape: [number, number, number, number] = [2, 6, 7, 5];
    const size = shape.reduce((a, b) => a * b, 1);
    const featK = tf.tensor4d(Float32Array.from(testValues(size, 5), (v) => 1.5 * v), shape);
    const featQ = tf.tensor4d(Float32Array.from(testValues(size, 6)), shape);
    const ids = selectQueries(featK, { mode: 'global', numQueries: 10, blockSize: 9 });
    const weights = tf.tensor2d(Float32Array.from(testValues(20 * 5, 7)), [20, 5]);
    const selectedRows = tf.tensor1d(Int32Array.from(ids.flatMap((list, b) => [...list].map((p) => b * 42 + p))), 'int32');

    const recomputed = (k: tf.Tensor, q: tf.Tensor): tf.Scalar => {
      const attn = queryAttention(k as tf.Tensor4D, ids, { mode: 'global' });
      return tf.sum(tf.mul(attendQueries(q as tf.Tensor4D, attn, ids, { mode: 'global' }), weights));
    };
    const full = (k: tf.Tensor, q: tf.Tensor): tf.Scalar => {
      const tokens = toTokens(k as tf.Tensor4D);
      const attention = tf.softmax(tf.matMul(tokens, tokens, false, true)); // [B, HW, HW], all rows
      const selected = tf.reshape(tf.gather(tf.reshape(attention, [2 * 42, 42]), selectedRows), [2, 10, 42]);
      const x = tf.reshape(tf.matMul(selected, toTokens(q as tf.Tensor4D)), [20, 5]);
      return tf.sum(tf.mul(x, weights));
    };
    const a = tf.valueAndGrads(recomputed)([featK, featQ]);
    const b = tf.valueAndGrads(full)([featK, featQ]);
    expectClose(await a.value.data(), await b.value.data(), { rel: 1e-6, abs: 1e-6 });
    for (let i = 0; i < 2; i++) expectClose(await a.grads[i].data(), await b.grads[i].data(), { rel: 1e-5, abs: 1e-7 });
    tf.dispose([featK, featQ, weights, selectedRows, a.value, b.value, ...a.grads, ...b.grads]);
  });

  test("the paper's windows give other values than the official reading", async () => {
    await useBackend(backend);
    const feat = tf.tensor4d(Float32Array.from(testValues(60, 9)), [1, 4, 5, 3]);
    const x = (['official-code', 'paper-window'] as LocalLayout[]).map((layout) =>
      tf.tidy(() => {
        const local = { layout, windowSize: 3 };
        return attendQueries(feat, queryAttention(feat, [IDS[0]], { mode: 'local', local }), [IDS[0]], { mode: 'local', local });
      }),
    );
    const difference = tf.tidy(() => tf.max(tf.abs(tf.sub(x[0], x[1]))).dataSync()[0]);
    expect(difference).toBeGreaterThan(1e-2);
    tf.dispose([feat, ...x]);
  });
});
