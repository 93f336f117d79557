// SPEC's rules for "the same numbers", shared by the tests and the `conformance` command.

export interface Comparison {
  /** Largest absolute difference (for weights after the step: the fraction of elements outside). */
  error: number;
  tolerance: number;
  ok: boolean;
}

function maxAbs(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]));
  return m;
}

export function maxDiff(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Infinity;
  let m = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= m)) m = d; // NaN propagates as a failure
  }
  return m;
}

/** Forward values and losses: within 1e-4 relative to the tensor's largest magnitude, or 1e-5 absolute. */
export function compareValues(actual: ArrayLike<number>, expected: ArrayLike<number>): Comparison {
  const error = maxDiff(actual, expected);
  const tolerance = Math.max(1e-5, 1e-4 * maxAbs(expected));
  return { error, tolerance, ok: error <= tolerance };
}

/**
 * Gradients: within 1e-3 of the tensor's largest magnitude (or `FLOAT32_MIN_NORMAL`). A tensor whose gradient is zero in exact arithmetic
 * (`exactlyZero`: the bias of a conv followed by instance norm, which removes it) holds only rounding noise in
 * both implementations, so it is measured against its network's largest gradient instead.
 */
export function compareGradient(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  { networkMax = 0, exactlyZero = false }: { networkMax?: number; exactlyZero?: boolean } = {},
): Comparison {
  const error = maxDiff(actual, expected);
  const tolerance = Math.max(1e-3 * (exactlyZero ? networkMax : maxAbs(expected)), FLOAT32_MIN_NORMAL);
  return { error, tolerance, ok: error <= tolerance };
}

/**
 * float32's smallest normal number, 2^-126. Below it float32 has no relative precision left (denormals carry
 * fewer bits, and an implementation may flush them to 0), so a gradient whose largest magnitude is smaller is
 * compared as zero: within this, absolutely.
 */
export const FLOAT32_MIN_NORMAL = 2 ** -126;

/**
 * Weights after the step: at least 99.9 % of elements within 1e-6. Adam's first step moves every element by
 * about lr·sign(g), so where the recorded gradient is itself within the gradient tolerance of zero (float
 * noise: its sign is arbitrary in both implementations) an element may differ by up to two steps, `2·lr`.
 */
export function compareAfterStep(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  recordedGrad: ArrayLike<number>,
  gradTolerance: number,
  lr: number,
): Comparison {
  if (actual.length !== expected.length) return { error: 1, tolerance: 0.001, ok: false };
  let outside = 0;
  for (let i = 0; i < expected.length; i++) {
    const allowed = Math.abs(recordedGrad[i]) <= gradTolerance ? 2 * lr + 1e-6 : 1e-6;
    if (!(Math.abs(actual[i] - expected[i]) <= allowed)) outside++;
  }
  const error = outside / expected.length;
  return { error, tolerance: 0.001, ok: error <= 0.001 };
}

export { maxAbs };
