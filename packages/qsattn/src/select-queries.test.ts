import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { TEST_BACKENDS, expectClose, expectNoLeaks, testValues, useBackend } from '../../core/src/testing/harness';
import type { LocalLayout } from './local-windows';
import type { QueryMode } from './query-mode';
import { lowestIds, queryEntropies, selectQueries } from './select-queries';
import { entropy64, globalAttentionRow64, localAttentionRow64, select64, type Features } from './testing/reference';

const SHAPE: [number, number, number, number] = [2, 5, 6, 4];

function features(seed = 3): Features {
  const n = SHAPE.reduce((a, b) => a * b, 1);
  // Scaled so that the attention rows are far from uniform and their entropies well apart.
  return { values: testValues(n, seed).map((v) => Math.fround(2 * v)), shape: SHAPE };
}

function referenceEntropies(f: Features, mode: QueryMode, layout: LocalLayout, k: number): number[][] {
  const [batch, h, w] = f.shape;
  return Array.from({ length: batch }, (_, b) =>
    Array.from({ length: h * w }, (_, p) =>
      entropy64(mode === 'global' ? globalAttentionRow64(f, b, p) : localAttentionRow64(f, b, p, k, layout)),
    ),
  );
}

describe.each(TEST_BACKENDS)('selectQueries on %s', (backend) => {
  const cases: [QueryMode, LocalLayout, number][] = [
    ['global', 'official-code', 7],
    ['local', 'official-code', 7],
    ['local', 'official-code', 3],
    ['local', 'paper-window', 3],
    ['local_global', 'official-code', 5],
  ];
  test.each(cases)('%s (%s, window %d): block-wise entropies equal the full computation and the float64 reference', async (mode, layout, k) => {
    await useBackend(backend);
    const f = features();
    const feat = tf.tensor4d(Float32Array.from(f.values), f.shape);
    const local = { layout, windowSize: k };
    const reference = referenceEntropies(f, mode, layout, k);
    await expectNoLeaks(async () => {
      const blocked = queryEntropies(feat, { mode, local, blockSize: 7 });
      const whole = queryEntropies(feat, { mode, local, blockSize: 1000 });
      expectClose(await blocked.data(), await whole.data(), { rel: 1e-6, abs: 1e-7 });
      expectClose(await blocked.data(), reference.flat(), { rel: 1e-4, abs: 1e-5 });
      const ids = selectQueries(feat, { mode, local, numQueries: 8, blockSize: 7 });
      expect(ids.map((list) => [...list])).toEqual(reference.map((e) => select64(e, 8)));
      return [blocked, whole];
    });
    feat.dispose();
  });

  test("the paper's true windows select differently from the official reading", async () => {
    await useBackend(backend);
    const f = features(11);
    const feat = tf.tensor4d(Float32Array.from(f.values), f.shape);
    const official = selectQueries(feat, { mode: 'local', numQueries: 8 });
    const paper = selectQueries(feat, { mode: 'local', numQueries: 8, local: { layout: 'paper-window' } });
    expect(paper.map((l) => [...l])).not.toEqual(official.map((l) => [...l]));
    feat.dispose();
  });

  test('selection inside tf.grads is kept off the tape (holds no tensors afterwards)', async () => {
    await useBackend(backend);
    const f = features();
    const feat = tf.tensor4d(Float32Array.from(f.values), f.shape);
    let held = -1;
    const [g] = tf.grads((x: tf.Tensor) => {
      const before = tf.memory().numTensors;
      selectQueries(x as tf.Tensor4D, { mode: 'global', numQueries: 4, blockSize: 8 });
      held = tf.memory().numTensors - before;
      return tf.sum(x);
    })([feat]);
    expect(held).toBe(0);
    tf.dispose([g, feat]);
  });
});

describe('selectQueries options', () => {
  test('rejects unknown modes and layouts, listing the valid ones, and bad sizes', async () => {
    await useBackend('cpu');
    const feat = tf.zeros([1, 3, 3, 2]) as tf.Tensor4D;
    expect(() => selectQueries(feat, { mode: 'regional' as QueryMode, numQueries: 2 })).toThrow(
      "unknown QS mode 'regional': choose one of global, local, local_global",
    );
    expect(() => selectQueries(feat, { mode: 'local', numQueries: 2, local: { layout: 'cells' as LocalLayout } })).toThrow(
      "unknown local layout 'cells': choose one of official-code, paper-window",
    );
    expect(() => selectQueries(feat, { mode: 'global', numQueries: 0 })).toThrow(/numQueries must be a positive integer/);
    expect(() => selectQueries(feat, { mode: 'global', numQueries: 2, blockSize: 0 })).toThrow(/blockSize/);
    expect(() => selectQueries(feat, { mode: 'local', numQueries: 2, local: { windowSize: 4 } })).toThrow(/odd/);
    feat.dispose();
  });

  test('takes at most H·W queries; ties in index order, NaN last', () => {
    expect([...lowestIds([0.5, 0, 0, Number.NaN, 0.1], 5)]).toEqual([1, 2, 4, 0, 3]);
    expect(lowestIds([3, 1], 2)).toEqual(Int32Array.from([1, 0]));
  });
});
