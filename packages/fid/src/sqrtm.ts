// The matrix square root of the covariance product, as far as pytorch-fid uses scipy.linalg.sqrtm: its trace,
// whether it is complex, the imaginary part of its diagonal, and whether scipy finds no root at all.
//
// scipy takes the Schur form A = Z T Zᴴ and solves R² = T column by column; the result is real only when every
// eigenvalue is real and ≥ 0, and it gives up (all NaN) when two diagonal entries of R add to zero where T
// needs a non-zero entry between them: a defective zero eigenvalue (A has no square root). We use the
// eigendecomposition A = V Λ V⁻¹ of ml-matrix (Francis QR, as LAPACK), which gives the same quantities:
//   trace √A = Σ √λᵢ (principal roots), exactly the trace of R;
//   Im diag √A = Σ over negative real λₖ of √|λₖ| · V[j, k] · V⁻¹[k, j] (a complex pair adds a real term);
//   no root ⇔ a repeated zero eigenvalue whose eigenvectors are dependent (or a non-finite decomposition).
// For the FID, A = Σ₁Σ₂ with Σ PSD, whose eigenvalues are real and ≥ 0 up to rounding.
import { EigenvalueDecomposition, LuDecomposition, Matrix, QrDecomposition, inverse } from 'ml-matrix';

/** A square matrix, row-major in float64. */
export interface SquareMatrix {
  n: number;
  data: Float64Array;
}

export function squareMatrix(n: number, data: ArrayLike<number>): SquareMatrix {
  if (data.length !== n * n) throw new Error(`a ${n}×${n} matrix needs ${n * n} values, got ${data.length}`);
  return { n, data: Float64Array.from(data) };
}

/** A·B for row-major float64 matrices (i-k-j order, contiguous inner loop). */
export function matmul(a: SquareMatrix, b: SquareMatrix): SquareMatrix {
  const n = a.n;
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const row = i * n;
    for (let k = 0; k < n; k++) {
      const aik = a.data[row + k];
      if (aik === 0) continue;
      const bk = k * n;
      for (let j = 0; j < n; j++) out[row + j] += aik * b.data[bk + j];
    }
  }
  return { n, data: out };
}

function toMatrix(a: SquareMatrix): Matrix {
  return Matrix.from1DArray(a.n, a.n, a.data);
}

/** The principal square root of a + bi. */
function complexSqrt(re: number, im: number): [number, number] {
  if (im === 0) return re >= 0 ? [Math.sqrt(re), 0] : [0, Math.sqrt(-re)];
  const r = Math.hypot(re, im);
  const x = Math.sqrt((r + re) / 2);
  return [x, im / (2 * x)];
}

export interface SqrtmAnalysis {
  /** Σ Re √λᵢ: the real part of the trace of √A. */
  traceReal: number;
  /** scipy's result would be complex: some eigenvalue is negative or not real. */
  complex: boolean;
  /** scipy finds no square root (its result is all NaN). */
  noRoot: boolean;
  eigenvaluesRe: Float64Array;
  eigenvaluesIm: Float64Array;
  /** The imaginary part of diag(√A) (zeros when the root is real); NaN entries when V is singular. */
  diagonalImag(): Float64Array;
}

function eigenvectorsDependent(vectors: Matrix, columns: number[]): boolean {
  const sub = new Matrix(vectors.rows, columns.length);
  columns.forEach((c, j) => {
    let norm = 0;
    for (let i = 0; i < vectors.rows; i++) norm += vectors.get(i, c) ** 2;
    norm = Math.sqrt(norm);
    for (let i = 0; i < vectors.rows; i++) sub.set(i, j, norm === 0 ? 0 : vectors.get(i, c) / norm);
  });
  const r = new QrDecomposition(sub).upperTriangularMatrix;
  for (let j = 0; j < columns.length; j++) if (!(Math.abs(r.get(j, j)) > 1e-10)) return true;
  return false;
}

/** What pytorch-fid reads from `scipy.linalg.sqrtm(a)`, from one eigendecomposition of `a`. */
export function analyseSqrtm(a: SquareMatrix): SqrtmAnalysis {
  return decompose(a).analysis;
}

