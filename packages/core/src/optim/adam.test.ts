import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { adamUpdateConfigs, ADAM_UPDATE } from '../kernels/shared/adam-update';
import { TEST_BACKENDS, testValues, useBackend } from '../testing/harness';
import { TorchAdam } from './adam';

/** torch.optim.Adam written out in float64 for a scalar parameter. */
function adamReference(p0: number, grads: number[], lr: number, b1: number, b2: number, eps: number): number {
  let p = p0;
  let m = 0;
  let v = 0;
  grads.forEach((g, i) => {
    const t = i + 1;
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g * g;
    p -= (lr / (1 - b1 ** t)) * (m / (Math.sqrt(v) / Math.sqrt(1 - b2 ** t) + eps));
  });
  return p;
}

describe.each(TEST_BACKENDS)('TorchAdam on %s', (backend) => {
  test('matches PyTorch Adam over several steps, and its state round-trips', async () => {
    await useBackend(backend);
    const before = tf.memory().numTensors;
    const initial = tf.tensor1d([0.5, -1.25, 2]);
    const p = tf.variable(initial);
    initial.dispose();
    const opt = new TorchAdam(new Map([['w', p]]), { lr: 2e-4, beta1: 0.5, beta2: 0.999 });
    const grads = [
      [0.1, -0.02, 3],
      [0.05, 0.01, -1],
      [1e-9, 0.2, 0.5],
    ];
    for (const g of grads.slice(0, 2)) {
      const t = tf.tensor1d(g);
      opt.apply({ w: t });
      t.dispose();
    }
    const saved = opt.getState();
    const afterTwo = tf.clone(p);
    const t = tf.tensor1d(grads[2]);
    opt.apply({ w: t });
    const got = await p.data();
    [0.5, -1.25, 2].forEach((p0, i) => {
      expect(got[i]).toBeCloseTo(adamReference(p0, grads.map((g) => g[i]), 2e-4, 0.5, 0.999, 1e-8), 6);
    });
    // Restoring the saved state and replaying the last step gives the same parameters, bit for bit.
    p.assign(afterTwo);
    opt.setState(saved);
    expect(opt.step).toBe(2);
    opt.apply({ w: t });
    expect(Array.from(await p.data())).toEqual(Array.from(got));
    tf.dispose([t, afterTwo, saved.firstMoment.w, saved.secondMoment.w]);
    opt.dispose();
    p.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  test('the fused update kernel gives the op chain’s parameters and moments bit for bit', async () => {
    await useBackend(backend);
    const size = 5000; // below FUSED_ADAM_MAX_SIZE
    // Gradients over many magnitudes, some exactly zero.
    const gradAt = (step: number) =>
      tf.tensor1d(Float32Array.from(testValues(size, 10 + step), (u, i) => (i % 97 === 0 ? 0 : u * 10 ** ((i % 13) - 8))));
    const run = () => {
      const initial = tf.tensor1d(Float32Array.from(testValues(size, 3)));
      const p = tf.variable(initial);
      initial.dispose();
      const opt = new TorchAdam(new Map([['w', p]]), { lr: 2e-4, beta1: 0.5, beta2: 0.999 });
      for (let step = 0; step < 4; step++) {
        const g = gradAt(step);
        opt.apply({ w: g });
        g.dispose();
      }
      const { firstMoment, secondMoment } = opt.getState();
      const out = [p, firstMoment.w, secondMoment.w].map((t) => t.dataSync().slice());
      tf.dispose([firstMoment.w, secondMoment.w]);
      opt.dispose();
      p.dispose();
      return out;
    };
    expect(tf.getKernel(ADAM_UPDATE, backend)).toBeDefined();
    const fused = run();
    tf.unregisterKernel(ADAM_UPDATE, backend);
    try {
      const chain = run();
      fused.forEach((values, k) => expect(values.every((x, i) => Object.is(x, chain[k][i])), ['p', 'm', 'v'][k]).toBe(true));
    } finally {
      tf.registerKernel(adamUpdateConfigs.find((c) => c.backendName === backend)!);
    }
  });
});
