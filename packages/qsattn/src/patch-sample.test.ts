import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@qsattn/core';
import { describe, expect, test } from 'vitest';
import { TEST_BACKENDS, expectClose, expectNoLeaks, useBackend } from '../../core/src/testing/harness';
import { ProjectionHead } from './mlp-head';
import { nceLoss } from './nce-loss';
import { defaultQsLayers, keyPass, queryPass } from './patch-sample';
import type { QueryMode } from './query-mode';

const SHAPES: [number, number, number, number][] = [
  [2, 8, 8, 3],
  [2, 8, 8, 4],
  [2, 4, 4, 6],
  [2, 4, 4, 6],
];

function makeFeatures(seed: number): tf.Tensor4D[] {
  return SHAPES.map((shape, i) => tf.randomNormal(shape, 0, 1, 'float32', seed + i) as tf.Tensor4D);
}

describe('defaultQsLayers', () => {
  test('is the official rule: the fourth and later NCE layers', () => {
    expect(defaultQsLayers(5)).toEqual([3, 4]);
    expect(defaultQsLayers(3)).toEqual([]);
  });
});

describe.each(TEST_BACKENDS)('key and query passes on %s', (backend) => {
  test.each(['global', 'local', 'local_global'] as QueryMode[])('%s: the query pass reuses the key pass choices; seeded runs repeat; no leaks', async (mode) => {
    await useBackend(backend);
    const head = ProjectionHead.create({ channels: SHAPES.map((s) => s[3]), nc: 8, rng: new Rng(1) });
    const featK = makeFeatures(10);
    const featQ = makeFeatures(20);
    const options = { mode, numPatches: 5, qsLayers: [2, 3], patchIds: new Rng(7) };
    await expectNoLeaks(() => {
      const key = keyPass(head, featK, { ...options, patchIds: new Rng(7) });
      const again = keyPass(head, featK, { ...options, patchIds: new Rng(7) });
      expect(key.samples.map((s) => s.kind)).toEqual(['random', 'random', 'query', 'query']);
      expect(key.samples.map((s) => (s.kind === 'random' ? [s.ids] : s.ids))).toEqual(
        again.samples.map((s) => (s.kind === 'random' ? [s.ids] : s.ids)),
      );
      expect(key.pooled.map((p) => p.shape)).toEqual(SHAPES.map(() => [10, 8]));
      // The key pass's own pooling equals a query pass over the same features.
      const same = queryPass(head, featK, key.samples);
      same.forEach((p, l) => expectClose(p.dataSync(), key.pooled[l].dataSync(), { rel: 1e-6, abs: 1e-7 }));
      const q = queryPass(head, featQ, key.samples);
      return [key.pooled, again.pooled, same, q, key.samples.map((s) => (s.kind === 'query' ? s.attn : [])), again.samples.map((s) => (s.kind === 'query' ? s.attn : []))];
    });
    tf.dispose([...featK, ...featQ]);
    head.dispose();
  });

  test('the NCE gradient reaches the source features through the key attention only on QS layers', async () => {
    await useBackend(backend);
    const head = ProjectionHead.create({ channels: SHAPES.map((s) => s[3]), nc: 8, rng: new Rng(2) });
    const featK = makeFeatures(30);
    const featQ = makeFeatures(40);
    const featKVariables = featK.map((f) => tf.variable(f));
    const { value, grads } = tf.variableGrads(
      () => nceLoss(head, featKVariables, featQ, { mode: 'global', numPatches: 6, qsLayers: [3], patchIds: new Rng(3) }).loss,
      featKVariables,
    );
    // The random layers' keys are detached: no gradient at all, as with PyTorch's detach.
    expect(featKVariables.map((v) => grads[v.name] != null)).toEqual([false, false, false, true]);
    const g = await grads[featKVariables[3].name].data();
    expect(g.every(Number.isFinite)).toBe(true);
    expect(g.some((v) => v !== 0)).toBe(true);
    tf.dispose([value, ...Object.values(grads), ...featKVariables]);
    tf.dispose([...featK, ...featQ]);
    head.dispose();
  });

  test('rejects bad options', async () => {
    await useBackend(backend);
    const head = ProjectionHead.create({ channels: SHAPES.map((s) => s[3]), nc: 8, rng: new Rng(1) });
    const feats = makeFeatures(50);
    const base = { mode: 'global' as QueryMode, numPatches: 4, patchIds: new Rng(0) };
    expect(() => keyPass(head, feats, { ...base, mode: 'hybrid' as QueryMode })).toThrow(
      "unknown QS mode 'hybrid': choose one of global, local, local_global",
    );
    expect(() => keyPass(head, feats, { ...base, numPatches: 0 })).toThrow(/numPatches must be a positive integer, got 0/);
    expect(() => keyPass(head, feats, { ...base, numPatches: -1 })).toThrow(/numPatches/);
    expect(() => keyPass(head, feats, { ...base, qsLayers: [4] })).toThrow(/qsLayers entry 4/);
    expect(() => keyPass(head, feats.slice(1), base)).toThrow(/3 layer\(s\) for a projection head of 4/);
    expect(() => keyPass(head, feats, { ...base, patchIds: [[0, 1]] })).toThrow(/no ids for random layer 1/);
    tf.dispose(feats);
    head.dispose();
  });
});
