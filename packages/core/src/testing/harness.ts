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

/**
 * Runs `fn` with the named kernels of the active backend unregistered, then registers them again: to test the op
 * chains that backends without those kernels (webgpu) run.
 */
export async function withoutKernels<T>(names: readonly string[], fn: () => T | Promise<T>): Promise<T> {
  const backend = tf.getBackend();
  const configs = names.map((name) => tf.getKernel(name, backend)).filter((k): k is tf.KernelConfig => k != null);
  for (const config of configs) tf.unregisterKernel(config.kernelName, backend);
  try {
    return await fn();
  } finally {
    for (const config of configs) tf.registerKernel(config);
  }
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

export interface RefArray {
  values: Float64Array;
  shape: number[];
}

export interface OpCheck {
  /** Input shapes; inputs are deterministic pseudo-random values rounded to float32. */
  inputs: number[][];
  op: (...inputs: tf.Tensor[]) => tf.Tensor;
  /** Float64 reference of the same computation, independent of tfjs. */
  reference: (...inputs: RefArray[]) => RefArray;
  /** Inputs whose gradient is checked (default: all). */
  gradientOf?: number[];
  seed?: number;
  /** Override the input values (e.g. to avoid kinks of ReLU-like ops). */
  values?: (i: number, n: number) => Float64Array;
}

/**
 * The per-op checklist on the active backend: output shape and values against the float64 reference, the
 * gradient of Σ r·op(x) (r fixed and random) against central finite differences of the reference, and no
 * leaked tensors.
 */
export async function checkOp(check: OpCheck): Promise<void> {
  const seed = check.seed ?? 7;
  const inputs: RefArray[] = check.inputs.map((shape, i) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const raw = check.values ? check.values(i, n) : testValues(n, seed + 101 * i);
    return { values: raw.map((v) => Math.fround(v)), shape };
  });
  const expected = check.reference(...inputs);
  const weights = testValues(expected.values.length, seed + 999).map((v) => Math.fround(v));

  const before = tf.memory().numTensors;
  const tensors = inputs.map((a) => tf.tensor(Float32Array.from(a.values), a.shape));
  const weightTensor = tf.tensor(Float32Array.from(weights), expected.shape);
  const out = check.op(...tensors);
  expect(out.shape).toEqual(expected.shape);
  const outValues = await out.data();
  expectClose(outValues, expected.values);
  out.dispose();

  const which = check.gradientOf ?? inputs.map((_, i) => i);
  const loss = (...xs: tf.Tensor[]): tf.Scalar => tf.sum(tf.mul(check.op(...xs), weightTensor));
  const grads = tf.grads(loss)(tensors);
  for (const i of which) {
    const refLoss = (probe: Float64Array): number => {
      const args = inputs.map((a, j) => (j === i ? { values: probe, shape: a.shape } : a));
      const y = check.reference(...args).values;
      let s = 0;
      for (let k = 0; k < y.length; k++) s += y[k] * weights[k];
      return s;
    };
    const numeric = finiteDifferenceGradient(refLoss, inputs[i].values);
    expect(grads[i].shape).toEqual(inputs[i].shape);
    expectClose(await grads[i].data(), numeric, { rel: 1e-4, abs: 1e-5 });
  }
  tf.dispose([...grads, ...tensors, weightTensor]);
  expect(tf.memory().numTensors).toBe(before);
}
