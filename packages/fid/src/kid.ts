// The Kernel Inception Distance as torch-fidelity's kid_features_to_metric computes it: the unbiased MMD²
// with the polynomial kernel k(x, y) = (γ x·y + coef0)^degree over `subsets` random subsets of `subsetSize`
// rows of each feature set (numpy RandomState(seed).choice without replacement, first set then second),
// reported as the mean and the (population) standard deviation of the subsets' values.
import { FidError } from './errors';
import { NumpyRandomState } from './mt19937';

export interface KidOptions {
  /** torch-fidelity's kid_subsets (default 100). */
  subsets?: number;
  /** torch-fidelity's kid_subset_size (default 1000); capped at the smaller sample count. */
  subsetSize?: number;
  /** torch-fidelity's rng_seed (default 2020). */
  seed?: number;
  degree?: number;
  /** Default 1 / dims. */
  gamma?: number;
  coef0?: number;
}

export interface KidResult {
  mean: number;
  std: number;
  /** What was used: the subset size after capping, and the number of subsets (1 when every subset is all samples). */
  subsetSize: number;
  subsets: number;
}

/** Dot products of every row of `a` with every row of `b` (float64), row-major [na, nb]. */
function gram(a: ArrayLike<number>, na: number, b: ArrayLike<number>, nb: number, dims: number): Float64Array {
  const out = new Float64Array(na * nb);
  const rowA = new Float64Array(dims);
  const bb = Float64Array.from(b);
  for (let i = 0; i < na; i++) {
    for (let k = 0; k < dims; k++) rowA[k] = a[i * dims + k];
    for (let j = 0; j < nb; j++) {
      let s = 0;
      const off = j * dims;
      for (let k = 0; k < dims; k++) s += rowA[k] * bb[off + k];
      out[i * nb + j] = s;
    }
  }
  return out;
}

/**
 * KID between two feature sets (`n1`×`dims` and `n2`×`dims`, row-major). The subset size is
 * min(subsetSize, n1, n2); when that is both counts, every subset holds all samples and one is taken.
 */
export function kernelInceptionDistance(
  features1: ArrayLike<number>,
  n1: number,
  features2: ArrayLike<number>,
  n2: number,
  dims: number,
  options: KidOptions = {},
): KidResult {
  if (features1.length !== n1 * dims || features2.length !== n2 * dims) throw new FidError(`KID: expected ${n1}×${dims} and ${n2}×${dims} feature values`);
  const m = Math.min(options.subsetSize ?? 1000, n1, n2);
  if (!(m >= 2)) throw new FidError(`KID needs subsets of at least 2 images (got ${m}): use more images or a larger --kid-subset-size`);
  const requested = options.subsets ?? 100;
  if (!Number.isInteger(requested) || requested < 1) throw new FidError(`KID subsets must be a positive integer, got ${requested}`);
  const subsets = m === n1 && m === n2 ? 1 : requested;
  const degree = options.degree ?? 3;
  const gamma = options.gamma ?? 1 / dims;
  const coef0 = options.coef0 ?? 1;
  const kernel = (dot: number) => (dot * gamma + coef0) ** degree;
  const g11 = gram(features1, n1, features1, n1, dims);
  const g22 = gram(features2, n2, features2, n2, dims);
  const g12 = gram(features1, n1, features2, n2, dims);
  const rng = new NumpyRandomState(options.seed ?? 2020);
  const identity = Array.from({ length: m }, (_, i) => i);
  const values: number[] = [];
  for (let s = 0; s < subsets; s++) {
    const x = subsets === 1 && m === n1 && m === n2 ? identity : rng.choice(n1, m);
    const y = subsets === 1 && m === n1 && m === n2 ? identity : rng.choice(n2, m);
    let xx = 0;
    let yy = 0;
    let xy = 0;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < m; j++) {
        if (i !== j) {
          xx += kernel(g11[x[i] * n1 + x[j]]);
          yy += kernel(g22[y[i] * n2 + y[j]]);
        }
        xy += kernel(g12[x[i] * n2 + y[j]]);
      }
    }
    values.push((xx + yy) / (m * (m - 1)) - (2 * xy) / (m * m));
  }
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const std = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length);
  return { mean, std, subsetSize: m, subsets };
}
