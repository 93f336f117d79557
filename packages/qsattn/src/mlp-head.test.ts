import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@qsattn/core';
import { describe, expect, test } from 'vitest';
import { TEST_BACKENDS, expectClose, expectNoLeaks, useBackend } from '../../core/src/testing/harness';
import { ProjectionHead } from './mlp-head';

describe.each(TEST_BACKENDS)('ProjectionHead on %s', (backend) => {
  test('builds one MLP per layer up front, xavier(0.02) weights and zero biases, torch names', async () => {
    await useBackend(backend);
    const before = tf.memory().numTensors;
    const head = ProjectionHead.create({ channels: [3, 16, 32], nc: 64, rng: new Rng(0) });
    expect(head.numLayers).toBe(3);
    expect(head.channels).toEqual([3, 16, 32]);
    expect(head.nc).toBe(64);
    const torch = head.toTorch();
    expect(Object.keys(torch).sort()).toEqual(
      [0, 1, 2].flatMap((l) => [`mlp_${l}.0.bias`, `mlp_${l}.0.weight`, `mlp_${l}.2.bias`, `mlp_${l}.2.weight`]).sort(),
    );
    expect(torch['mlp_1.0.weight'].shape).toEqual([64, 16]);
    expect(torch['mlp_1.2.weight'].shape).toEqual([64, 64]);
    expect((await torch['mlp_2.0.bias'].data()).every((v) => v === 0)).toBe(true);
    const w = Array.from(await torch['mlp_2.2.weight'].data());
    const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
    expect(std).toBeGreaterThan(0.02 * Math.sqrt(2 / 128) * 0.9);
    expect(std).toBeLessThan(0.02 * Math.sqrt(2 / 128) * 1.1);
    // Same seed, same weights: a run can be replayed.
    const again = ProjectionHead.create({ channels: [3, 16, 32], nc: 64, rng: new Rng(0) }).toTorch();
    expectClose(await again['mlp_0.0.weight'].data(), await torch['mlp_0.0.weight'].data(), { rel: 0, abs: 0 });
    tf.dispose([...Object.values(torch), ...Object.values(again)]);
    head.dispose();
    expect(tf.memory().numTensors).toBe(before + 12); // `again`'s head was not disposed
  });

  test('loads and exports PyTorch weights ([out, in]), and projects as MLP · x / (‖x‖ + 1e-7)', async () => {
    await useBackend(backend);
    const source = ProjectionHead.create({ channels: [4, 6], nc: 8, rng: new Rng(5) });
    const exported = source.toTorch();
    const loaded = ProjectionHead.fromTorch(exported);
    const roundTrip = loaded.toTorch();
    for (const name of Object.keys(exported)) expectClose(await roundTrip[name].data(), await exported[name].data(), { rel: 0, abs: 0 });
    const x = tf.randomNormal([5, 6], 0, 1, 'float32', 3) as tf.Tensor2D;
    await expectNoLeaks(async () => {
      const y = loaded.project(1, x);
      expect(y.shape).toEqual([5, 8]);
      // With the 0.02-gain init ‖z‖ is ~1e-4, so the 1e-7 outside the root visibly matters.
      const reference = tf.tidy(() => {
        const h = tf.relu(tf.add(tf.matMul(x, exported['mlp_1.0.weight'], false, true), exported['mlp_1.0.bias']));
        const z = tf.add(tf.matMul(h, exported['mlp_1.2.weight'], false, true), exported['mlp_1.2.bias']);
        return tf.div(z, tf.add(tf.norm(z, 2, 1, true), 1e-7));
      });
      expectClose(await y.data(), await reference.data(), { rel: 1e-5, abs: 1e-6 });
      reference.dispose();
      return y;
    });
    expect(() => loaded.project(2, x)).toThrow(/outside the head's 2 layers/);
    tf.dispose([x, ...Object.values(exported), ...Object.values(roundTrip)]);
    source.dispose();
    loaded.dispose();
  });

  test('rejects malformed weights', async () => {
    await useBackend(backend);
    const w = tf.zeros([8, 4]);
    const b = tf.zeros([8]);
    expect(() => ProjectionHead.fromTorch({ 'mlp_0.1.weight': w })).toThrow(/unexpected projection head weight 'mlp_0.1.weight'/);
    expect(() => ProjectionHead.fromTorch({ 'mlp_0.0.weight': w, 'mlp_0.0.bias': b })).toThrow(/lack mlp_0.2.weight, mlp_0.2.bias/);
    expect(() => ProjectionHead.create({ channels: [], rng: new Rng(0) })).toThrow(/at least one layer/);
    tf.dispose([w, b]);
  });
});
