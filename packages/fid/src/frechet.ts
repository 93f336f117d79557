// The Fréchet distance between two Gaussians, as pytorch-fid's calculate_frechet_distance computes it.
import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { FidError } from './errors';
import { analyseSqrtm, matmul, type SquareMatrix } from './sqrtm';

/** Mean and covariance of features (float64), as pytorch-fid's calculate_activation_statistics gives them. */
export interface FeatureStatistics {
  dims: number;
  count: number;
  mu: Float64Array;
  /** Row-major dims×dims, np.cov (divided by count − 1). */
  sigma: Float64Array;
}

export interface FrechetOptions {
  /** Added to both diagonals when the product has no square root (pytorch-fid's eps). Default 1e-6. */
  eps?: number;
  /** pytorch-fid's printed warnings, e.g. the eps retry. */
  onWarning?: (message: string) => void;
}

export interface FrechetResult {
  fid: number;
  /** The eps offset was added (pytorch-fid's "singular product" retry). */
  retried: boolean;
}

/** A float as Python's str() writes it (1e-06, 0.001), so that messages read as pytorch-fid's. */
function pythonFloat(x: number): string {
  const a = Math.abs(x);
  if (x === 0 || (a >= 1e-4 && a < 1e16)) return Number.isInteger(x) ? `${x}.0` : String(x);
  return x.toExponential().replace(/e([+-])(\d)$/, 'e$10$2');
}

function withOffset(s: Float64Array, n: number, eps: number): SquareMatrix {
  const data = Float64Array.from(s);
  for (let i = 0; i < n; i++) data[i * n + i] += eps;
  return { n, data };
}

function trace(s: Float64Array, n: number): number {
  let t = 0;
  for (let i = 0; i < n; i++) t += s[i * n + i];
  return t;
}

/**
 * d² = ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2√(Σ₁Σ₂)), with pytorch-fid's handling of the square root: when it does not
 * exist, eps is added to both diagonals and it is taken again (NaN if it still does not exist, as scipy's NaN
 * root makes pytorch-fid's FID NaN); a complex root whose diagonal has an imaginary part above 1e-3 is an
 * error ("Imaginary component …"), otherwise its real part is used.
 */
export function frechetDistance(a: Pick<FeatureStatistics, 'mu' | 'sigma'>, b: Pick<FeatureStatistics, 'mu' | 'sigma'>, options: FrechetOptions = {}): FrechetResult {
  const n = a.mu.length;
  if (b.mu.length !== n) throw new FidError(`the means have different lengths (${n} and ${b.mu.length}): compare features of the same --dims`);
  if (a.sigma.length !== n * n || b.sigma.length !== n * n) throw new FidError(`the covariances are not ${n}×${n}`);
  const eps = options.eps ?? 1e-6;
  let analysis = analyseSqrtm(matmul({ n, data: a.sigma }, { n, data: b.sigma }));
  let retried = false;
  if (analysis.noRoot) {
    options.onWarning?.(`fid calculation produces singular product; adding ${pythonFloat(eps)} to diagonal of cov estimates`);
    retried = true;
    analysis = analyseSqrtm(matmul(withOffset(a.sigma, n, eps), withOffset(b.sigma, n, eps)));
    if (analysis.noRoot) options.onWarning?.('Failed to find a square root.');
  }
  if (analysis.complex && !analysis.noRoot) {
    const imag = analysis.diagonalImag();
    let worst = 0;
    for (const v of imag) worst = Number.isNaN(v) || Math.abs(v) > worst ? (Number.isNaN(v) ? NaN : Math.abs(v)) : worst;
    if (!(worst <= 1e-3)) {
      throw new FidError(
        `Imaginary component ${worst} (the largest on the diagonal of the covariance product's square root): the statistics are too ill-conditioned, use more images or smaller --dims`,
      );
    }
  }
  let dist = 0;
  for (let i = 0; i < n; i++) dist += (a.mu[i] - b.mu[i]) ** 2;
  return { fid: dist + trace(a.sigma, n) + trace(b.sigma, n) - 2 * analysis.traceReal, retried };
}

