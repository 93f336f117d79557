import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { TEST_BACKENDS, checkOp, expectClose, useBackend, type RefArray } from '../../core/src/testing/harness';
import { averageNceLoss, patchNceLoss } from './patch-nce';

/** Float64 PatchNCE per row, from SPEC: logits (q·k⁺, q·k⁻ of the same image, −10 on the diagonal) / τ. */
function patchNce64(q: RefArray, k: RefArray, batch: number, tau: number): RefArray {
  const [rows, dim] = q.shape;
  const n = rows / batch;
  const dot = (i: number, j: number): number => {
    let s = 0;
    for (let d = 0; d < dim; d++) s += q.values[i * dim + d] * k.values[j * dim + d];
    return s;
  };
  const out = new Float64Array(rows);
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < n; i++) {
      const row = b * n + i;
      const logits = [dot(row, row)];
      for (let j = 0; j < n; j++) logits.push(i === j ? -10 : dot(row, b * n + j));
      const scaled = logits.map((v) => v / tau);
      const max = Math.max(...scaled);
      const lse = max + Math.log(scaled.reduce((s, v) => s + Math.exp(v - max), 0));
      out[row] = lse - scaled[0];
    }
  }
  return { values: out, shape: [rows] };
}

describe.each(TEST_BACKENDS)('patchNceLoss on %s', (backend) => {
  test('per-row losses and the gradient in q against float64 and finite differences', async () => {
    await useBackend(backend);
    // The keys are detached, so they are fixed here (values from the same generator as the queries).
    const keyValues = Float32Array.from({ length: 24 }, (_, i) => Math.sin(3.7 * i + 1));
    const keys: RefArray = { values: Float64Array.from(keyValues), shape: [6, 4] };
    const k = tf.tensor2d(keyValues, [6, 4]);
    await checkOp({
      inputs: [[6, 4]],
      op: (q) => patchNceLoss(q as tf.Tensor2D, k, { batchSize: 2, temperature: 0.5 }),
      reference: (q) => patchNce64(q, keys, 2, 0.5),
    });
    k.dispose();
  });

  test('detaches the keys; the NCE total is the mean over layers of mean rows × λ', async () => {
    await useBackend(backend);
    const q = tf.randomNormal([4, 3], 0, 1, 'float32', 1) as tf.Tensor2D;
    const k = tf.randomNormal([4, 3], 0, 1, 'float32', 2) as tf.Tensor2D;
    const key = tf.variable(k);
    const query = tf.variable(q);
    const { value, grads } = tf.variableGrads(() => tf.sum(patchNceLoss(query, key, { batchSize: 1 })), [query, key]);
    expect(Object.keys(grads)).toEqual([query.name]);
    const rows = [tf.tensor1d([1, 2, 3]), tf.tensor1d([5, 7])];
    const total = averageNceLoss(rows, { lambda: 2 });
    expectClose(await total.data(), [((2 + 6) / 2) * 2], { rel: 1e-7, abs: 0 });
    expect(() => patchNceLoss(q, k, { batchSize: 3 })).toThrow(/do not split into batchSize 3/);
    tf.dispose([q, k, key, query, value, ...Object.values(grads), total, ...rows]);
  });
});