function decompose(a: SquareMatrix): { analysis: SqrtmAnalysis; vectors: Matrix } {
  const n = a.n;
  const evd = new EigenvalueDecomposition(toMatrix(a), { assumeSymmetric: false });
  const re = Float64Array.from(evd.realEigenvalues);
  const im = Float64Array.from(evd.imaginaryEigenvalues);
  const vectors = evd.eigenvectorMatrix;
  let finite = true;
  for (let i = 0; i < n && finite; i++) finite = Number.isFinite(re[i]) && Number.isFinite(im[i]);
  if (finite) for (const row of vectors.to2DArray()) if (!row.every(Number.isFinite)) finite = false;

  let traceReal = 0;
  let complex = false;
  const zeros: number[] = [];
  const negatives: number[] = [];
  for (let i = 0; i < n; i++) {
    traceReal += complexSqrt(re[i], im[i])[0];
    if (im[i] !== 0 || re[i] < 0) complex = true;
    if (im[i] === 0 && re[i] < 0) negatives.push(i);
    if (im[i] === 0 && re[i] === 0) zeros.push(i);
  }
  const noRoot = !finite || (zeros.length >= 2 && eigenvectorsDependent(vectors, zeros));

  const analysis: SqrtmAnalysis = {
    traceReal: noRoot ? NaN : traceReal,
    complex,
    noRoot,
    eigenvaluesRe: re,
    eigenvaluesIm: im,
    diagonalImag() {
      const out = new Float64Array(n);
      if (negatives.length === 0) return out;
      const lu = new LuDecomposition(vectors.transpose());
      if (lu.isSingular()) return out.fill(NaN);
      // Row k of V⁻¹ solves Vᵀ w = e_k.
      const rhs = new Matrix(n, negatives.length);
      negatives.forEach((k, j) => rhs.set(k, j, 1));
      const rows = lu.solve(rhs);
      for (let j = 0; j < n; j++) {
        let s = 0;
        negatives.forEach((k, c) => (s += Math.sqrt(-re[k]) * vectors.get(j, k) * rows.get(j, c)));
        out[j] = s;
      }
      return out;
    },
  };
  return { analysis, vectors };
}

/**
 * The full principal square root V √Λ V⁻¹ (real and imaginary parts, row-major), NaN where scipy finds no
 * root. For checks on small matrices: FID only needs `analyseSqrtm`.
 */
export function sqrtm(a: SquareMatrix): { re: Float64Array; im: Float64Array } {
  const n = a.n;
  const { analysis, vectors: v } = decompose(a);
  if (analysis.noRoot) return { re: new Float64Array(n * n).fill(NaN), im: new Float64Array(n * n) };
  const { eigenvaluesRe: lre, eigenvaluesIm: lim } = analysis;
  // Complex eigenvectors: for a pair λ = d ± ie (e > 0 first), ml-matrix stores Re v, Im v in two columns.
  const vr = new Matrix(n, n);
  const vi = new Matrix(n, n);
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < n; i++) {
      if (lim[k] === 0) vr.set(i, k, v.get(i, k));
      else if (lim[k] > 0) {
        vr.set(i, k, v.get(i, k));
        vi.set(i, k, v.get(i, k + 1));
      } else {
        vr.set(i, k, v.get(i, k - 1));
        vi.set(i, k, -v.get(i, k));
      }
    }
  }
  // Complex inverse through the real embedding [[X, −Y], [Y, X]].
  const big = new Matrix(2 * n, 2 * n);
  big.setSubMatrix(vr, 0, 0).setSubMatrix(vi.clone().mul(-1), 0, n).setSubMatrix(vi, n, 0).setSubMatrix(vr, n, n);
  const bigInv = inverse(big);
  const wr = bigInv.subMatrix(0, n - 1, 0, n - 1);
  const wi = bigInv.subMatrix(n, 2 * n - 1, 0, n - 1);
  const re = new Float64Array(n * n);
  const im = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const [sr, si] = complexSqrt(lre[k], lim[k]);
    for (let i = 0; i < n; i++) {
      // (V √Λ)[i, k]
      const ar = vr.get(i, k) * sr - vi.get(i, k) * si;
      const ai = vr.get(i, k) * si + vi.get(i, k) * sr;
      for (let j = 0; j < n; j++) {
        re[i * n + j] += ar * wr.get(k, j) - ai * wi.get(k, j);
        im[i * n + j] += ar * wi.get(k, j) + ai * wr.get(k, j);
      }
    }
  }
  return { re, im };
}
