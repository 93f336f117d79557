import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';
import { useBackend } from '../testing/harness';
import { initWeight, kaimingNormal, orthogonal, torchFans, xavierNormal } from './initializers';
import { Rng } from './rng';

function std(values: Float32Array): number {
  let s = 0;
  let s2 = 0;
  for (const v of values) {
    s += v;
    s2 += v * v;
  }
  const m = s / values.length;
  return Math.sqrt(s2 / values.length - m * m);
}

describe('initializers', () => {
  beforeAll(() => useBackend('cpu'));

  test('fans follow PyTorch: dim 1 in, dim 0 out, times the receptive field', () => {
    expect(torchFans([64, 3, 7, 7])).toEqual({ fanIn: 147, fanOut: 3136 });
    expect(torchFans([256, 128])).toEqual({ fanIn: 128, fanOut: 256 });
    expect(() => torchFans([5])).toThrow(/at least 2 dims/);
  });

  test('xavier normal with gain 0.02 has std 0.02·√(2/(fan_in+fan_out))', () => {
    const shape = [128, 64, 3, 3];
    const w = xavierNormal(shape, new Rng(0), 0.02);
    expect(std(w) / (0.02 * Math.sqrt(2 / (64 * 9 + 128 * 9)))).toBeCloseTo(1, 1);
  });

  test('kaiming normal (a=0, fan_in) has std √(2/fan_in)', () => {
    const w = kaimingNormal([64, 32, 3, 3], new Rng(1));
    expect(std(w) / Math.sqrt(2 / (32 * 9))).toBeCloseTo(1, 1);
  });

  test('orthogonal rows (wide) and columns (tall) are orthonormal times the gain', () => {
    for (const [rows, cols] of [
      [4, 10],
      [10, 4],
    ]) {
      const gain = 0.5;
      const w = orthogonal([rows, cols], new Rng(2), gain);
      const fewer = Math.min(rows, cols);
      for (let a = 0; a < fewer; a++)
        for (let b = 0; b < fewer; b++) {
          let dot = 0;
          for (let k = 0; k < Math.max(rows, cols); k++) {
            dot += rows < cols ? w[a * cols + k] * w[b * cols + k] : w[k * cols + a] * w[k * cols + b];
          }
          expect(dot).toBeCloseTo(a === b ? gain * gain : 0, 5);
        }
    }
  });

  test('initWeight is reproducible from the seed and names the valid types', () => {
    const a = initWeight([8, 3, 7, 7], { type: 'xavier' }, new Rng(5));
    const b = initWeight([8, 3, 7, 7], { type: 'xavier' }, new Rng(5));
    expect(a.shape).toEqual([8, 3, 7, 7]);
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    expect(() => initWeight([2, 2], { type: 'uniform' } as never, new Rng(0))).toThrow(
      /normal, xavier, kaiming, orthogonal/,
    );
    tf.dispose([a, b]);
  });
});