/** Mean and covariance (np.mean, np.cov with rowvar=False) of `count` feature rows of `dims` values. */
export function featureStatistics(features: ArrayLike<number>, count: number, dims: number): FeatureStatistics {
  if (features.length !== count * dims) throw new FidError(`expected ${count}×${dims} feature values, got ${features.length}`);
  if (count < 2) throw new FidError(`statistics need at least 2 images, got ${count}`);
  const mu = new Float64Array(dims);
  for (let r = 0; r < count; r++) for (let j = 0; j < dims; j++) mu[j] += features[r * dims + j];
  for (let j = 0; j < dims; j++) mu[j] /= count;
  const centred = new Float64Array(count * dims);
  for (let r = 0; r < count; r++) for (let j = 0; j < dims; j++) centred[r * dims + j] = features[r * dims + j] - mu[j];
  const sigma = new Float64Array(dims * dims);
  for (let r = 0; r < count; r++) {
    const row = r * dims;
    for (let i = 0; i < dims; i++) {
      const ci = centred[row + i];
      if (ci === 0) continue;
      const out = i * dims;
      for (let j = i; j < dims; j++) sigma[out + j] += ci * centred[row + j];
    }
  }
  for (let i = 0; i < dims; i++) {
    for (let j = i; j < dims; j++) {
      const v = sigma[i * dims + j] / (count - 1);
      sigma[i * dims + j] = v;
      sigma[j * dims + i] = v;
    }
  }
  return { dims, count, mu, sigma };
}

export type FrechetMethod = 'sqrtm' | 'low-rank';

export interface FeatureFrechetResult extends FrechetResult {
  /**
   * 'sqrtm': pytorch-fid's route (the square root of the d×d product, with its eps retry and imaginary check);
   * 'low-rank': fewer images than dims, so Tr √(Σ₁Σ₂) is taken as the nuclear norm of A₁A₂ᵀ (Aᵢ the centred
   * features over √(Nᵢ − 1)), the same number without the d×d eigenproblem.
   */
  method: FrechetMethod;
}

/** Above this size the d×d eigenproblem takes minutes in JS, so fewer images than dims take the low-rank route. */
export const SQRTM_DIMS_LIMIT = 512;

/**
 * The FID of two feature sets (`n1`×`dims`, `n2`×`dims`, row-major). With at most SQRTM_DIMS_LIMIT dims, or
 * at least as many images as dims, it is `frechetDistance` of their statistics, as pytorch-fid computes it.
 * Otherwise Σ₁Σ₂ has rank < dims and its non-zero eigenvalues are the squared singular values of A₁A₂ᵀ, an
 * n1×n2 matrix: the same trace (pytorch-fid's differs from it by the roots of its rounding-level eigenvalues)
 * in milliseconds instead of minutes.
 */
export function frechetDistanceOfFeatures(
  features1: ArrayLike<number>,
  n1: number,
  features2: ArrayLike<number>,
  n2: number,
  dims: number,
  options: FrechetOptions & { method?: FrechetMethod | 'auto' } = {},
): FeatureFrechetResult {
  const a = featureStatistics(features1, n1, dims);
  const b = featureStatistics(features2, n2, dims);
  const auto = dims <= SQRTM_DIMS_LIMIT || Math.min(n1, n2) >= dims ? 'sqrtm' : 'low-rank';
  const method = options.method === undefined || options.method === 'auto' ? auto : options.method;
  if (method === 'sqrtm') return { ...frechetDistance(a, b, options), method };
  const centred = (f: ArrayLike<number>, n: number, mu: Float64Array) => {
    const scale = 1 / Math.sqrt(n - 1);
    const out = new Float64Array(n * dims);
    for (let r = 0; r < n; r++) for (let j = 0; j < dims; j++) out[r * dims + j] = (f[r * dims + j] - mu[j]) * scale;
    return out;
  };
  const a1 = centred(features1, n1, a.mu);
  const a2 = centred(features2, n2, b.mu);
  const c = new Matrix(n1, n2);
  for (let i = 0; i < n1; i++) {
    for (let j = 0; j < n2; j++) {
      let s = 0;
      for (let k = 0; k < dims; k++) s += a1[i * dims + k] * a2[j * dims + k];
      c.set(i, j, s);
    }
  }
  const singular = new SingularValueDecomposition(c, { computeLeftSingularVectors: false, computeRightSingularVectors: false }).diagonal;
  let dist = 0;
  for (let i = 0; i < dims; i++) dist += (a.mu[i] - b.mu[i]) ** 2;
  const traceRoot = singular.reduce((s, v) => s + v, 0);
  return { fid: dist + trace(a.sigma, dims) + trace(b.sigma, dims) - 2 * traceRoot, retried: false, method };
}
