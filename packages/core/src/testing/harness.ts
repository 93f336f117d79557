// Test-only helpers (not exported from the package): backend switching, leak checks, float64 references.
import * as tf from '@tensorflow/tfjs-core';
import '../register';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { expect } from 'vitest';

/** The backends every op is tested on. */
export const TEST_BACKENDS = ['cpu', 'wasm'] as const;
export type TestBackend = (typeof TEST_BACKENDS)[number];

export async function useBackend(name: TestBackend): Promise<void> {
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`backend ${name} failed to initialise`);
  await tf.ready();
}

/** Runs `fn` and fails if it leaves tensors behind (its returned tensors are disposed first). */
export async function expectNoLeaks<T>(fn: () => T | Promise<T>): Promise<void> {
  const before = tf.memory().numTensors;
  const result = await fn();
  tf.dispose(result as tf.TensorContainer);
  expect(tf.memory().numTensors).toBe(before);
}

/** Deterministic pseudo-random float64 values in [-1, 1) (test data only). */
export function testValues(n: number, seed = 1): Float64Array {
  let s = seed >>> 0 || 1;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = (s / 4294967296) * 2 - 1;
  }
  return out;
}

/**
 * Central finite differences of `f` at `x`, in float64: the reference for every gradient test.
 * `f` must be a float64 JS implementation of the computation, independent of tfjs.
 */
export function finiteDifferenceGradient(f: (x: Float64Array) => number, x: Float64Array, h = 1e-6): Float64Array {
  const grad = new Float64Array(x.length);
  const probe = Float64Array.from(x);
  for (let i = 0; i < x.length; i++) {
    probe[i] = x[i] + h;
    const up = f(probe);
    probe[i] = x[i] - h;
    const down = f(probe);
    probe[i] = x[i];
    grad[i] = (up - down) / (2 * h);
  }
  return grad;
}

/** Largest absolute difference, and whether it is within `tol` of the reference's largest magnitude. */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  { rel = 1e-4, abs = 1e-5 }: { rel?: number; abs?: number } = {},
): void {
  expect(actual.length).toBe(expected.length);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  let worst = 0;
  let worstAt = -1;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= worst)) {
      worst = d;
      worstAt = i;
    }
  }
  const bound = abs + rel * scale;
  if (!(worst <= bound)) {
    expect.fail(
      `max |difference| ${worst} at index ${worstAt} (got ${actual[worstAt]}, want ${expected[worstAt]}) exceeds ${bound}`,
    );
  }
}
