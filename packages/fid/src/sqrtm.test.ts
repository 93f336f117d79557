import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FidError } from './errors';
import { frechetDistance } from './frechet';
import { analyseSqrtm, sqrtm, squareMatrix } from './sqrtm';
import { TESTDATA } from './testing/recording';

// scipy.linalg.sqrtm and pytorch-fid's calculate_frechet_distance on small cases (testdata/fid/record.py).
const recorded = JSON.parse(readFileSync(join(TESTDATA, 'sqrtm.json'), 'utf8').replace(/\bNaN\b/g, 'null')) as {
  sqrtm: { label: string; a: number[][]; sqrtm: { re: number[][]; im: number[][] }; finite: boolean }[];
  frechet: { label: string; mu1: number[]; sigma1: number[][]; mu2: number[]; sigma2: number[][]; retry: boolean; fid?: number; error?: string }[];
};

describe('sqrtm against scipy.linalg.sqrtm', () => {
  for (const c of recorded.sqrtm) {
    it(c.label, () => {
      const n = c.a.length;
      const root = sqrtm(squareMatrix(n, c.a.flat()));
      if (!c.finite) {
        expect(root.re.every(Number.isNaN)).toBe(true);
        expect(analyseSqrtm(squareMatrix(n, c.a.flat())).noRoot).toBe(true);
        return;
      }
      const re = c.sqrtm.re.flat();
      const im = c.sqrtm.im.flat();
      for (let i = 0; i < n * n; i++) {
        expect(root.re[i]).toBeCloseTo(re[i], 12);
        expect(root.im[i]).toBeCloseTo(im[i], 12);
      }
      // and it is a root
      const sq = (i: number, j: number) => {
        let s = 0;
        for (let k = 0; k < n; k++) s += root.re[i * n + k] * root.re[k * n + j] - root.im[i * n + k] * root.im[k * n + j];
        return s;
      };
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) expect(sq(i, j)).toBeCloseTo(c.a[i][j], 12);
    });
  }

  it('tells a complex root from a real one, and the trace is the sum of the principal roots', () => {
    const real = analyseSqrtm(squareMatrix(2, [4, 0, 0, 9]));
    expect(real.complex).toBe(false);
    expect(real.traceReal).toBeCloseTo(5, 14);
    const negative = analyseSqrtm(squareMatrix(2, [-4, 1, 0, 9]));
    expect(negative.complex).toBe(true);
    expect(negative.traceReal).toBeCloseTo(3, 14);
    expect(Array.from(negative.diagonalImag()).map((v) => +v.toFixed(12))).toEqual([2, 0]);
  });
});

describe('frechetDistance against pytorch-fid', () => {
  for (const c of recorded.frechet) {
    it(c.label, () => {
      const a = { mu: Float64Array.from(c.mu1), sigma: Float64Array.from(c.sigma1.flat()) };
      const b = { mu: Float64Array.from(c.mu2), sigma: Float64Array.from(c.sigma2.flat()) };
      const warnings: string[] = [];
      if (c.error !== undefined) {
        expect(() => frechetDistance(a, b, { onWarning: (m) => warnings.push(m) })).toThrow(FidError);
        expect(() => frechetDistance(a, b)).toThrow(new RegExp(`^${c.error.replace('.', '\\.')}`));
        return;
      }
      const result = frechetDistance(a, b, { onWarning: (m) => warnings.push(m) });
      expect(result.retried).toBe(c.retry);
      expect(warnings.length > 0).toBe(c.retry);
      if (c.retry) expect(warnings[0]).toBe('fid calculation produces singular product; adding 1e-06 to diagonal of cov estimates');
      // Near-zero eigenvalues (rank-deficient covariances) have roots ~1e-8 that rounding moves: looser there.
      const tolerance = c.label.startsWith('rank deficient') ? 1e-6 : 1e-9;
      expect(Math.abs(result.fid - c.fid!)).toBeLessThanOrEqual(tolerance * Math.max(1, Math.abs(c.fid!)));
    });
  }

  it('rejects statistics of different sizes', () => {
    const a = { mu: new Float64Array(2), sigma: new Float64Array(4) };
    const b = { mu: new Float64Array(3), sigma: new Float64Array(9) };
    expect(() => frechetDistance(a, b)).toThrow(/different lengths \(2 and 3\)/);
  });
});
